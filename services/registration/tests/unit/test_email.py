"""E-mail syntax (no DNS), normalisation and the confirmation entry."""

from __future__ import annotations

import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.registration.domain.email import check_confirmation, validate_email
from services.registration.domain.errors import FieldError


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prove there is no DNS lookup: any resolution attempt fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("DNS lookup attempted")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "gethostbyname", refuse)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("chloe.dupont@cpa.fr", "chloe.dupont@cpa.fr"),
        ("  chloe.dupont@cpa.fr  ", "chloe.dupont@cpa.fr"),
        ("Chloe.Dupont@CPA.FR", "Chloe.Dupont@cpa.fr"),  # domain lower-cased, local part kept
        ("chloe+cpf@sub.example.org", "chloe+cpf@sub.example.org"),
        ("a@exémple.fr", "a@exémple.fr"),  # internationalised domain
        ("user@nonexistent-domain-for-tests.fr", "user@nonexistent-domain-for-tests.fr"),  # no DNS
    ],
)
def test_valid_addresses_are_normalised(raw: str, expected: str) -> None:
    assert validate_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (None, "required"),
        ("  ", "required"),
        ("chloe.dupont.cpa.fr", "missing_at"),
        ("chloe dupont@cpa.fr", "contains_space"),
        ("chloé@cpa.fr", "non_ascii_local_part"),
        ("chloe@cpa", "invalid_domain"),
        ("chloe@localhost", "invalid_domain"),
        ("chloe..dupont@cpa.fr", "invalid"),
        ("@cpa.fr", "invalid"),
        ("chloe@", "invalid_domain"),
        ("chloe@cpa..fr", "invalid"),
        ("chloe@mail.test", "invalid"),  # reserved name refused in production
        ("a" * 250 + "@cpa.fr", "too_long"),
    ],
)
def test_invalid_addresses(raw: str | None, code: str) -> None:
    outcome = validate_email(raw)
    assert isinstance(outcome, FieldError)
    assert (outcome.field, outcome.code) == ("email", code)


def test_test_domains_can_be_allowed_for_integration_tests() -> None:
    assert validate_email("chloe@mail.test", allow_test_domains=True) == "chloe@mail.test"


def test_confirmation_must_match() -> None:
    error = check_confirmation("chloe.dupont@cpa.fr", "chloe.dupond@cpa.fr")
    assert error is not None and (error.field, error.code) == ("email_confirmation", "mismatch")


def test_confirmation_required() -> None:
    error = check_confirmation("chloe.dupont@cpa.fr", "")
    assert error is not None and error.code == "required"


def test_confirmation_ignores_case_and_outer_spaces() -> None:
    assert check_confirmation("Chloe.Dupont@CPA.fr", " chloe.dupont@cpa.fr ") is None


@settings(deadline=None)  # no per-example deadline: first calls load data; CI may be slow
@given(st.text(max_size=300))
def test_never_crashes(raw: str) -> None:
    assert isinstance(validate_email(raw), (str, FieldError))
