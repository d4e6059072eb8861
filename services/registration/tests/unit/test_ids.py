"""Request and reset ids are signed and dated: an event naming an id registration never issued is told
apart from one naming a request it does not know *yet* (issue 11), without any lookup."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.registration.domain.ids import SignedIds

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
IDS = SignedIds(b"k" * 32)


def test_a_minted_id_is_recognised_with_its_date_and_fits_urls() -> None:
    minted = IDS.mint(NOW)
    assert IDS.issued_at(minted) == NOW
    assert len(minted) == 30 and minted.replace("-", "").replace("_", "").isalnum()
    assert IDS.mint(NOW) != minted  # random part


def test_an_id_minted_under_another_key_or_tampered_is_not_ours() -> None:
    minted = IDS.mint(NOW)
    assert SignedIds(b"x" * 32).issued_at(minted) is None
    flipped = minted[:5] + ("A" if minted[5] != "A" else "B") + minted[6:]
    assert IDS.issued_at(flipped) is None
    # Pretending to be older (to be acknowledged as gone) breaks the signature too.
    older = IDS.mint(NOW - timedelta(days=30))
    assert IDS.issued_at(minted[:12] + older[12:]) is None


@given(st.text(max_size=80))
def test_any_other_string_is_not_ours_and_never_raises(text: str) -> None:
    assert IDS.issued_at(text) is None
