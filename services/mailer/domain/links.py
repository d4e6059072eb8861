"""One-time links e-mailed to the holder: account confirmation and password reset.

The clear token exists only in the mail (and in the mailer's memory while composing it). What travels on
topics is ``token_hash`` (SHA-256, lower-case hex of the UTF-8 token) and ``expires_at``: the service that
checks a clicked link hashes the ``token`` query parameter the same way (:func:`hash_token`) and compares.
A plain SHA-256 is enough (no salt/KDF) because the token has ≥ 128 bits of randomness: it cannot be
brute-forced from its hash, unlike a password.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar, Self
from urllib.parse import urlencode

from services.mailer.domain.settings import MailSettings

TokenSource = Callable[[], str]
"""Returns a fresh URL-safe random token; injected so tests are deterministic."""

# 22 base64url characters carry 132 bits; anything shorter cannot hold the required 128 bits.
MIN_TOKEN_LENGTH = 22
_URLSAFE = re.compile(r"\A[A-Za-z0-9_-]+\Z")


def default_token_source() -> str:
    """32 bytes (256 bits) from the OS CSPRNG, base64url without padding: 43 characters."""
    return secrets.token_urlsafe(32)


def derived_token_source(key: bytes, job_id: str) -> TokenSource:
    """The token of one mail job: HMAC-SHA256 of the job id under the mailer's link key (256 bits).

    Unguessable without the key, like a random token, but the same every time it is minted for that job:
    a queue refilled after a Redis wipe re-sends the link whose hash was already announced, and the token
    itself is never stored anywhere."""

    def token() -> str:
        digest = hmac.new(key, job_id.encode("utf-8"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    return token


def hash_token(token: str) -> str:
    """The only form of the token that may be stored or published."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class _OneTimeLink:
    """A minted link. ``token`` and ``url`` are hidden from ``repr`` so they never end up in logs."""

    token: str = field(repr=False)
    token_hash: str
    expires_at: datetime
    url: str = field(repr=False)

    _PATH_SETTING: ClassVar[str]
    _TTL_SETTING: ClassVar[str]

    @classmethod
    def ttl(cls, settings: MailSettings) -> timedelta:
        value: timedelta = getattr(settings, cls._TTL_SETTING)
        return value

    @classmethod
    def mint(
        cls,
        settings: MailSettings,
        now: datetime,
        token_source: TokenSource = default_token_source,
        expires_at: datetime | None = None,
    ) -> Self:
        """A new link valid from ``now`` (or the link already announced, again: ``expires_at`` given)."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        token = token_source()
        # Guard against a misconfigured source: the link would be guessable or need escaping.
        if len(token) < MIN_TOKEN_LENGTH or not _URLSAFE.match(token):
            raise ValueError(f"token source must return ≥ {MIN_TOKEN_LENGTH} base64url characters (≥ 128 bits)")
        path: str = getattr(settings, cls._PATH_SETTING)
        return cls(
            token=token,
            token_hash=hash_token(token),
            expires_at=expires_at or now + cls.ttl(settings),
            url=f"{settings.url(path)}?{urlencode({'token': token})}",
        )

    def is_expired(self, now: datetime) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True)
class ConfirmationLink(_OneTimeLink):
    """``{base}/activation?token=…``, valid ``confirmation_link_ttl`` (24 h by default)."""

    _PATH_SETTING: ClassVar[str] = "activation_path"
    _TTL_SETTING: ClassVar[str] = "confirmation_link_ttl"


@dataclass(frozen=True)
class PasswordResetLink(_OneTimeLink):
    """``{base}/mot-de-passe/nouveau?token=…``, valid ``password_reset_link_ttl`` (1 h by default)."""

    _PATH_SETTING: ClassVar[str] = "password_reset_path"
    _TTL_SETTING: ClassVar[str] = "password_reset_link_ttl"
