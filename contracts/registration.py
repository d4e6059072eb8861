"""Events produced by the registration service (the account lifecycle)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import EmailStr, Field

from contracts.base import EventData
from contracts.mailer import MailKind

HolderId = str  # pseudonymous: HMAC-SHA256 of the NIR under a platform key, hex


class SecurityCheckRequested(EventData):
    """A command from registration to the captcha: a valid sign-up form was submitted, its request needs
    a security check. Carries no personal data: the captcha only needs the request and its deadline."""

    EVENT_TYPE: ClassVar[str] = "fr.mcf.registration.security_check_requested"

    request_id: str = Field(description="opaque id of the sign-up request")
    expires_at: datetime = Field(description="the request is purged after this instant")
    channel: Literal["web", "api"] = "web"


class MailRequested(EventData):
    """A command from registration to the mailer: compose and send this mail, once.

    Registration owns the holder's workflow: it decides which mail goes to whom and when (after the
    security check, on a resend, at activation, for a password reset, to warn the owner of an existing
    account). The mailer only composes and sends, then reports back with ``MailSent`` or ``MailFailed``.

    For a mail with a link (``confirmation``, ``password_reset``, ``email_change``, and the "Ce n'était pas
    moi" of ``new_login`` and ``email_changed``) the link's token never travels: both services derive it
    from ``mail_id`` under their shared link key (:mod:`contracts.links`), so registration knows the link
    the moment it asks for the mail, and the token is only in the mailbox.
    """

    EVENT_TYPE: ClassVar[str] = "fr.mcf.registration.mail_requested"

    mail_id: str = Field(description="unique per mail: the mailer sends each id once; the link's id")
    kind: MailKind
    to: EmailStr = Field(description="recipient (personal data)")
    first_name: str = Field(description="for the greeting (personal data)")
    holder_id: HolderId
    subject_id: str = Field(
        description="the sign-up request, password reset or e-mail change the mail is about (or the holder)"
    )
    link_expires_at: datetime | None = Field(
        default=None, description="when the link stops working (mails with a link only)"
    )
    attempted_at: datetime | None = Field(
        default=None,
        description="duplicate_signup: when someone tried to sign up again with this NIR; signup_cancelled, "
        "account_reclaimed: when the person verified by FranceConnect signed up; new_login: when the login happened; "
        "email_changed: when the account's address was changed; email_restored: when an address the account had "
        "before took it back",
    )
    login_method: Literal["mot de passe", "FranceConnect"] | None = Field(
        default=None, description="new_login: how the holder logged in"
    )
    login_client: str | None = Field(
        default=None,
        max_length=200,
        description='new_login: the approximate client, e.g. "Firefox sur Linux, réseau 192.0.2.0/24" '
        "(personal data: a truncated network, never a whole address)",
    )


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


class IdentityVerified(EventData):
    """The person behind an account was verified by an identity provider (FranceConnect): at sign-up, by
    linking from "Mes droits", or by reclaiming an account opened with a mailbox only. No NIR, no names."""

    EVENT_TYPE: ClassVar[str] = "fr.mcf.registration.identity_verified"

    holder_id: HolderId
    method: Literal["franceconnect"]
    acr: str = Field(description="the eIDAS level the provider certified: eidas1, eidas2 or eidas3")
    verified_at: datetime


class AccountReclaimed(EventData):
    """An account opened with a mailbox only was taken back by the person FranceConnect verified for its
    NIR: every session was closed and the password removed (the rights stay with the holder)."""

    EVENT_TYPE: ClassVar[str] = "fr.mcf.registration.account_reclaimed"

    holder_id: HolderId
    reclaimed_at: datetime


class AccountStateRecorded(EventData):
    """Registration's private, compacted record of a request or an account (rebuilds Redis).

    ``state`` is an opaque JSON object owned by registration; no other service may read this topic.
    """

    EVENT_TYPE: ClassVar[str] = "fr.mcf.registration.account_state_recorded"

    kind: Literal["request", "account", "reset"]
    deleted: bool = False  # the record is gone (purged request, used reset): compaction may drop it
    record_id: str
    state: dict[str, object]
