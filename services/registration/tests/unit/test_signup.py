"""The whole form: all errors at once, normalised output, honeypot, address and diploma."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.registration.domain.address import Address, AddressForm, validate_address
from services.registration.domain.diploma import Diploma, validate_diploma
from services.registration.domain.errors import FieldError
from services.registration.domain.signup import FIELD_ORDER, SignupForm, ValidSignup, validate_signup

TODAY = date(2026, 5, 15)


def key_of(body: str) -> str:
    return f"{97 - int(body.replace('2A', '19').replace('2B', '18')) % 97:02d}"


BODY = "2850575116001"
PASSWORD = "Tr0mpette-Bleue"
FORM = SignupForm(
    nir="2 85 05 75 116 001",
    nir_key=key_of(BODY),
    first_name=" Chloé ",
    birth_name="Dupont",
    phone_landline="",
    phone_mobile="06 12 34 56 78",
    email="Chloe.Dupont@CPA.fr",
    email_confirmation="chloe.dupont@cpa.fr",
    password=PASSWORD,
    password_confirmation=PASSWORD,
    cgu_accepted=True,
)


def valid(form: SignupForm) -> ValidSignup:
    outcome = validate_signup(form, TODAY)
    assert isinstance(outcome, ValidSignup), outcome
    return outcome


def errors(form: SignupForm) -> list[tuple[str, str]]:
    outcome = validate_signup(form, TODAY)
    assert isinstance(outcome, list), outcome
    return [(e.field, e.code) for e in outcome]


def test_a_valid_form_is_normalised() -> None:
    signup = valid(FORM)
    assert signup.nir.value == BODY
    assert signup.birth.year_month == "1985-05"
    assert signup.first_name == "Chloé"
    assert signup.phone_landline is None
    assert signup.phone_mobile == "+33612345678"
    assert signup.email == "Chloe.Dupont@cpa.fr"
    assert signup.password == PASSWORD
    assert signup.highest_diploma is Diploma.NOT_GIVEN
    assert signup.address is None
    assert signup.suspected_bot is False


def test_secrets_never_appear_in_repr() -> None:
    for shown in (repr(FORM), repr(valid(FORM))):
        assert PASSWORD not in shown
        assert BODY not in shown and "116 001" not in shown


def test_empty_form_reports_every_required_field_at_once() -> None:
    assert errors(SignupForm()) == [
        ("nir", "required"),
        ("nir_key", "required"),
        ("first_name", "required"),
        ("birth_name", "required"),
        ("phone_mobile", "phone_required"),
        ("email", "required"),
        ("email_confirmation", "required"),
        ("password", "required"),
        ("password_confirmation", "required"),
        ("cgu_accepted", "required"),
    ]


def test_many_mistakes_are_all_reported_in_form_order() -> None:
    form = replace(
        FORM,
        nir_key=f"{int(key_of(BODY)) % 97 + 1:02d}",
        first_name="Chloé2",
        phone_landline="06 12 34 56 78",
        email="chloe.dupont.cpa.fr",
        email_confirmation="other@cpa.fr",
        password="password",
        password_confirmation="different",
        highest_diploma="phd",
        address=AddressForm(postcode="7501", city="Paris", street_name="rue de Vaugirard"),
        cgu_accepted=False,
    )
    found = errors(form)
    assert found == [
        ("nir_key", "key_mismatch"),
        ("first_name", "invalid_characters"),
        ("phone_landline", "not_a_landline"),
        ("email", "missing_at"),
        ("email_confirmation", "mismatch"),
        ("address.postcode", "invalid_format"),
        ("highest_diploma", "invalid_choice"),
        ("password", "missing_uppercase"),
        ("password", "missing_digit"),
        ("password", "too_common"),
        ("password_confirmation", "mismatch"),
        ("cgu_accepted", "required"),
    ]
    fields = [f.split(".")[0] for f, _ in found]
    assert fields == sorted(fields, key=FIELD_ORDER.index)


def test_every_error_has_a_french_message() -> None:
    outcome = validate_signup(SignupForm(nir="7", password="x"), TODAY)
    assert isinstance(outcome, list)
    for error in outcome:
        assert isinstance(error, FieldError) and error.message.strip()
        assert error.as_dict() == {"field": error.field, "code": error.code, "message": error.message}


def test_password_checks_use_the_validated_nir_and_birth_name() -> None:
    pw = "Dupont" + BODY + "Ab"
    found = errors(replace(FORM, password=pw, password_confirmation=pw))
    assert ("password", "contains_nir") in found
    assert ("password", "contains_birth_name") in found


def test_temporary_number_refused_in_the_form() -> None:
    body = "7850575116001"
    assert errors(replace(FORM, nir=body, nir_key=key_of(body))) == [("nir", "temporary_number")]


@pytest.mark.parametrize("body", ["278032A004012", "178032B055014", "2900197105123", "1950999350123"])
def test_corsican_overseas_and_foreign_born_sign_up(body: str) -> None:
    assert valid(replace(FORM, nir=body, nir_key=key_of(body))).nir.value == body


def test_too_young() -> None:
    body = "2110975116001"  # born September 2011: 14 on TODAY, 15 in September 2026
    assert errors(replace(FORM, nir=body, nir_key=key_of(body))) == [("nir", "too_young")]
    assert errors(replace(FORM, nir=body, nir_key=key_of(body), apprenticeship_contract=True)) == [("nir", "too_young")]


def test_fifteen_needs_the_apprenticeship_contract() -> None:
    body = "2100975116001"  # born September 2010: 15 on TODAY
    assert errors(replace(FORM, nir=body, nir_key=key_of(body))) == [
        ("apprenticeship_contract", "too_young_without_apprenticeship")
    ]
    assert valid(replace(FORM, nir=body, nir_key=key_of(body), apprenticeship_contract=True))


def test_unknown_birth_month_uses_december() -> None:
    body = "2115075116001"  # 2011, month unknown
    form = replace(FORM, nir=body, nir_key=key_of(body))
    assert errors(form) == [("nir", "too_young")]
    assert isinstance(validate_signup(form, date(2027, 11, 30)), list)
    assert isinstance(validate_signup(form, date(2027, 12, 1)), ValidSignup)


def test_honeypot_marks_a_bot_without_an_error() -> None:
    signup = valid(replace(FORM, honeypot="http://spam.example"))
    assert signup.suspected_bot is True


def test_honeypot_does_not_hide_real_errors() -> None:
    assert errors(replace(FORM, honeypot="x", cgu_accepted=False)) == [("cgu_accepted", "required")]


def test_both_phones_and_landline_only() -> None:
    signup = valid(replace(FORM, phone_landline="01 23 45 67 89"))
    assert (signup.phone_landline, signup.phone_mobile) == ("+33123456789", "+33612345678")
    signup = valid(replace(FORM, phone_landline="01 23 45 67 89", phone_mobile=None))
    assert (signup.phone_landline, signup.phone_mobile) == ("+33123456789", None)


def test_test_email_domains_only_when_allowed() -> None:
    form = replace(FORM, email="chloe@mail.test", email_confirmation="chloe@mail.test")
    assert ("email", "invalid") in errors(form)
    assert isinstance(validate_signup(form, TODAY, allow_test_email_domains=True), ValidSignup)


def test_full_address_and_diploma() -> None:
    form = replace(
        FORM,
        address=AddressForm(
            number="12",
            repetition_index="Bis",
            street_type="rue",
            street_name=" de  Vaugirard ",
            complement="Bâtiment B",
            postcode="75015",
            city="Paris",
        ),
        highest_diploma="bac_plus_5_or_more",
    )
    signup = valid(form)
    assert signup.address == Address(
        postcode="75015",
        city="Paris",
        number="12",
        repetition_index="bis",
        street_type="rue",
        street_name="de Vaugirard",
        complement="Bâtiment B",
    )
    assert signup.highest_diploma is Diploma.BAC_PLUS_5_OR_MORE


# --- address ------------------------------------------------------------------------------------


def test_blank_address_is_absent() -> None:
    assert validate_address(None) is None
    assert validate_address(AddressForm()) is None
    assert validate_address(AddressForm(city="  ", postcode="")) is None


def test_rural_address_with_a_lieu_dit() -> None:
    outcome = validate_address(AddressForm(locality="Le Bourg", postcode="23200", city="Aubusson"))
    assert isinstance(outcome, Address) and outcome.locality == "Le Bourg" and outcome.street_name is None


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        (AddressForm(city="Paris"), {("address.street_name", "required"), ("address.postcode", "required")}),
        (AddressForm(street_name="rue X", postcode="75015"), {("address.city", "required")}),
        (
            AddressForm(street_name="rue X", postcode="7501", city="Paris"),
            {("address.postcode", "invalid_format")},
        ),
        (
            AddressForm(street_name="rue X", postcode="00100", city="Paris"),
            {("address.postcode", "invalid_format")},
        ),
        (
            AddressForm(street_name="rue X", postcode="96100", city="Paris"),
            {("address.postcode", "invalid_format")},
        ),
        (
            AddressForm(street_name="rue X", postcode="75O15", city="Paris"),
            {("address.postcode", "invalid_format")},
        ),
        (
            AddressForm(number="12a", street_name="rue X", postcode="75015", city="Paris"),
            {("address.number", "invalid_format")},
        ),
        (
            AddressForm(
                number="12",
                repetition_index="quinquiesbis",
                street_name="rue X",
                postcode="75015",
                city="Paris",
            ),
            {("address.repetition_index", "invalid_choice")},
        ),
        (
            AddressForm(repetition_index="bis", street_name="rue X", postcode="75015", city="Paris"),
            {("address.number", "required")},
        ),
        (
            AddressForm(street_name="x" * 101, postcode="75015", city="Paris"),
            {("address.street_name", "too_long")},
        ),
        (
            AddressForm(street_name="rue\x00X", postcode="75015", city="Paris"),
            {("address.street_name", "invalid_characters")},
        ),
    ],
)
def test_address_errors(form: AddressForm, expected: set[tuple[str, str]]) -> None:
    outcome = validate_address(form)
    assert isinstance(outcome, list)
    assert {(e.field, e.code) for e in outcome} == expected


@pytest.mark.parametrize(
    ("raw", "index"),
    [
        ("bis", "bis"),
        ("B", "bis"),
        ("TER", "ter"),
        ("q", "quater"),
        ("quater", "quater"),
        ("quinquies", "quinquies"),
    ],
)
def test_repetition_indices(raw: str, index: str) -> None:
    outcome = validate_address(
        AddressForm(number="3", repetition_index=raw, street_name="rue X", postcode="20000", city="Ajaccio")
    )
    assert isinstance(outcome, Address) and outcome.repetition_index == index


@pytest.mark.parametrize("postcode", ["01000", "20000", "75015", "97400", "97600", "98800", "75 015"])
def test_plausible_postcodes(postcode: str) -> None:
    outcome = validate_address(AddressForm(street_name="rue X", postcode=postcode, city="Ville"))
    assert isinstance(outcome, Address) and outcome.postcode == postcode.replace(" ", "")


# --- diploma ------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [None, "", "  ", "not_given", "NOT_GIVEN"])
def test_diploma_defaults_to_not_given(raw: str | None) -> None:
    assert validate_diploma(raw) is Diploma.NOT_GIVEN


def test_diploma_levels_and_labels() -> None:
    assert [d.value for d in Diploma] == [
        "not_given",
        "none",
        "cap_bep",
        "bac",
        "bac_plus_2",
        "bac_plus_3_4",
        "bac_plus_5_or_more",
    ]
    assert Diploma.NONE.low_qualified is True
    assert Diploma.CAP_BEP.low_qualified is False and Diploma.CAP_BEP.european_level == 3
    assert Diploma.NOT_GIVEN.low_qualified is None
    from services.registration.app.web.rendering import DIPLOMA_LABELS

    assert list(DIPLOMA_LABELS) == list(Diploma)  # every level has its label on the pages, in order
    assert DIPLOMA_LABELS[Diploma.NOT_GIVEN] == "Non renseigné" and DIPLOMA_LABELS[Diploma.NONE] == "Sans diplôme"


def test_unknown_diploma_is_refused() -> None:
    outcome = validate_diploma("master")
    assert isinstance(outcome, FieldError) and outcome.code == "invalid_choice"


# --- robustness ---------------------------------------------------------------------------------

text = st.one_of(st.none(), st.text(max_size=60))


@settings(max_examples=150, deadline=None)
@given(
    st.builds(
        SignupForm,
        nir=text,
        nir_key=text,
        first_name=text,
        birth_name=text,
        phone_landline=text,
        phone_mobile=text,
        email=text,
        email_confirmation=text,
        password=text,
        password_confirmation=text,
        highest_diploma=text,
        apprenticeship_contract=st.booleans(),
        cgu_accepted=st.booleans(),
        honeypot=text,
        address=st.one_of(
            st.none(),
            st.builds(
                AddressForm,
                number=text,
                repetition_index=text,
                street_type=text,
                street_name=text,
                complement=text,
                locality=text,
                postcode=text,
                city=text,
            ),
        ),
    )
)
def test_any_input_gives_a_result_never_an_exception(form: SignupForm) -> None:
    outcome = validate_signup(form, TODAY)
    if isinstance(outcome, list):
        assert outcome and all(e.code and e.message for e in outcome)
    else:
        assert isinstance(outcome, ValidSignup)
