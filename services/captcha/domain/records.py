"""Challenge ⇄ plain JSON-able dict, for the store adapter (Redis value with a TTL).

Pure mapping, no I/O: the adapter does ``json.dumps`` and sets the key's TTL to a little past
``expires_at`` (a dead challenge must stay long enough to answer "expired" rather than "unknown", and
to keep counting renewals). The record holds the secret answer: it is server-side only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.captcha.domain.challenge import (
    Challenge,
    ChallengeKind,
    ChallengeStatus,
    Choice,
    ExpectedAnswer,
)

RECORD_VERSION = 1


def challenge_to_record(challenge: Challenge) -> dict[str, Any]:
    e = challenge.expected
    return {
        "v": RECORD_VERSION,
        "challenge_id": challenge.challenge_id,
        "request_id": challenge.request_id,
        "kind": challenge.kind.value,
        "prompt_word": challenge.prompt_word,
        "choices": [[c.choice_id, c.key] for c in challenge.choices],
        "expected": {
            "choice_id": e.choice_id,
            "words": sorted(e.words),
            "characters": e.characters,
            "spoken": e.spoken,
        },
        "attempts_left": challenge.attempts_left,
        "issued_at": challenge.issued_at.isoformat(),
        "expires_at": challenge.expires_at.isoformat(),
        "renewals": challenge.renewals,
        "renewal_cap": challenge.renewal_cap,
        "status": challenge.status.value,
    }


def challenge_from_record(record: dict[str, Any]) -> Challenge:
    """Inverse of :func:`challenge_to_record`; ``KeyError``/``ValueError`` on a malformed record."""
    if record.get("v") != RECORD_VERSION:
        raise ValueError(f"unsupported challenge record version {record.get('v')!r}")
    e = record["expected"]
    return Challenge(
        challenge_id=str(record["challenge_id"]),
        request_id=str(record["request_id"]),
        kind=ChallengeKind(record["kind"]),
        prompt_word=record["prompt_word"],
        choices=tuple(Choice(choice_id=str(cid), key=str(key)) for cid, key in record["choices"]),
        expected=ExpectedAnswer(
            choice_id=e["choice_id"],
            words=frozenset(str(w) for w in e["words"]),
            characters=e["characters"],
            spoken=str(e["spoken"]),
        ),
        attempts_left=int(record["attempts_left"]),
        issued_at=datetime.fromisoformat(record["issued_at"]),
        expires_at=datetime.fromisoformat(record["expires_at"]),
        renewals=int(record["renewals"]),
        renewal_cap=int(record["renewal_cap"]),
        status=ChallengeStatus(record["status"]),
    )
