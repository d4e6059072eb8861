"""The whole sign-up form: every rule at once, every error at once.

``validate_signup`` never stops at the first problem: the holder sees all the fields to fix in one
answer (422 with ``errors``). The honeypot is not a rule: a filled honeypot still yields a
:class:`ValidSignup` when the rest is valid, flagged ``suspected_bot`` so that the handler answers
exactly as for a real sign-up and then does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from services.registration.domain.address import Address, AddressForm, validate_address
from services.registration.domain.cgu import CGU_REQUIRED
from services.registration.domain.diploma import Diploma, validate_diploma
from services.registration.domain.eligibility import check_eligibility
from services.registration.domain.email import check_confirmation, validate_email
from services.registration.domain.errors import FieldError
from services.registration.domain.names import validate_name
from services.registration.domain.nir import BirthYearMonth, Nir, nir_and_key_errors
from services.registration.domain.password import check_password, normalise_password
from services.registration.domain.phones import validate_phones

# The order errors are reported in: the form's own top-to-bottom order.
FIELD_ORDER = (
    "nir",
    "nir_key",
    "first_name",
    "birth_name",
    "phone_landline",
    "phone_mobile",
    "email",
    "email_confirmation",
    "address",
    "highest_diploma",
    "password",
    "password_confirmation",
    "apprenticeship_contract",
    "cgu_accepted",
)


@dataclass(frozen=True, slots=True)
class SignupForm:
    """The form as received (strings as typed; ``None`` and ``""`` both mean "left empty")."""

    nir: str | None = field(default=None, repr=False)
    nir_key: str | None = field(default=None, repr=False)
    first_name: str | None = None
    birth_name: str | None = None
    phone_landline: str | None = None
    phone_mobile: str | None = None
    email: str | None = None
    email_confirmation: str | None = None
    password: str | None = field(default=None, repr=False)
    password_confirmation: str | None = field(default=None, repr=False)
    address: AddressForm | None = None
    highest_diploma: str | None = None
    apprenticeship_contract: bool = False
    cgu_accepted: bool = False
    honeypot: str | None = None  # an invisible field: humans leave it empty


@dataclass(frozen=True, slots=True)
class ValidSignup:
    """A form that passed every rule, normalised and ready to become a pending request."""

    nir: Nir  # masks itself in repr
    birth: BirthYearMonth
    first_name: str
    birth_name: str
    phone_landline: str | None  # E.164
    phone_mobile: str | None  # E.164
    email: str  # normalised: trimmed, domain lower-cased
    password: str = field(repr=False)  # NFKC-normalised; hash it, never store or log it
    address: Address | None = None
    highest_diploma: Diploma = Diploma.NOT_GIVEN
    apprenticeship_contract: bool = False
    suspected_bot: bool = False  # honeypot filled: answer normally, then do nothing


def _order(error: FieldError) -> int:
    top = error.field.split(".", 1)[0]
    return FIELD_ORDER.index(top) if top in FIELD_ORDER else len(FIELD_ORDER)


def validate_signup(
    form: SignupForm, today: date, *, allow_test_email_domains: bool = False, password_required: bool = True
) -> ValidSignup | list[FieldError]:
    """Check every field; return the normalised sign-up, or all errors in the form's order.

    ``password_required=False`` (sign-up with FranceConnect): no password is fine, one typed is checked."""
    errors: list[FieldError] = []

    nir, nir_errors = nir_and_key_errors(form.nir or "", form.nir_key or "")
    errors.extend(nir_errors)

    birth: BirthYearMonth | None = None
    if nir is not None:
        birth = nir.birth(today)
        eligibility_error = check_eligibility(birth, today, form.apprenticeship_contract)
        if eligibility_error is not None:
            errors.append(eligibility_error)

    first_name = validate_name("first_name", form.first_name)
    birth_name = validate_name("birth_name", form.birth_name)
    for outcome in (first_name, birth_name):
        if isinstance(outcome, FieldError):
            errors.append(outcome)

    landline, mobile, phone_errors = validate_phones(form.phone_landline, form.phone_mobile)
    errors.extend(phone_errors)

    email = validate_email(form.email, allow_test_domains=allow_test_email_domains)
    if isinstance(email, FieldError):
        errors.append(email)
    confirmation_error = check_confirmation(form.email, form.email_confirmation)
    if confirmation_error is not None:
        errors.append(confirmation_error)

    address = validate_address(form.address)
    if isinstance(address, list):
        errors.extend(address)

    diploma = validate_diploma(form.highest_diploma)
    if isinstance(diploma, FieldError):
        errors.append(diploma)

    if password_required or form.password or form.password_confirmation:
        errors.extend(
            check_password(
                form.password,
                form.password_confirmation,
                nir=nir,
                birth_name=birth_name if isinstance(birth_name, str) else None,
            )
        )

    if form.cgu_accepted is not True:
        errors.append(CGU_REQUIRED)

    if errors:
        return sorted(errors, key=_order)  # stable: keeps each field's own order
    # Every outcome is valid here; the asserts narrow the types for mypy.
    assert nir is not None and birth is not None
    assert isinstance(first_name, str) and isinstance(birth_name, str) and isinstance(email, str)
    assert not isinstance(address, list) and isinstance(diploma, Diploma)
    return ValidSignup(
        nir=nir,
        birth=birth,
        first_name=first_name,
        birth_name=birth_name,
        phone_landline=landline,
        phone_mobile=mobile,
        email=email,
        password=normalise_password(form.password or ""),
        address=address,
        highest_diploma=diploma,
        apprenticeship_contract=form.apprenticeship_contract,
        suspected_bot=bool((form.honeypot or "").strip()),
    )
