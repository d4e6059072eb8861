"""Phone formats, E.164 normalisation and the "one of the two" rule."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.registration.domain.errors import FieldError
from services.registration.domain.phones import PhoneKind, validate_phone, validate_phones


@pytest.mark.parametrize(
    "raw",
    [
        "01 23 45 67 89",
        "0123456789",
        "01.23.45.67.89",
        "01-23-45-67-89",
        "+33 1 23 45 67 89",
        "+33123456789",
        "+33 (0)1 23 45 67 89",
        "0033 1 23 45 67 89",
        " 01 23 45 67 89 ",
        "01\u00a023\u00a045\u00a067\u00a089",  # non-breaking spaces from a copy-paste
    ],
)
def test_landline_formats(raw: str) -> None:
    assert validate_phone(PhoneKind.LANDLINE, raw) == "+33123456789"


def test_box_numbers_count_as_landlines() -> None:
    assert validate_phone(PhoneKind.LANDLINE, "09 51 23 45 67") == "+33951234567"


@pytest.mark.parametrize(
    "raw",
    [
        "06 12 34 56 78",
        "0612345678",
        "06.12.34.56.78",
        "+33 6 12 34 56 78",
        "+33612345678",
        "0033612345678",
        "+33 (0)6 12 34 56 78",
    ],
)
def test_mobile_formats(raw: str) -> None:
    assert validate_phone(PhoneKind.MOBILE, raw) == "+33612345678"


def test_a_forgotten_leading_zero_is_tolerated() -> None:
    assert validate_phone(PhoneKind.MOBILE, "6 12 34 56 78") == "+33612345678"


def test_seven_series_mobiles() -> None:
    assert validate_phone(PhoneKind.MOBILE, "07 81 23 45 67") == "+33781234567"


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        (PhoneKind.MOBILE, "0692 12 34 56", "+262692123456"),  # Réunion mobile, national form
        (PhoneKind.MOBILE, "+262 692 12 34 56", "+262692123456"),
        (PhoneKind.LANDLINE, "0262 12 34 56", "+262262123456"),  # Réunion landline
        (PhoneKind.MOBILE, "0690 12 34 56", "+590690123456"),  # Guadeloupe mobile
        (PhoneKind.LANDLINE, "0596 61 12 34", "+596596611234"),  # Martinique landline
        (PhoneKind.MOBILE, "(00262) 692 12 34 56", "+262692123456"),  # its code typed behind a bracket
    ],
)
def test_overseas_numbers_get_their_own_country_code(kind: PhoneKind, raw: str, expected: str) -> None:
    assert validate_phone(kind, raw) == expected


@pytest.mark.parametrize(
    ("kind", "raw", "code"),
    [
        (PhoneKind.LANDLINE, "06 12 34 56 78", "not_a_landline"),
        (PhoneKind.MOBILE, "01 23 45 67 89", "not_a_mobile"),
        (PhoneKind.LANDLINE, "08 00 12 34 56", "not_a_landline"),  # toll-free
        (PhoneKind.MOBILE, "0612", "invalid_number"),
        (PhoneKind.MOBILE, "06 12 34 56 78 9", "invalid_number"),
        (PhoneKind.MOBILE, "06 12 AB 56 78", "invalid_characters"),
        (PhoneKind.MOBILE, "tel: 0612345678", "invalid_characters"),
        (PhoneKind.MOBILE, "0" * 40, "invalid_characters"),
        (PhoneKind.MOBILE, "+32 470 12 34 56", "not_french"),  # Belgian mobile
        (PhoneKind.LANDLINE, "+1 202 555 0123", "not_french"),
        # A country code typed behind punctuation is the holder's, never swapped for an overseas one:
        (PhoneKind.MOBILE, "(0033) 6 92 12 34 56", "invalid_number"),  # +33 692… is no number (not Réunion)
        (PhoneKind.MOBILE, "0 033 6 90 12 34 56", "invalid_number"),  # nor +33 690… (not Guadeloupe)
        (PhoneKind.LANDLINE, "(0044) 20 7946 0958", "not_french"),  # a London number, said so
    ],
)
def test_refusals(kind: PhoneKind, raw: str, code: str) -> None:
    outcome = validate_phone(kind, raw)
    assert isinstance(outcome, FieldError)
    assert outcome.code == code
    assert outcome.field == ("phone_landline" if kind is PhoneKind.LANDLINE else "phone_mobile")


def test_wrong_field_message_says_where_to_put_it() -> None:
    outcome = validate_phone(PhoneKind.LANDLINE, "06 12 34 56 78")
    assert isinstance(outcome, FieldError) and "Téléphone mobile" in outcome.message


def test_at_least_one_of_the_two_is_required() -> None:
    landline, mobile, errors = validate_phones("", None)
    assert (landline, mobile) == (None, None)
    assert [(e.field, e.code) for e in errors] == [("phone_mobile", "phone_required")]
    assert errors[0].message.startswith("Un des deux numéros doit être renseigné")


def test_either_one_is_enough() -> None:
    assert validate_phones("01 23 45 67 89", "") == ("+33123456789", None, [])
    assert validate_phones(None, "06 12 34 56 78") == (None, "+33612345678", [])
    assert validate_phones("01 23 45 67 89", "06 12 34 56 78") == ("+33123456789", "+33612345678", [])


def test_an_invalid_number_is_not_also_reported_missing() -> None:
    _, _, errors = validate_phones("", "0612")
    assert [e.code for e in errors] == ["invalid_number"]


@settings(deadline=None)  # no per-example deadline: first calls load data; CI may be slow
@given(st.text(max_size=40))
def test_never_crashes(raw: str) -> None:
    outcome = validate_phone(PhoneKind.MOBILE, raw)
    assert outcome is None or isinstance(outcome, (str, FieldError))
