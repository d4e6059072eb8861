"""Events produced by the mailer service."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from contracts.base import EventData

MailKind = Literal[
    "confirmation",
    "welcome",
    "password_reset",
    "duplicate_signup",
    "signup_cancelled",
    "account_reclaimed",
    "new_login",
    "email_change",
    "email_changed",
    "email_restored",
]


class MailSent(EventData):
    """The mailer's report on a ``MailRequested``: SMTP accepted the mail (``sent_at``)."""

    EVENT_TYPE: ClassVar[str] = "fr.mcf.mailer.mail_sent"

    mail_id: str
    kind: MailKind
    subject_id: str = Field(description="the sign-up request or password reset the mail was about")
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
