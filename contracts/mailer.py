"""Events produced by the mailer service."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from contracts.base import EventData

MailKind = Literal["confirmation", "welcome", "password_reset", "duplicate_signup"]


class ConfirmationLinkSent(EventData):
    """A confirmation link was minted and its mail handed to SMTP (``sent_at``: the first attempt).

    Published *before* the first attempt, so registration knows the link before the holder can click it.
    Only the token's hash travels: the link itself is in the mailbox. If the mail can never be delivered,
    ``MailFailed`` follows and the link simply goes unused.
    """

    EVENT_TYPE: ClassVar[str] = "fr.mcf.mailer.confirmation_link_sent"

    request_id: str
    token_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    expires_at: datetime
    sent_at: datetime


class PasswordResetLinkSent(EventData):
    EVENT_TYPE: ClassVar[str] = "fr.mcf.mailer.password_reset_link_sent"

    reset_id: str
    holder_id: str
    token_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    expires_at: datetime
    sent_at: datetime


class MailFailed(EventData):
    """A mail was refused for good; the causing event is parked on the dead-letter topic."""

    EVENT_TYPE: ClassVar[str] = "fr.mcf.mailer.mail_failed"

    kind: MailKind
    reason: str
    smtp_code: int | None = None
    failed_at: datetime


class MailJobRecorded(EventData):
    """The mailer's private, compacted journal of its queue (latest record per job): a Redis wiped clean
    is refilled from it, so a mail queued and not yet accepted by SMTP is still sent, once.

    ``job`` is an opaque JSON object owned by the mailer (recipient, kind, link hash and expiry; never the
    link's token, which is derived again from the mailer's key). A ``sent`` or ``failed`` record carries
    no personal data: compaction then drops the queued one.
    """

    EVENT_TYPE: ClassVar[str] = "fr.mcf.mailer.mail_job_recorded"

    job_id: str
    status: Literal["queued", "sent", "failed"]
    job: dict[str, object] = Field(default_factory=dict)
