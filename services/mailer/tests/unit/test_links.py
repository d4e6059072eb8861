from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from services.mailer.domain import ConfirmationLink, MailSettings, PasswordResetLink, hash_token
from services.mailer.domain.links import derived_token_source

NOW = datetime(2025, 3, 1, 13, 5, tzinfo=UTC)


def test_default_token_has_256_bits_and_is_url_safe(settings: MailSettings) -> None:
    link = ConfirmationLink.mint(settings, NOW)
    assert len(link.token) == 43  # 32 random bytes, base64url without padding
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", link.token)


def test_tokens_are_unique(settings: MailSettings) -> None:
    tokens = {ConfirmationLink.mint(settings, NOW).token for _ in range(1000)}
    assert len(tokens) == 1000


def test_hash_is_sha256_hex_of_the_token(settings: MailSettings) -> None:
    link = ConfirmationLink.mint(settings, NOW)
    assert link.token_hash == hashlib.sha256(link.token.encode()).hexdigest()
    assert link.token_hash == hash_token(link.token)
    assert link.token not in link.token_hash


def test_confirmation_link_url_and_default_expiry(settings: MailSettings) -> None:
    link = ConfirmationLink.mint(settings, NOW, token_source=lambda: "A" * 43)
    assert link.url == "https://moncompteformation.test/activation?token=" + "A" * 43
    assert link.expires_at == NOW + timedelta(hours=24)
    assert not link.is_expired(NOW + timedelta(hours=23, minutes=59))
    assert link.is_expired(NOW + timedelta(hours=24))


def test_password_reset_link_url_and_default_expiry(settings: MailSettings) -> None:
    link = PasswordResetLink.mint(settings, NOW, token_source=lambda: "b" * 43)
    assert link.url == "https://moncompteformation.test/mot-de-passe/nouveau?token=" + "b" * 43
    assert link.expires_at == NOW + timedelta(hours=1)


def test_expiry_follows_settings() -> None:
    settings = MailSettings(
        public_base_url="http://localhost:8000/app",
        confirmation_link_ttl=timedelta(hours=2),
        password_reset_link_ttl=timedelta(minutes=15),
    )
    assert ConfirmationLink.mint(settings, NOW).expires_at == NOW + timedelta(hours=2)
    reset = PasswordResetLink.mint(settings, NOW)
    assert reset.expires_at == NOW + timedelta(minutes=15)
    assert reset.url.startswith("http://localhost:8000/app/mot-de-passe/nouveau?token=")


def test_injected_source_is_used(settings: MailSettings) -> None:
    counter = count()
    source = lambda: f"{next(counter):022d}"  # noqa: E731
    first, second = (ConfirmationLink.mint(settings, NOW, source) for _ in range(2))
    assert (first.token, second.token) == ("0" * 22, "0" * 21 + "1")


@pytest.mark.parametrize("bad", ["short", "x" * 21, "a" * 30 + "/+=", "a" * 30 + " "])
def test_weak_or_unsafe_tokens_are_refused(settings: MailSettings, bad: str) -> None:
    with pytest.raises(ValueError, match="128 bits"):
        ConfirmationLink.mint(settings, NOW, token_source=lambda: bad)


def test_naive_now_is_refused(settings: MailSettings) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ConfirmationLink.mint(settings, datetime(2025, 3, 1, 13, 5))


def test_repr_never_shows_the_token(settings: MailSettings) -> None:
    link = ConfirmationLink.mint(settings, NOW)
    assert link.token not in repr(link)
    assert link.token_hash in repr(link)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"public_base_url": "moncompteformation.test"},
        {"public_base_url": "ftp://x.test"},
        {"public_base_url": "https://x.test/?a=1"},
        {"public_base_url": "https://x.test", "from_address": "no-at-sign"},
        {"public_base_url": "https://x.test", "confirmation_link_ttl": timedelta(0)},
        {"public_base_url": "https://x.test", "login_path": "connexion"},
        {"public_base_url": "https://x.test", "display_timezone": "Mars/Olympus"},
        {"public_base_url": "https://x.test", "from_display_name": "a\nBcc: x@y.z"},
    ],
)
def test_invalid_settings_fail_at_construction(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        MailSettings(**kwargs)  # type: ignore[arg-type]


# --- links derived from the mailer's key (a queue refilled after a Redis wipe mails the announced link) ---


def test_a_derived_link_is_the_same_each_time_it_is_minted_for_a_job(settings: MailSettings) -> None:
    key = bytes(range(32))
    first = ConfirmationLink.mint(settings, NOW, derived_token_source(key, "confirmation:r1:first"))
    later = NOW + timedelta(hours=3)
    again = ConfirmationLink.mint(
        settings, later, derived_token_source(key, "confirmation:r1:first"), expires_at=first.expires_at
    )
    assert again.token == first.token and again.token_hash == first.token_hash and again.url == first.url
    assert again.expires_at == first.expires_at  # the announced expiry, not a new one
    assert len(first.token) == 43  # 256 bits, base64url


def test_derived_links_differ_per_job_and_per_key(settings: MailSettings) -> None:
    key = bytes(range(32))
    tokens = {
        ConfirmationLink.mint(settings, NOW, derived_token_source(k, job)).token
        for k in (key, bytes(32))
        for job in ("confirmation:r1:first", "confirmation:r1:resend-1", "confirmation:r2:first")
    }
    assert len(tokens) == 6
