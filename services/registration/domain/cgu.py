"""Acceptance of the terms of use (CGU) recorded as a fact: which text, when, through which channel.

Keycloak keeps a bare timestamp; we keep the version and the SHA-256 of the exact text shown, so
that "which CGU did this holder accept?" has a provable answer and a new text can require a new
acceptance (:func:`needs_reacceptance`).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.registration.domain.errors import DomainError, FieldError

Channel = Literal["web", "api"]  # as in contracts.registration.SecurityCheckRequested.channel
_SHA256 = re.compile(r"[0-9a-f]{64}")

CGU_REQUIRED = FieldError(
    "cgu_accepted",
    "required",
    "Cochez la case « J'ai lu et j'accepte les conditions générales d'utilisation » pour créer votre compte.",
)


class CguNotAccepted(DomainError):
    code = "cgu_not_accepted"


@dataclass(frozen=True, slots=True)
class CguDocument:
    """A published version of the CGU: its label and the hash of its exact text."""

    version: str
    text_sha256: str

    def __post_init__(self) -> None:
        if not self.version.strip():
            raise ValueError("a CGU version is required")
        if not _SHA256.fullmatch(self.text_sha256):
            raise ValueError("text_sha256 must be 64 lower-case hex characters")

    @classmethod
    def from_text(cls, version: str, text: str | bytes) -> CguDocument:
        data = text.encode("utf-8") if isinstance(text, str) else text
        return cls(version, hashlib.sha256(data).hexdigest())


@dataclass(frozen=True, slots=True)
class CguAcceptance:
    version: str
    text_sha256: str
    accepted_at: datetime
    channel: Channel

    def as_dict(self) -> dict[str, str]:
        return {
            "version": self.version,
            "text_sha256": self.text_sha256,
            "accepted_at": self.accepted_at.isoformat(),
            "channel": self.channel,
        }


def accept_cgu(document: CguDocument, accepted: bool, at: datetime, channel: Channel) -> CguAcceptance:
    """Record the acceptance; raises :class:`CguNotAccepted` when the box was not ticked."""
    if not accepted:
        raise CguNotAccepted(CGU_REQUIRED.message)
    if at.tzinfo is None:
        raise ValueError("the acceptance time must be timezone-aware")
    return CguAcceptance(document.version, document.text_sha256, at, channel)


def needs_reacceptance(acceptance: CguAcceptance | None, current: CguDocument) -> bool:
    """True when the holder never accepted, or accepted another text than the current one."""
    return acceptance is None or acceptance.text_sha256 != current.text_sha256
