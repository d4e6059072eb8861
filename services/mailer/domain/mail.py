"""Mail kinds, what each one needs, and :func:`compose`, which turns that into a ready-to-send message.

Building a :class:`email.message.EmailMessage` is pure computation, so it lives here. Reading template
files is not: the domain asks a :class:`TemplateRenderer` (implemented by
``services.mailer.adapters.templates.JinjaTemplateRenderer``) for the subject, text and HTML strings.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from enum import StrEnum
from typing import ClassVar, Protocol

from services.mailer.domain.formatting import format_datetime_fr, format_duration_fr
from services.mailer.domain.links import ConfirmationLink, EmailChangeLink, NotMeLink, PasswordResetLink
from services.mailer.domain.settings import MailSettings


class MailKind(StrEnum):
    """Each value is also the base name of the mail's template files."""

    CONFIRMATION = "confirmation"
    WELCOME = "welcome"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a template name, not a secret
    DUPLICATE_SIGNUP = "duplicate_signup"
    SIGNUP_CANCELLED = "signup_cancelled"  # a FranceConnect sign-up for the NIR ended this pending one
    ACCOUNT_RECLAIMED = "account_reclaimed"  # the person verified by FranceConnect took the account back
    NEW_LOGIN = "new_login"  # a login from a device or network not seen before, with "Ce n'était pas moi"
    EMAIL_CHANGE = "email_change"  # to a new address of an account: the link that makes it the account's
    EMAIL_CHANGED = "email_changed"  # to the previous address once changed, with "Ce n'était pas moi"
    EMAIL_RESTORED = "email_restored"  # to the address an earlier one replaced through "Ce n'était pas moi"

    @property
    def counts_against_recipient_cap(self) -> bool:
        """Whether a third party can trigger this mail and so use it to flood an inbox.

        Confirmation (anyone can sign up with any address, once past the captcha), password reset and the
        duplicate sign-up notice can be requested by someone else; the welcome mail follows a click on a
        link the holder received, so capping it would only ever drop a legitimate mail. A new-login alert
        follows a successful login: only who holds the account's credentials can trigger it, and an alert
        dropped because someone filled the cap with reset requests would hide a takeover; the same holds
        for the warning that an account's address was changed, and for the notice that an earlier address
        took the account back. The new address's link is capped: the holder types any address.
        """
        return self not in (MailKind.WELCOME, MailKind.NEW_LOGIN, MailKind.EMAIL_CHANGED, MailKind.EMAIL_RESTORED)


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


class TemplateRenderer(Protocol):
    """Renders the three parts of a mail of ``kind`` with ``variables`` (see templates/README.md)."""

    def render(self, kind: MailKind, variables: Mapping[str, object]) -> RenderedMail: ...


# --- What each mail needs. ``to`` is the recipient address; first names are optional ("Bonjour,"). ---


@dataclass(frozen=True)
class ConfirmationMail:
    KIND: ClassVar[MailKind] = MailKind.CONFIRMATION
    to: str
    first_name: str | None
    link: ConfirmationLink


@dataclass(frozen=True)
class WelcomeMail:
    KIND: ClassVar[MailKind] = MailKind.WELCOME
    to: str
    first_name: str | None


@dataclass(frozen=True)
class PasswordResetMail:
    KIND: ClassVar[MailKind] = MailKind.PASSWORD_RESET
    to: str
    first_name: str | None
    link: PasswordResetLink


@dataclass(frozen=True)
class DuplicateSignupMail:
    """Sent to the real owner of a NIR when someone tries to open a second account with it.

    Only the time of the attempt is disclosed: nothing the other person typed (address, name, phone)
    may reach the owner, and the API answered the attempt exactly as for a new account (no enumeration).
    """

    KIND: ClassVar[MailKind] = MailKind.DUPLICATE_SIGNUP
    to: str
    first_name: str | None
    attempted_at: datetime


@dataclass(frozen=True)
class SignupCancelledMail:
    """Sent to the address of a pending sign-up that a sign-up with FranceConnect for the same NIR ended:
    its link no longer works. Only the time is disclosed, nothing about the verified person."""

    KIND: ClassVar[MailKind] = MailKind.SIGNUP_CANCELLED
    to: str
    first_name: str | None
    attempted_at: datetime


@dataclass(frozen=True)
class AccountReclaimedMail:
    """Sent to an account's previous address when the person FranceConnect verified for its NIR took it
    back (sessions closed, password removed). Only the time is disclosed."""

    KIND: ClassVar[MailKind] = MailKind.ACCOUNT_RECLAIMED
    to: str
    first_name: str | None
    attempted_at: datetime


@dataclass(frozen=True)
class NewLoginMail:
    """Sent to the holder after a login from a device or network not seen before for the account: when,
    how and the approximate client, with a "Ce n'était pas moi" link (sessions closed, reset started)."""

    KIND: ClassVar[MailKind] = MailKind.NEW_LOGIN
    to: str
    first_name: str | None
    link: NotMeLink
    logged_in_at: datetime
    method: str
    client: str


@dataclass(frozen=True)
class EmailChangeMail:
    """Sent to the address a holder asked to be their account's: it becomes so only when the link is
    followed (before it expires; a newer request's link replaces it)."""

    KIND: ClassVar[MailKind] = MailKind.EMAIL_CHANGE
    to: str
    first_name: str | None
    link: EmailChangeLink


@dataclass(frozen=True)
class EmailChangedMail:
    """Sent to an account's previous address when its new one took effect, with a "Ce n'était pas moi"
    link (the previous address back, sessions closed, reset started). The new address is not disclosed."""

    KIND: ClassVar[MailKind] = MailKind.EMAIL_CHANGED
    to: str
    first_name: str | None
    link: NotMeLink
    changed_at: datetime


@dataclass(frozen=True)
class EmailRestoredMail:
    """Sent to an account's address when an address it had before took it back ("Ce n'était pas moi" from
    a link mailed there): this one is no longer the account's. Only the time is disclosed."""

    KIND: ClassVar[MailKind] = MailKind.EMAIL_RESTORED
    to: str
    first_name: str | None
    attempted_at: datetime


TimedNotice = DuplicateSignupMail | SignupCancelledMail | AccountReclaimedMail | EmailRestoredMail
MailRequest = (
    ConfirmationMail | WelcomeMail | PasswordResetMail | TimedNotice | NewLoginMail | EmailChangeMail | EmailChangedMail
)


@dataclass(frozen=True)
class OutgoingMail:
    """A composed mail: what the SMTP adapter sends and what the consumer records."""

    kind: MailKind
    event_id: str
    recipient: str
    message_id: str
    message: EmailMessage


# Fixed namespace so that Message-IDs are stable across releases and hosts (never change it).
_MESSAGE_ID_NAMESPACE = uuid.UUID("6f1d3c2e-4b8a-5e7f-9a0b-1c2d3e4f5a6b")
_WHITESPACE = re.compile(r"\s+")


def message_id_for(event_id: str, kind: MailKind, domain: str) -> str:
    """Deterministic ``Message-ID``: a retry of the same event reuses it, so receiving servers and
    clients that de-duplicate on Message-ID collapse an accidental second delivery."""
    local = uuid.uuid5(_MESSAGE_ID_NAMESPACE, f"{event_id}:{kind.value}").hex
    return f"<{local}@{domain}>"


def template_variables(mail: MailRequest, settings: MailSettings) -> dict[str, object]:
    """Everything a template may use. Kept flat and string-valued so non-developers can edit templates."""
    variables: dict[str, object] = {
        "first_name": (mail.first_name or "").strip() or None,
        "site_url": settings.public_base_url,
        "site_host": settings.public_base_url.split("://", 1)[1],
        "login_url": settings.url(settings.login_path),
        "password_reset_request_url": settings.url(settings.password_reset_request_path),
    }
    tz = settings.timezone
    match mail:
        case ConfirmationMail(link=link) | PasswordResetMail(link=link) | EmailChangeMail(link=link):
            variables["link_url"] = link.url
            variables["expires_at"] = format_datetime_fr(link.expires_at, tz)
            variables["link_validity"] = format_duration_fr(link.validity)
        case (
            DuplicateSignupMail(attempted_at=attempted_at)
            | SignupCancelledMail(attempted_at=attempted_at)
            | AccountReclaimedMail(attempted_at=attempted_at)
            | EmailRestoredMail(attempted_at=attempted_at)
        ):
            variables["attempted_at"] = format_datetime_fr(attempted_at, tz)
        case NewLoginMail(link=link, logged_in_at=logged_in_at, method=method, client=client):
            variables["link_url"] = link.url
            variables["expires_at"] = format_datetime_fr(link.expires_at, tz)
            variables["attempted_at"] = format_datetime_fr(logged_in_at, tz)
            variables["login_method"] = method
            variables["login_client"] = client
        case EmailChangedMail(link=link, changed_at=changed_at):
            variables["link_url"] = link.url
            variables["expires_at"] = format_datetime_fr(link.expires_at, tz)
            variables["attempted_at"] = format_datetime_fr(changed_at, tz)
        case WelcomeMail():
            pass
    return variables


def compose(
    mail: MailRequest,
    *,
    settings: MailSettings,
    renderer: TemplateRenderer,
    event_id: str,
    now: datetime,
) -> OutgoingMail:
    """Build the multipart/alternative message for ``mail``, triggered by the event ``event_id``.

    The kind is carried by the request's type (``mail.KIND``) so a kind and its data cannot disagree.
    Pure apart from the injected renderer: the same inputs always give the same bytes.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not event_id:
        raise ValueError("event_id is required: it keys the Message-ID and de-duplication")
    kind = mail.KIND
    rendered = renderer.render(kind, template_variables(mail, settings))
    # Templates end with a newline and may wrap the subject; a header must be one line.
    subject = _WHITESPACE.sub(" ", rendered.subject).strip()
    if not subject:
        raise ValueError(f"template for {kind} rendered an empty subject")

    # policy.SMTP: CRLF line endings and RFC 2047 encoding of non-ASCII headers (the French subject).
    message = EmailMessage(policy=policy.SMTP)
    message_id = message_id_for(event_id, kind, settings.mail_domain)
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(now)
    message["From"] = Address(display_name=settings.from_display_name, addr_spec=settings.from_address)
    message["To"] = Address(addr_spec=mail.to)
    message["Subject"] = subject
    # RFC 3834: tells auto-responders (vacation replies) not to answer; the Microsoft header does the
    # same for Exchange. No Reply-To: the From address is already the no-reply one.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    # Quoted-printable keeps the French text readable in the raw source and survives 7-bit relays.
    # Trailing blank lines left by template includes are noise; a body ends with exactly one newline.
    message.set_content(rendered.text.rstrip() + "\n", subtype="plain", charset="utf-8", cte="quoted-printable")
    message.add_alternative(rendered.html.rstrip() + "\n", subtype="html", charset="utf-8", cte="quoted-printable")
    # A fixed boundary makes the message byte-for-byte reproducible (a retry sends the same bytes). It
    # cannot clash with the content: "=_" never occurs in quoted-printable text ("=" is always "=XX").
    message.set_boundary(f"=_mcf_{message_id[1:].partition('@')[0]}")
    return OutgoingMail(
        kind=kind,
        event_id=event_id,
        recipient=mail.to,
        message_id=message_id,
        message=message,
    )
