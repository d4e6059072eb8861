"""CGU acceptance as a fact: version, text hash, time, channel."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from services.registration.domain.cgu import (
    CguDocument,
    CguNotAccepted,
    accept_cgu,
    needs_reacceptance,
)

TEXT = "Conditions générales d'utilisation de Mon Compte Formation, version 2026-01."
NOW = datetime(2026, 5, 15, 9, 30, tzinfo=UTC)


def test_document_hashes_the_exact_text() -> None:
    doc = CguDocument.from_text("2026-01", TEXT)
    assert doc.text_sha256 == hashlib.sha256(TEXT.encode("utf-8")).hexdigest()
    assert CguDocument.from_text("2026-01", TEXT.encode("utf-8")) == doc


def test_acceptance_records_version_hash_time_and_channel() -> None:
    doc = CguDocument.from_text("2026-01", TEXT)
    acceptance = accept_cgu(doc, True, NOW, "web")
    assert acceptance.as_dict() == {
        "version": "2026-01",
        "text_sha256": doc.text_sha256,
        "accepted_at": "2026-05-15T09:30:00+00:00",
        "channel": "web",
    }


def test_unticked_box_is_refused_with_the_form_message() -> None:
    with pytest.raises(CguNotAccepted) as exc:
        accept_cgu(CguDocument.from_text("v1", TEXT), False, NOW, "api")
    assert exc.value.code == "cgu_not_accepted"
    assert "conditions générales d'utilisation" in exc.value.message


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        accept_cgu(CguDocument.from_text("v1", TEXT), True, datetime(2026, 5, 15), "web")


def test_invalid_documents() -> None:
    with pytest.raises(ValueError):
        CguDocument(" ", "0" * 64)
    with pytest.raises(ValueError):
        CguDocument("v1", "not-a-hash")


def test_a_changed_text_needs_a_new_acceptance() -> None:
    v1 = CguDocument.from_text("v1", TEXT)
    v2 = CguDocument.from_text("v2", TEXT + " Article 12 modifié.")
    acceptance = accept_cgu(v1, True, NOW, "web")
    assert not needs_reacceptance(acceptance, v1)
    assert needs_reacceptance(acceptance, v2)
    assert needs_reacceptance(None, v1)
