"""NIR grammar, check key, century inference, masking and the pseudonymous holder id.

Valid NIRs are synthetic: the key is computed here, independently of the code under test.
"""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.registration.domain.nir import (
    BirthPlaceKind,
    MonthPrecision,
    Nir,
    NirError,
    Sex,
    check_key,
    compute_key,
    nir_and_key_errors,
    parse_login_nir,
    parse_nir_with_key,
)
from services.registration.use_cases.common import HolderIds

HOLDER_KEY = b"k" * 32
TODAY = date(2026, 5, 15)


def key_of(body: str) -> str:
    """97 - (number mod 97), Corsica 2A -> 19, 2B -> 18: computed independently of the code."""
    digits = body.upper().replace("2A", "19").replace("2B", "18")
    return f"{97 - int(digits) % 97:02d}"


def wrong_key(body: str) -> str:
    return f"{int(key_of(body)) % 97 + 1:02d}"


# --- valid numbers of every birth-place kind -----------------------------------------------------

VALID = {
    "metropolitan": ("1850575116001", Sex.MALE, BirthPlaceKind.METROPOLITAN, "75", "116"),
    "woman": ("2921269123045", Sex.FEMALE, BirthPlaceKind.METROPOLITAN, "69", "123"),
    "corsica_2a": ("178032A004012", Sex.MALE, BirthPlaceKind.CORSICA, "2A", "004"),
    "corsica_2b": ("278032B055014", Sex.FEMALE, BirthPlaceKind.CORSICA, "2B", "055"),
    "guadeloupe": ("1900197105123", Sex.MALE, BirthPlaceKind.OVERSEAS, "971", "05"),
    "mayotte": ("2010397611002", Sex.FEMALE, BirthPlaceKind.OVERSEAS, "976", "11"),
    "new_caledonia": ("1880698801777", Sex.MALE, BirthPlaceKind.OVERSEAS, "988", "01"),
    "born_abroad": ("2950999350123", Sex.FEMALE, BirthPlaceKind.ABROAD, "99", "350"),
    "pre1976_corsica_20": ("1550320004009", Sex.MALE, BirthPlaceKind.METROPOLITAN, "20", "004"),
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_nirs_of_every_kind(name: str) -> None:
    body, sex, kind, department, code = VALID[name]
    nir = parse_nir_with_key(body, key_of(body))
    assert nir.value == body
    assert nir.sex is sex
    assert nir.birth_place.kind is kind
    assert nir.birth_place.department == department
    assert nir.birth_place.code == code
    assert nir.key == key_of(body)


def test_corsican_key_uses_the_substitution() -> None:
    body = "178032A004012"
    # Without the substitution the key would be computed on an impossible number: make sure
    # 2A and 2B give different keys for otherwise identical numbers.
    assert key_of(body) != key_of(body.replace("2A", "2B"))
    parse_nir_with_key(body, key_of(body))
    with pytest.raises(NirError) as exc:
        parse_nir_with_key(body, key_of(body.replace("2A", "2B")))
    assert exc.value.code == "key_mismatch"


def test_normalisation_spaces_dots_case_and_fullwidth_digits() -> None:
    body = "178032A004012"
    spaced = "1 78 03 2a 004 012"
    assert Nir.parse(spaced).value == body
    assert Nir.parse("1.78.03.2a.004.012").value == body
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in "1850575116001")
    assert Nir.parse(fullwidth).value == "1850575116001"
    assert parse_nir_with_key(spaced, " " + key_of(body) + " ").value == body


def test_arabic_indic_digits_are_not_digits_here() -> None:
    with pytest.raises(NirError) as exc:
        Nir.parse("١٨٥٠٥٧٥١١٦٠٠١")
    assert exc.value.code == "invalid_characters"


def test_fifteen_characters_pasted_in_the_nir_field_are_split() -> None:
    body = "1850575116001"
    assert parse_nir_with_key(body + key_of(body), "").value == body
    assert parse_nir_with_key(body + key_of(body), key_of(body)).value == body


def test_fifteen_characters_with_a_different_key_is_a_length_error() -> None:
    body = "1850575116001"
    with pytest.raises(NirError) as exc:
        parse_nir_with_key(body + key_of(body), wrong_key(body))
    assert exc.value.field == "nir" and exc.value.code == "invalid_length"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "required"),
        ("   ", "required"),
        ("185057511600", "invalid_length"),
        ("18505751160011", "invalid_length"),
        ("18505X5116001", "invalid_characters"),
        ("1850575116O01", "invalid_characters"),  # letter O, not zero
        ("185052C116001", "invalid_characters"),  # only 2A/2B
        ("18505A2116001", "invalid_characters"),
        ("0850575116001", "invalid_sex_digit"),
        ("5850575116001", "invalid_sex_digit"),
        ("9850575116001", "invalid_sex_digit"),
        ("1850075116001", "invalid_birth_month"),
        ("1851375116001", "invalid_birth_month"),
        ("1851975116001", "invalid_birth_month"),
        ("1854375116001", "invalid_birth_month"),
        ("1854975116001", "invalid_birth_month"),
        ("1850500116001", "invalid_birth_place"),  # department 00
        ("1850575000001", "invalid_birth_place"),  # commune 000
        ("185052A000001", "invalid_birth_place"),
        ("1850597100001", "invalid_birth_place"),  # overseas commune 00
        ("1850599000001", "invalid_birth_place"),  # country 000
        ("1850575116000", "invalid_order_number"),
    ],
)
def test_structural_errors(raw: str, code: str) -> None:
    with pytest.raises(NirError) as exc:
        Nir.parse(raw)
    assert exc.value.code == code
    assert exc.value.field == "nir"
    assert exc.value.message  # a French sentence, never empty


def test_length_message_says_how_many_were_typed() -> None:
    with pytest.raises(NirError) as exc:
        Nir.parse("185057511600")
    assert "13 caractères" in exc.value.message and "12" in exc.value.message


@pytest.mark.parametrize("first", ["7", "8"])
def test_temporary_numbers_have_their_own_message(first: str) -> None:
    body = first + "850575116001"
    with pytest.raises(NirError) as exc:
        parse_nir_with_key(body, key_of(body))
    assert exc.value.code == "temporary_number"
    assert "provisoire" in exc.value.message


@pytest.mark.parametrize("first", ["3", "4"])
def test_legacy_sex_codes_are_accepted(first: str) -> None:
    nir = Nir.parse(first + "850575116001")
    assert nir.sex is (Sex.MALE if first == "3" else Sex.FEMALE)


@pytest.mark.parametrize(
    ("code", "precision", "month"),
    [
        ("01", MonthPrecision.KNOWN, 1),
        ("12", MonthPrecision.KNOWN, 12),
        ("20", MonthPrecision.UNKNOWN, None),
        ("25", MonthPrecision.UNKNOWN, None),
        ("30", MonthPrecision.UNKNOWN, None),
        ("31", MonthPrecision.PSEUDO_FICTITIOUS, 1),
        ("36", MonthPrecision.PSEUDO_FICTITIOUS, 6),
        ("42", MonthPrecision.PSEUDO_FICTITIOUS, 12),
        ("50", MonthPrecision.UNKNOWN, None),
        ("99", MonthPrecision.UNKNOWN, None),
    ],
)
def test_insee_month_codes(code: str, precision: MonthPrecision, month: int | None) -> None:
    nir = Nir.parse(f"185{code}75116001")
    assert nir.month_precision is precision
    assert nir.birth_month == month


@pytest.mark.parametrize(
    ("yy_mm", "today", "expected"),
    [
        ("85" + "05", date(2026, 5, 15), (1985, 5)),
        ("10" + "03", date(2026, 5, 15), (2010, 3)),
        ("26" + "05", date(2026, 5, 15), (2026, 5)),  # this year, this month
        ("26" + "06", date(2026, 5, 15), (1926, 6)),  # a month in the future: last century
        ("27" + "01", date(2026, 5, 15), (1927, 1)),
        ("00" + "01", date(2026, 5, 15), (2000, 1)),
        ("99" + "99", date(2026, 5, 15), (1999, None)),
        ("26" + "50", date(2026, 5, 15), (2026, None)),
        ("05" + "02", date(2099, 1, 1), (2005, 2)),
    ],
)
def test_century_inference(yy_mm: str, today: date, expected: tuple[int, int | None]) -> None:
    birth = Nir.parse(f"1{yy_mm}75116001").birth(today)
    assert (birth.year, birth.month) == expected


def test_year_month_string_matches_the_contract() -> None:
    assert Nir.parse("1850575116001").birth(TODAY).year_month == "1985-05"
    assert Nir.parse("1852575116001").birth(TODAY).year_month == "1985-00"
    assert Nir.parse("1853375116001").birth(TODAY).year_month == "1985-03"


@pytest.mark.parametrize(
    ("key", "code"),
    [
        ("", "required"),
        ("5", "invalid_format"),
        ("ab", "invalid_format"),
        ("00", "invalid_format"),
        ("98", "invalid_format"),
        ("123", "invalid_format"),
    ],
)
def test_key_format_errors(key: str, code: str) -> None:
    with pytest.raises(NirError) as exc:
        parse_nir_with_key("1850575116001", key)
    assert (exc.value.field, exc.value.code) == ("nir_key", code)


def test_key_mismatch() -> None:
    body = "1850575116001"
    with pytest.raises(NirError) as exc:
        parse_nir_with_key(body, wrong_key(body))
    assert (exc.value.field, exc.value.code) == ("nir_key", "key_mismatch")


def test_form_level_check_reports_both_fields() -> None:
    nir, errors = nir_and_key_errors("18505", "x")
    assert nir is None
    assert [(e.field, e.code) for e in errors] == [("nir", "invalid_length"), ("nir_key", "invalid_format")]
    nir, errors = nir_and_key_errors("18505", "")
    assert [(e.field, e.code) for e in errors] == [("nir", "invalid_length"), ("nir_key", "required")]


def test_never_shown_in_clear() -> None:
    nir = Nir.parse("1850575116001")
    for shown in (repr(nir), str(nir), f"{nir}", f"{nir!r}", repr([nir]), repr({"n": nir})):
        assert "1850575116001" not in shown
        assert "0575116" not in shown
    assert nir.masked == "1**********01"


def test_direct_construction_enforces_the_invariant() -> None:
    with pytest.raises(NirError):
        Nir("1850575116000")


def test_a_holders_pseudonymous_id_is_a_keyed_hmac_of_the_parsed_nir() -> None:
    # contracts.identity is the one definition every service uses; registration feeds it parsed NIRs.
    ids = HolderIds(HOLDER_KEY)
    first = ids.of(Nir.parse("1850575116001"))
    assert first == ids.of(Nir.parse("1 85 05 75 116 001"))
    assert len(first) == 64 and all(c in "0123456789abcdef" for c in first)
    assert first != HolderIds(b"x" * 32).of(Nir.parse("1850575116001"))  # depends on the key
    assert first != ids.of(Nir.parse("1850575116002"))
    assert "1850575116001" not in first


def test_login_accepts_13_characters_or_15_with_the_right_key() -> None:
    body = "178032A004012"
    assert parse_login_nir("1 78 03 2a 004 012").value == body
    assert parse_login_nir(body + key_of(body)).value == body
    with pytest.raises(NirError):
        parse_login_nir(body + wrong_key(body))
    with pytest.raises(NirError):
        parse_login_nir(body[:-1])


def test_holder_id_refuses_a_short_key() -> None:
    with pytest.raises(ValueError):
        HolderIds(b"short").of(Nir.parse("1850575116001"))


def test_stdnum_agrees_with_the_independent_key() -> None:
    for body, *_ in VALID.values():
        assert compute_key(body) == key_of(body)


# --- properties ----------------------------------------------------------------------------------


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


months = st.sampled_from([f"{m:02d}" for m in [*range(1, 13), *range(20, 43), *range(50, 100)]])
places = st.one_of(
    st.tuples(
        st.sampled_from([f"{d:02d}" for d in range(1, 97)] + ["2A", "2B"]),
        st.integers(1, 999).map(lambda c: f"{c:03d}"),
    ).map("".join),
    st.tuples(st.sampled_from(["97", "98"]), _digits(1), st.integers(1, 99).map(lambda c: f"{c:02d}")).map("".join),
    st.integers(1, 999).map(lambda c: f"99{c:03d}"),
)
valid_bodies = st.tuples(
    st.sampled_from("12"), _digits(2), months, places, st.integers(1, 999).map(lambda o: f"{o:03d}")
).map("".join)


@settings(deadline=None)  # no per-example deadline: first calls load data; CI may be slow
@given(valid_bodies)
def test_any_well_formed_number_with_its_computed_key_validates(body: str) -> None:
    nir = parse_nir_with_key(body, key_of(body))
    assert nir.value == body
    assert nir.key == key_of(body)


@settings(deadline=None)  # no per-example deadline: first calls load data; CI may be slow
@given(valid_bodies, st.integers(1, 97))
def test_any_other_key_is_refused(body: str, key: int) -> None:
    candidate = f"{key:02d}"
    nir = Nir.parse(body)
    if candidate == key_of(body):
        check_key(nir, candidate)
    else:
        with pytest.raises(NirError):
            check_key(nir, candidate)


@settings(deadline=None)  # no per-example deadline: first calls load data; CI may be slow
@given(st.text(max_size=40))
def test_arbitrary_text_never_crashes(raw: str) -> None:
    try:
        Nir.parse(raw)
    except NirError as exc:
        assert exc.code and exc.message


@settings(deadline=None)  # no per-example deadline: first calls load data; CI may be slow
@given(valid_bodies)
def test_masked_form_never_leaks_the_middle(body: str) -> None:
    nir = Nir.parse(body)
    assert body[1:11] not in repr(nir) + str(nir)
