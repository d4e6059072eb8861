"""The sign-up form after FranceConnect: the person comes from the provider, the rest from the holder.

The names are FranceConnect's (shown, not editable), so they are never read from the form; the e-mail is
typed once (pre-filled with the provider's); a password is optional (the holder logs in with
FranceConnect). Every other rule is the password sign-up's (:func:`validate_signup`), all errors at once.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from services.registration.domain.email import normalise_email
from services.registration.domain.errors import FieldError
from services.registration.domain.identity import VerifiedIdentity
from services.registration.domain.signup import SignupForm, ValidSignup, validate_signup


def identity_names(identity: VerifiedIdentity) -> tuple[str, str]:
    """(first names, birth name) as the account keeps them."""
    return " ".join(identity.given_names), identity.family_name


def validate_franceconnect_signup(
    form: SignupForm, identity: VerifiedIdentity, today: date, *, allow_test_email_domains: bool = False
) -> ValidSignup | list[FieldError]:
    first_name, birth_name = identity_names(identity)
    with_identity = replace(
        form, first_name=first_name, birth_name=birth_name, email_confirmation=form.email, honeypot=None
    )
    return validate_signup(
        with_identity, today, allow_test_email_domains=allow_test_email_domains, password_required=False
    )


def same_email(typed: str, identity: VerifiedIdentity) -> bool:
    """Whether the holder kept the address FranceConnect verified (then no confirmation link is needed)."""
    return normalise_email(typed) == normalise_email(identity.email)
