"""Events produced by the registration service (the account lifecycle)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import EmailStr, Field

from contracts.base import EventData

HolderId = str  # pseudonymous: HMAC-SHA256 of the NIR under a platform key, hex


class AccountRequested(EventData):
    """A valid sign-up form was submitted. Carries only what captcha and mailer need."""

    EVENT_TYPE: ClassVar[str] = "fr.mcf.registration.account_requested"

    request_id: str = Field(description="opaque id of the sign-up request")
    holder_id: HolderId
    email: EmailStr = Field(description="where the confirmation link goes (personal data)")
    first_name: str = Field(description="for the greeting of the mails (personal data)")
    expires_at: datetime = Field(description="the request is purged after this instant")
    channel: Literal["web", "api"] = "web"
    purpose: Literal["signup", "existing_account", "pending_request"] = Field(
        default="signup",
        description="signup: send the confirmation link to `email` once the check is passed. "
        "existing_account: the NIR already has an account; `email` is the real owner's, who is warned "
        "instead (after the check, so the warning cannot be used to flood them). pending_request: the NIR "
        "has a request under way; nothing is sent. The sign-up API answers the three alike (no "
        "account enumeration), so they all go through the security check.",
    )


class ConfirmationLinkRequested(EventData):
    """The holder asked for a new confirmation link (resend), within the cooldown and cap."""

    EVENT_TYPE: ClassVar[str] = "fr.mcf.registration.confirmation_link_requested"

    request_id: str
    resend_number: int = Field(ge=1)


class AccountActivated(EventData):
    """The confirmation link was followed: the account exists from now on."""

    EVENT_TYPE: ClassVar[str] = "fr.mcf.registration.account_activated"

    holder_id: HolderId
    request_id: str
    birth_year_month: str = Field(
        pattern=r"^\d{4}-(0[1-9]|1[0-2]|00)$",
        description="YYYY-MM from the NIR (MM=00 when unknown): rights needs it for C2P rules",
    )
    activated_at: datetime


class PasswordResetRequested(EventData):
    """A holder asked to reset a forgotten password; mailer mints and sends the link."""

    EVENT_TYPE: ClassVar[str] = "fr.mcf.registration.password_reset_requested"

    reset_id: str
    holder_id: HolderId
    email: EmailStr
    first_name: str


class AccountStateRecorded(EventData):
    """Registration's private, compacted record of a request or an account (rebuilds Redis).

    ``state`` is an opaque JSON object owned by registration; no other service may read this topic.
    """

    EVENT_TYPE: ClassVar[str] = "fr.mcf.registration.account_state_recorded"

    kind: Literal["request", "account", "reset"]
    deleted: bool = False  # the record is gone (purged request, used reset): compaction may drop it
    record_id: str
    state: dict[str, object]
