"""Password policy: composition, confirmation, NIR and birth name, common passwords, bounds."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.registration.domain.nir import Nir
from services.registration.domain.password import (
    PASSWORD_MAX_LENGTH,
    check_password,
    is_common_password,
    normalise_password,
)

GOOD = "Tr0mpette-Bleue"
NIR = Nir.parse("1850575116001")


def codes(
    password: str | None,
    confirmation: str | None = None,
    *,
    nir: Nir | None = None,
    birth_name: str | None = None,
) -> set[tuple[str, str]]:
    confirm = password if confirmation is None else confirmation
    return {(e.field, e.code) for e in check_password(password, confirm, nir=nir, birth_name=birth_name)}


def test_a_good_password_passes() -> None:
    assert check_password(GOOD, GOOD, nir=NIR, birth_name="Dupont") == []


@pytest.mark.parametrize("password", ["Kangourou7", "Éléphant9z", "ÉCUREUILx9", "Zèbre-Rayé-42", "a" * 7 + "B1"])
def test_valid_passwords(password: str) -> None:
    assert codes(password) == set()


def test_exactly_eight_characters_is_enough() -> None:
    assert codes("Kgrw7Pqz") == set()
    assert ("password", "too_short") in codes("Kgrw7Pq")


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("kangourou7", "missing_uppercase"),
        ("KANGOUROU7", "missing_lowercase"),
        ("Kangourou-rouge", "missing_digit"),
        ("Kg7", "too_short"),
    ],
)
def test_composition_rules(password: str, code: str) -> None:
    assert ("password", code) in codes(password)


def test_all_composition_errors_at_once() -> None:
    assert codes("@@@") >= {
        ("password", "too_short"),
        ("password", "missing_uppercase"),
        ("password", "missing_lowercase"),
        ("password", "missing_digit"),
    }


def test_accented_capitals_count_as_upper_case() -> None:
    assert ("password", "missing_uppercase") not in codes("élan-vitalÉ9x")


def test_maximum_length_bounds_hashing() -> None:
    long = "Aa1" + "x" * (PASSWORD_MAX_LENGTH - 3)
    assert codes(long) == set()
    assert codes(long + "x") == {("password", "too_long")}


def test_required_and_confirmation() -> None:
    assert codes("", "") == {("password", "required"), ("password_confirmation", "required")}
    assert codes(GOOD, "") == {("password_confirmation", "required")}
    assert codes(GOOD, GOOD + "x") == {("password_confirmation", "mismatch")}
    assert codes(None, None) == {("password", "required"), ("password_confirmation", "required")}


def test_must_not_contain_the_nir() -> None:
    assert ("password", "contains_nir") in codes("Ab1850575116001", nir=NIR)
    assert ("password", "contains_nir") not in codes("Ab1850575116002", nir=NIR)


def test_must_not_contain_the_corsican_nir_case_insensitively() -> None:
    corsican = Nir.parse("178032A004012")
    assert ("password", "contains_nir") in codes("Zz178032a004012", nir=corsican)


@pytest.mark.parametrize("password", ["Dupont2024x", "DUPONT-rouge-7", "Xdupontx9Y", "Dúpönt99Kz", "du-pont-Ab9"])
def test_must_not_contain_the_birth_name(password: str) -> None:
    assert ("password", "contains_birth_name") in codes(password, birth_name="Dupont")


def test_birth_name_with_accents_and_parts() -> None:
    assert ("password", "contains_birth_name") in codes("Lefevre-Rouge9", birth_name="Lefèvre")
    assert ("password", "contains_birth_name") in codes("Durand-Rouge9", birth_name="Dupont--Durand")
    assert ("password", "contains_birth_name") in codes("Xgoff-Rouge9", birth_name="Le Goff")


def test_very_short_names_are_not_checked_alone() -> None:
    # "Ng" would refuse any password containing those two letters by chance.
    assert ("password", "contains_birth_name") not in codes("Kangourou7", birth_name="Ng")


@pytest.mark.parametrize(
    "password",
    [
        "Password1",  # in zxcvbn's list as "password1"
        "Qwerty123",
        "Azerty123",
        "P@ssw0rd2024",  # leet and decoration undone
        "Soleil2024",
        "Motdepasse1",
        "Moncompte2015",  # the example printed in the official tutorial
        "Iloveyou1",
        "Sunshine1!",
    ],
)
def test_common_passwords_are_refused_with_their_own_message(password: str) -> None:
    errors = check_password(password, password)
    assert [e.code for e in errors] == ["too_common"]
    assert "courants" in errors[0].message


@pytest.mark.parametrize("password", [GOOD, "Kangourou-Rouge7", "Velo-Cargo-2025", "Chloe.Dupont.42"])
def test_uncommon_passwords_pass(password: str) -> None:
    assert not is_common_password(password)


def test_normalisation_is_nfkc_and_never_trims() -> None:
    composed = "Éléphant9z"
    assert normalise_password(unicodedata.normalize("NFD", composed)) == composed
    assert normalise_password(" Éléphant9z ") == " Éléphant9z "


def test_confirmation_typed_with_decomposed_accents_matches() -> None:
    assert check_password("Éléphant9z", unicodedata.normalize("NFD", "Éléphant9z")) == []


@settings(deadline=None)  # no per-example deadline: first calls load data; CI may be slow
@given(st.text(max_size=200), st.text(max_size=200))
def test_never_crashes(password: str, confirmation: str) -> None:
    for error in check_password(password, confirmation, nir=NIR, birth_name="Dupont"):
        assert error.field in ("password", "password_confirmation") and error.message
