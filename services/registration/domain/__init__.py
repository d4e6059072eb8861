"""Registration rules (issue 8), pure: no I/O, no framework. The HTTP handlers and consumers call:

- :func:`~.signup.validate_signup` for the sign-up form (all field errors at once);
- :class:`~.account.SignupRequest` for the request lifecycle, :func:`~.account.decide_start`;
- :func:`~.login_policy.evaluate_login` before checking a password;
- :func:`~.cgu.accept_cgu` to record the CGU acceptance.
"""

from services.registration.domain.account import (
    DEFAULT_POLICY,
    AlreadyActive,
    CaptchaPending,
    InvalidTransition,
    LifecycleError,
    LifecyclePolicy,
    LinkExpired,
    RequestExpired,
    RequestRejected,
    RequestStatus,
    ResendLimitReached,
    ResendTooSoon,
    SignupRequest,
    StartDecision,
    UnknownLink,
    decide_start,
)
from services.registration.domain.address import Address, AddressForm
from services.registration.domain.cgu import CguAcceptance, CguDocument, accept_cgu, needs_reacceptance
from services.registration.domain.diploma import Diploma
from services.registration.domain.errors import DomainError, FieldError
from services.registration.domain.login_policy import (
    INVALID_CREDENTIALS_MESSAGE,
    LoginDecision,
    ThrottlePolicy,
    Verdict,
    evaluate_login,
)
from services.registration.domain.nir import BirthYearMonth, Nir, NirError, parse_nir_with_key
from services.registration.domain.password import PasswordHasher, check_password, normalise_password
from services.registration.domain.signup import SignupForm, ValidSignup, validate_signup

__all__ = [
    "DEFAULT_POLICY",
    "INVALID_CREDENTIALS_MESSAGE",
    "Address",
    "AddressForm",
    "AlreadyActive",
    "BirthYearMonth",
    "CaptchaPending",
    "CguAcceptance",
    "CguDocument",
    "Diploma",
    "DomainError",
    "FieldError",
    "InvalidTransition",
    "LifecycleError",
    "LifecyclePolicy",
    "LinkExpired",
    "LoginDecision",
    "Nir",
    "NirError",
    "PasswordHasher",
    "RequestExpired",
    "RequestRejected",
    "RequestStatus",
    "ResendLimitReached",
    "ResendTooSoon",
    "SignupForm",
    "SignupRequest",
    "StartDecision",
    "ThrottlePolicy",
    "UnknownLink",
    "ValidSignup",
    "Verdict",
    "accept_cgu",
    "check_password",
    "decide_start",
    "evaluate_login",
    "needs_reacceptance",
    "normalise_password",
    "parse_nir_with_key",
    "validate_signup",
]
