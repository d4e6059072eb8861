"""The e-mail address, typed twice.

Syntax only (``email-validator`` with ``check_deliverability=False``): no DNS lookup in the request
path, the confirmation link is the real proof. Non-ASCII characters before the ``@`` are refused
(SMTPUTF8 is not supported by every relay; such an address could never receive its link);
internationalised domains are fine. Stored form: trimmed, the domain lower-cased (Unicode form),
the local part as typed. The two entries are compared case-insensitively once normalised: a
different capital letter is not a different mailbox in practice, and not worth a refusal.
"""

from __future__ import annotations

import unicodedata

import email_validator

from services.registration.domain.errors import FieldError

EMAIL_MAX_LENGTH = 254  # RFC 5321 path limit minus the angle brackets
_EXAMPLE = "chloe.dupont@cpa.fr"


def _clean(raw: str | None) -> str:
    return unicodedata.normalize("NFC", raw or "").strip()


def normalise_email(raw: str, *, allow_test_domains: bool = False) -> str:
    """Normalised address; raises ``email_validator.EmailNotValidError`` when the syntax is wrong."""
    result = email_validator.validate_email(
        _clean(raw),
        check_deliverability=False,
        allow_smtputf8=False,
        test_environment=allow_test_domains,
    )
    return str(result.normalized)


def validate_email(raw: str | None, *, allow_test_domains: bool = False) -> str | FieldError:
    """The normalised address or the error to show on ``email``.

    ``allow_test_domains`` lets integration tests use the reserved ``.test`` domain; production
    refuses it like the other special-use names (``localhost``, ``.invalid``...).
    """
    text = _clean(raw)
    if not text:
        return FieldError("email", "required", f"Saisissez votre adresse de courriel (ex. : {_EXAMPLE}).")
    if len(text) > EMAIL_MAX_LENGTH:
        return FieldError(
            "email", "too_long", f"L'adresse de courriel ne doit pas dépasser {EMAIL_MAX_LENGTH} caractères."
        )
    if "@" not in text:
        return FieldError("email", "missing_at", f"L'adresse de courriel doit contenir un « @ » (ex. : {_EXAMPLE}).")
    if any(c.isspace() for c in text):
        return FieldError("email", "contains_space", "L'adresse de courriel ne doit pas contenir d'espace.")
    local, _, domain = text.rpartition("@")
    if not local.isascii():
        return FieldError(
            "email",
            "non_ascii_local_part",
            "La partie avant le « @ » ne doit contenir ni accent ni caractère spécial.",
        )
    if "." not in domain:
        return FieldError("email", "invalid_domain", "Le domaine après le « @ » doit contenir un point (ex. : cpa.fr).")
    try:
        return normalise_email(text, allow_test_domains=allow_test_domains)
    except email_validator.EmailNotValidError:
        return FieldError(
            "email",
            "invalid",
            f"L'adresse de courriel n'est pas valide : vérifiez qu'elle a la forme {_EXAMPLE}.",
        )


def check_confirmation(email: str | None, confirmation: str | None) -> FieldError | None:
    """The error on ``email_confirmation``, or ``None`` when it matches the first entry."""
    confirm = _clean(confirmation)
    if not confirm:
        return FieldError(
            "email_confirmation",
            "required",
            "Confirmez votre adresse de courriel en la saisissant une seconde fois.",
        )
    if _clean(email).casefold() != confirm.casefold():
        return FieldError(
            "email_confirmation",
            "mismatch",
            "Les deux adresses de courriel ne sont pas identiques : vérifiez votre saisie.",
        )
    return None
