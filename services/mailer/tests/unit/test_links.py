"""The links the mailer writes: the token derived from the mail id under the shared link key
(``contracts.links``), the URL built from the settings, the life registration chose."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from contracts.links import link_token, link_token_hash, token_hash
from services.mailer.domain import ConfirmationLink, MailSettings, PasswordResetLink

NOW = datetime(2025, 3, 1, 13, 5, tzinfo=UTC)
KEY = bytes(range(32))
DAY = NOW + timedelta(hours=24)


def test_a_link_token_has_256_bits_and_is_url_safe() -> None:
    token = link_token(KEY, "confirmation:r1:first")
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)  # 32 bytes, base64url without padding


def test_the_token_is_the_same_for_a_mail_id_whoever_derives_it() -> None:
    # Registration records the hash when it asks for the mail; the mailer derives the token when writing it
    # (again after a Redis wipe): both must meet.
    token = link_token(KEY, "confirmation:r1:first")
    assert link_token(KEY, "confirmation:r1:first") == token
    assert link_token_hash(KEY, "confirmation:r1:first") == token_hash(token)
    assert token_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # SHA-256 hex


def test_tokens_differ_per_mail_and_per_key() -> None:
    ids = ("confirmation:r1:first", "confirmation:r1:resend-1", "confirmation:r2:first", "password_reset:x")
    assert len({link_token(k, i) for k in (KEY, bytes(32)) for i in ids}) == 8


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        link_token(b"short", "confirmation:r1:first")


def test_confirmation_link_url_and_expiry(settings: MailSettings) -> None:
    link = ConfirmationLink.build(settings, "A" * 43, NOW, DAY)
    assert link.url == "https://moncompteformation.test/activation?token=" + "A" * 43
    assert link.validity == timedelta(hours=24)
    assert not link.is_expired(NOW + timedelta(hours=23, minutes=59))
    assert link.is_expired(DAY)


def test_password_reset_link_url(settings: MailSettings) -> None:
    link = PasswordResetLink.build(settings, "b" * 43, NOW, NOW + timedelta(hours=1))
    assert link.url == "https://moncompteformation.test/mot-de-passe/nouveau?token=" + "b" * 43
    assert link.validity == timedelta(hours=1)


def test_links_follow_the_public_base_url() -> None:
    settings = MailSettings(public_base_url="http://127.0.0.1:8000/app")
    reset = PasswordResetLink.build(settings, "c" * 43, NOW, DAY)
    assert reset.url.startswith("http://127.0.0.1:8000/app/mot-de-passe/nouveau?token=")


@pytest.mark.parametrize("bad", ["short", "x" * 21, "a" * 30 + "/+=", "a" * 30 + " "])
def test_weak_or_unsafe_tokens_are_refused(settings: MailSettings, bad: str) -> None:
    with pytest.raises(ValueError, match="128 bits"):
        ConfirmationLink.build(settings, bad, NOW, DAY)


def test_naive_or_backwards_instants_are_refused(settings: MailSettings) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ConfirmationLink.build(settings, "A" * 43, datetime(2025, 3, 1, 13, 5), DAY)
    with pytest.raises(ValueError, match="expire after"):
        ConfirmationLink.build(settings, "A" * 43, NOW, NOW)


def test_repr_never_shows_the_token(settings: MailSettings) -> None:
    link = ConfirmationLink.build(settings, link_token(KEY, "m"), NOW, DAY)
    assert link.token not in repr(link) and link.url not in repr(link)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"public_base_url": "moncompteformation.test"},
        {"public_base_url": "ftp://x.test"},
        {"public_base_url": "https://x.test/?a=1"},
        {"public_base_url": "https://x.test", "from_address": "no-at-sign"},
        {"public_base_url": "https://x.test", "login_path": "connexion"},
        {"public_base_url": "https://x.test", "display_timezone": "Mars/Olympus"},
        {"public_base_url": "https://x.test", "from_display_name": "a\nBcc: x@y.z"},
    ],
)
def test_invalid_settings_fail_at_construction(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        MailSettings(**kwargs)  # type: ignore[arg-type]
