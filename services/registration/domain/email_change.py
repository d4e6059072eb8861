"""Changing an account's e-mail address (issue 13, item 6), as pure rules on the account record.

    holder (authenticated again ≤ RECENT_AUTH) ──request──▶ pending: the new address, its link's hash
                                                          and expiry (a newer request replaces it)
    new mailbox ──link──▶ confirm                         the address changes; the previous one is kept
    previous mailbox ──"Ce n'était pas moi"──▶ restore    the previous address is the account's again

The pending request and the previous address are fields of the account, so they travel on registration's
private state topic with it and come back after a Redis wipe. Every refusal carries its French sentence.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.registration.domain.email import check_confirmation, validate_email
from services.registration.domain.errors import DomainError, FieldError
from services.registration.domain.records import Account

# How recent the holder's own authentication must be to change the address: long enough to type the new
# address after the password (or the provider's login), short enough that a session left open on a shared
# computer cannot be used for it (GitHub's "sudo mode" and Google's re-authentication work alike).
RECENT_AUTH = timedelta(minutes=5)
LINK_LIFETIME = timedelta(hours=24)  # as the account confirmation link's: slow mail gateways
CHANGES_PER_DAY = 5  # requests per account and day: each one mails an address the holder typed

SAME_ADDRESS = FieldError(
    "email", "same_address", "Cette adresse est déjà celle de votre compte : saisissez une autre adresse."
)
TOO_MANY = FieldError(
    "email",
    "too_many_requests",
    "Vous avez demandé trop de changements d'adresse aujourd'hui. Réessayez demain, ou utilisez le lien du "
    "dernier courriel reçu.",
)


class EmailChangeLinkInvalid(DomainError):
    code = "email_change_link_invalid"

    def __init__(self) -> None:
        super().__init__(
            "Ce lien de changement d'adresse n'est pas valide : il a expiré, a déjà servi ou a été remplacé par "
            "une demande plus récente. Refaites la demande depuis « Mes droits »."
        )


@dataclass(frozen=True, slots=True)
class EmailChanged:
    """A change that took effect: the address it replaced (the warning goes there)."""

    previous_email: str
    new_email: str


def new_address(
    account: Account, raw_email: str, raw_confirmation: str, *, allow_test_domains: bool = False
) -> str | list[FieldError]:
    """The normalised new address, or what to fix (invalid, typed differently twice, the same address)."""
    valid = validate_email(raw_email, allow_test_domains=allow_test_domains)
    errors = [valid] if isinstance(valid, FieldError) else []
    if (mismatch := check_confirmation(raw_email, raw_confirmation)) is not None:
        errors.append(mismatch)
    if errors:
        return errors
    assert isinstance(valid, str)
    if valid.casefold() == account.email.casefold():
        return [SAME_ADDRESS]
    return valid


def request_change(account: Account, new_email: str, link_sha256: str, expires_at: datetime) -> None:
    """Record the pending change (any earlier one is replaced: its link stops working)."""
    account.email_change_to = new_email
    account.email_change_link_sha256 = link_sha256
    account.email_change_expires_at = expires_at.isoformat()


def confirm_change(account: Account, link_sha256: str, now: datetime, undo_until: datetime) -> EmailChanged:
    """The new mailbox followed its link: the address changes. Raises EmailChangeLinkInvalid.

    The replaced address is kept until ``undo_until`` (the life of the "Ce n'était pas moi" links mailed
    to it), after every address replaced before it that can still be put back."""
    pending, expected, expires = (
        account.email_change_to,
        account.email_change_link_sha256,
        account.email_change_expires_at,
    )
    if not pending or not expected or not expires or not hmac.compare_digest(expected, link_sha256):
        raise EmailChangeLinkInvalid()
    if now >= datetime.fromisoformat(expires):
        raise EmailChangeLinkInvalid()
    changed = EmailChanged(previous_email=account.email, new_email=pending)
    account.email = pending
    live = [entry for entry in account.replaced_emails if now < datetime.fromisoformat(entry[1])]
    account.replaced_emails = [*live, [changed.previous_email, undo_until.isoformat()]]
    cancel_pending(account)
    return changed


def cancel_pending(account: Account) -> None:
    """No change pending any more (its link stops working)."""
    account.email_change_to = account.email_change_link_sha256 = account.email_change_expires_at = None


def restore_replaced_address(account: Account, sent_to: str) -> bool:
    """ "Ce n'était pas moi" from a link mailed to an address a change replaced (a change's warning, or a
    new-login alert sent before it): that address is the account's again, whatever changes came after it.

    Whoever follows it holds a mailbox the account was known by: the real products make the same trade, and
    the reset that follows goes there. The addresses replaced *after* it are forgotten, so a later mailbox
    (an intruder's, in a chain of changes A→B→C) cannot take the account back from the earlier one; an
    earlier one still can. A link mailed to the current address changes no address. The link's own
    expiry bounds when this can happen (an expired link never reaches here)."""
    if not sent_to:
        return False
    for index, (address, _until) in enumerate(account.replaced_emails):
        if address.casefold() == sent_to.casefold():
            account.email = address
            account.replaced_emails = account.replaced_emails[:index]
            cancel_pending(account)
            return True
    return False
