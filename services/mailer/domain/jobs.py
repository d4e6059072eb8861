"""A mail job: one requested mail on its way through the queue (a plain record).

Its id is the ``MailRequested.mail_id``: one job per mail, however often the command is redelivered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class MailJob:
    job_id: str  # the mail id registration chose ("confirmation:<request>:first", "welcome:<holder>"…)
    kind: str
    to: str
    first_name: str | None
    cause_event_id: str  # keys the Message-ID: a re-send of the same job reuses it
    correlation_id: str
    subject_id: str  # the request or reset the mail is about
    holder_id: str | None = None
    link_issued_at: str | None = None  # mails with a link: when registration issued it…
    link_expires_at: str | None = None  # …and until when it works
    attempted_at: str | None = None  # notices: when the attempt (or the login) happened
    login_method: str | None = None  # new_login: "mot de passe" or "FranceConnect"
    login_client: str | None = None  # new_login: the approximate client ("Firefox sur Linux, réseau …")
    attempts: int = 0
    first_try_at: str | None = None
    last_error: str | None = None
    # The consumed record that queued the job (a ``ports.TriggerRecord``): parked on its topic's
    # dead-letter topic if the mail fails for good.
    trigger: dict[str, Any] | None = field(default=None, repr=False)
    # The SMTP server accepted it: only the report and the completion may be missing (never sent again).
    accepted_at: str | None = None
    # Failed for good (5xx, retries exhausted, recipient cap): only the reports may be missing.
    failure: str | None = None
    failure_code: int | None = None
    failure_type: str | None = None  # the error class; None for the recipient cap (nothing to park)
