"""What a holder's page may see of a challenge: its public part and the addresses of its media.

The same view feeds the HTTP API and the ``CaptchaChallengeIssued`` announcement, so both always show the
same pictures; the answer never appears in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.captcha.domain.challenge import Challenge, ChallengeKind
from services.captcha.use_cases.ports import ChallengeReader

API = "/api/v1/captcha"
TEXT_PICTURE_ID = "text"


@dataclass(frozen=True, slots=True)
class Picture:
    picture_id: str  # a choice's opaque id, or "text" for the characters to type
    url: str


@dataclass(frozen=True, slots=True)
class ChallengeView:
    challenge_id: str
    request_id: str
    kind: ChallengeKind
    prompt_word: str | None  # image: the word to find; text: None (the characters are in the picture)
    pictures: tuple[Picture, ...]
    audio_url: str
    expires_at: datetime
    attempts_left: int
    renewals_left: int
    status: str


def picture_url(challenge_id: str, choice_id: str) -> str:
    return f"{API}/challenges/{challenge_id}/pictures/{choice_id}"


def text_picture_url(challenge_id: str) -> str:
    return f"{API}/challenges/{challenge_id}/picture"


def audio_url(challenge_id: str) -> str:
    return f"{API}/challenges/{challenge_id}/audio"


def view_of(challenge: Challenge) -> ChallengeView:
    public = challenge.public()
    cid = challenge.challenge_id
    if challenge.kind is ChallengeKind.TEXT:
        pictures: tuple[Picture, ...] = (Picture(TEXT_PICTURE_ID, text_picture_url(cid)),)
    else:
        pictures = tuple(Picture(c, picture_url(cid, c)) for c in public.choice_ids)
    return ChallengeView(
        challenge_id=cid,
        request_id=challenge.request_id,
        kind=challenge.kind,
        prompt_word=public.prompt_word,
        pictures=pictures,
        audio_url=audio_url(cid),
        expires_at=public.expires_at,
        attempts_left=public.attempts_left,
        renewals_left=public.renewals_left,
        status=challenge.status.value,
    )


async def current_challenge(store: ChallengeReader, request_id: str) -> ChallengeView | None:
    """The request's current challenge, or ``None`` if the request has none (unknown, or lost in a wipe)."""
    challenge_id = await store.current_id(request_id)
    challenge = await store.get(challenge_id) if challenge_id else None
    return view_of(challenge) if challenge else None


async def challenge(store: ChallengeReader, challenge_id: str) -> ChallengeView | None:
    found = await store.get(challenge_id)
    return view_of(found) if found else None
