"""Mailer domain: pure rules (links, composition, delivery policies). No I/O, no framework imports."""

from services.mailer.domain.errors import MailDeliveryError, PermanentMailError, TransientMailError
from services.mailer.domain.formatting import format_datetime_fr, format_duration_fr
from services.mailer.domain.links import (
    ConfirmationLink,
    PasswordResetLink,
)
from services.mailer.domain.mail import (
    AccountReclaimedMail,
    ConfirmationMail,
    DuplicateSignupMail,
    MailKind,
    MailRequest,
    OutgoingMail,
    PasswordResetMail,
    RenderedMail,
    SignupCancelledMail,
    TemplateRenderer,
    WelcomeMail,
    compose,
    message_id_for,
    template_variables,
)
from services.mailer.domain.policies import (
    FailureClass,
    MailOutcome,
    MailStatus,
    RecipientCap,
    RetryPolicy,
    classify_smtp_reply,
    error_for_reply,
    normalize_recipient,
    outcome_for_failure,
    recipient_cap_key,
)
from services.mailer.domain.settings import MailSettings

__all__ = [
    "AccountReclaimedMail",
    "ConfirmationLink",
    "ConfirmationMail",
    "DuplicateSignupMail",
    "FailureClass",
    "MailDeliveryError",
    "MailKind",
    "MailOutcome",
    "MailRequest",
    "MailSettings",
    "MailStatus",
    "OutgoingMail",
    "PasswordResetLink",
    "PasswordResetMail",
    "PermanentMailError",
    "RecipientCap",
    "RenderedMail",
    "RetryPolicy",
    "SignupCancelledMail",
    "TemplateRenderer",
    "TransientMailError",
    "WelcomeMail",
    "classify_smtp_reply",
    "compose",
    "error_for_reply",
    "format_datetime_fr",
    "format_duration_fr",
    "message_id_for",
    "normalize_recipient",
    "outcome_for_failure",
    "recipient_cap_key",
    "template_variables",
]
