"""One-time links e-mailed to the holder: account confirmation, password reset, a new e-mail address's
confirmation, "Ce n'était pas moi".

Registration decides a link's life (``MailRequested.link_expires_at``) and records its hash; the token is
derived from the mail's id by the adapter layer (``contracts.links``) and handed here only to write the
URL. The clear token exists only in the mail and in the mailer's memory while composing it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar, Self
from urllib.parse import urlencode

from services.mailer.domain.settings import MailSettings

# 22 base64url characters carry 132 bits; anything shorter cannot hold the required 128 bits.
MIN_TOKEN_LENGTH = 22
_URLSAFE = re.compile(r"\A[A-Za-z0-9_-]+\Z")


@dataclass(frozen=True)
class _OneTimeLink:
    """A link to write in a mail. ``token`` and ``url`` are hidden from ``repr`` so they never reach logs."""

    token: str = field(repr=False)
    issued_at: datetime
    expires_at: datetime
    url: str = field(repr=False)

    _PATH_SETTING: ClassVar[str]

    @classmethod
    def build(cls, settings: MailSettings, token: str, issued_at: datetime, expires_at: datetime) -> Self:
        if issued_at.tzinfo is None or expires_at.tzinfo is None:
            raise ValueError("link instants must be timezone-aware")
        if expires_at <= issued_at:
            raise ValueError("a link must expire after it is issued")
        # Guard against a misconfigured key or id: the link would be guessable or need escaping.
        if len(token) < MIN_TOKEN_LENGTH or not _URLSAFE.match(token):
            raise ValueError(f"a link token must have ≥ {MIN_TOKEN_LENGTH} base64url characters (≥ 128 bits)")
        path: str = getattr(settings, cls._PATH_SETTING)
        return cls(token, issued_at, expires_at, f"{settings.url(path)}?{urlencode({'token': token})}")

    @property
    def validity(self) -> timedelta:
        """How long the link works, as the mail says it ("valable 24 heures")."""
        return self.expires_at - self.issued_at

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True)
class ConfirmationLink(_OneTimeLink):
    """``{base}/activation?token=…``."""

    _PATH_SETTING: ClassVar[str] = "activation_path"


@dataclass(frozen=True)
class PasswordResetLink(_OneTimeLink):
    """``{base}/mot-de-passe/nouveau?token=…``."""

    _PATH_SETTING: ClassVar[str] = "password_reset_path"


@dataclass(frozen=True)
class NotMeLink(_OneTimeLink):
    """``{base}/connexion/pas-moi?token=…``: a new-login alert's "Ce n'était pas moi"."""

    _PATH_SETTING: ClassVar[str] = "not_me_path"


@dataclass(frozen=True)
class EmailChangeLink(_OneTimeLink):
    """``{base}/courriel/confirmation?token=…``: confirms the new address of an account (sent to it)."""

    _PATH_SETTING: ClassVar[str] = "email_change_path"
