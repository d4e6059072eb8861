"""The senders: take due mails from the queue, send them over SMTP, report what happened.

Several senders run side by side, so one mail waiting on a slow or refusing server never holds up
another holder's mail. A transient failure (4xx, connection) reschedules the job with back-off; a
permanent one (5xx, or transient failures past the retry window) emits ``MailFailed`` and parks the
event that queued the mail on its dead-letter topic (``<topic>.dlq``, see ``adapters/dead_letters.py``).
A mail refused by the recipient cap emits ``MailFailed`` only: it is a decision, not a fault, and there
is nothing for an operator to replay.

Once SMTP accepted a mail, that is written on the job (``accepted_at``), then ``MailSent`` reports it and
the job is completed; a failure verdict is likewise written on the job before it is reported
(``failure``). A crash or a Kafka outage between a verdict and its report repeats the report (with the
same event id, absorbed downstream), never the SMTP transaction. A link's token is derived from the job's id
(``contracts.links``), here, while composing: it is stored nowhere.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TypeVar, cast

from prometheus_client import Counter, Gauge

from contracts import topics
from contracts.links import link_token
from contracts.mailer import MailFailed, MailSent
from eventing.delivery import StateGate
from eventing.publishing import derived_event_id
from services.mailer.domain.errors import PermanentMailError, TransientMailError
from services.mailer.domain.jobs import MailJob
from services.mailer.domain.links import ConfirmationLink, EmailChangeLink, NotMeLink, PasswordResetLink
from services.mailer.domain.mail import (
    AccountReclaimedMail,
    ConfirmationMail,
    DuplicateSignupMail,
    EmailChangedMail,
    EmailChangeMail,
    EmailRestoredMail,
    MailKind,
    MailRequest,
    NewLoginMail,
    PasswordResetMail,
    SignupCancelledMail,
    TemplateRenderer,
    TimedNotice,
    WelcomeMail,
    compose,
)
from services.mailer.domain.policies import RecipientCap, RetryPolicy, recipient_cap_key
from services.mailer.domain.settings import MailSettings
from services.mailer.use_cases.ports import Clock, DeadLetterSink, MailQueue, MessageSender, Publisher, TriggerRecord

log = logging.getLogger("mailer.sender")
MAILS = Counter("mails_total", "Mails by outcome", ["kind", "outcome"])
QUEUED = Gauge("mails_queued", "Mails waiting in the queue")


_Link = TypeVar("_Link", bound=ConfirmationLink | PasswordResetLink | EmailChangeLink | NotMeLink)
_LINKS: dict[MailKind, type[ConfirmationLink | PasswordResetLink | EmailChangeLink]] = {
    MailKind.CONFIRMATION: ConfirmationLink,
    MailKind.PASSWORD_RESET: PasswordResetLink,
    MailKind.EMAIL_CHANGE: EmailChangeLink,
}


def _link_mail(job: MailJob, link: ConfirmationLink | PasswordResetLink | EmailChangeLink) -> MailRequest:
    """A mail whose only content is its link (the link's class says which)."""
    match link:
        case ConfirmationLink():
            return ConfirmationMail(to=job.to, first_name=job.first_name, link=link)
        case PasswordResetLink():
            return PasswordResetMail(to=job.to, first_name=job.first_name, link=link)
        case EmailChangeLink():
            return EmailChangeMail(to=job.to, first_name=job.first_name, link=link)
    raise ValueError(f"no mail for {type(link).__name__}")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class MailSender:
    state: MailQueue
    smtp: MessageSender
    publisher: Publisher
    link_key: bytes  # the links' tokens are derived from it and the job id (contracts.links)
    renderer: TemplateRenderer
    mail: MailSettings
    retry: RetryPolicy
    cap: RecipientCap
    lease_s: float = 60.0
    # An idle worker looks at the queue again after this long even if not woken (:meth:`wake`): for what
    # no wake-up announces (a retry coming due, an expired lease, a job queued by another replica).
    idle_s: float = 1.0
    dead_letters: DeadLetterSink | None = None
    clock: Clock = _now
    gate: StateGate = field(default_factory=StateGate)  # closed while the queue is refilled after a wipe
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _wakeups: asyncio.Queue[None] = field(default_factory=asyncio.Queue)
    _workers: int = 1

    async def run(self, workers: int) -> None:
        self._workers = workers
        await asyncio.gather(*(self._loop() for _ in range(workers)))

    def wake(self) -> None:
        """A job was just queued: one idle worker looks at once. Idle workers otherwise only look every
        ``idle_s`` (polling five times a second each, four idle workers cost the mailer about as much CPU
        as its mails under sign-ups)."""
        if self._wakeups.qsize() < self._workers:  # (a burst wakes each worker once, not once per mail)
            self._wakeups.put_nowait(None)

    def stop(self) -> None:
        self._stopping.set()
        self._wakeups.put_nowait(None)  # each worker that leaves passes it on to the next

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                worked = self.gate.is_open and await self.send_one()
            except Exception:  # a broken dependency must not kill the sender; the lease brings the job back
                log.exception("sender iteration failed")
                worked = False
            if not worked:
                try:
                    await asyncio.wait_for(self._wakeups.get(), self.idle_s)
                except TimeoutError:
                    pass
        self._wakeups.put_nowait(None)

    async def send_one(self) -> bool:
        job = await self.state.claim_due(self.clock(), self.lease_s)
        if job is None:
            QUEUED.set(await self.state.queued())
            return False
        kind = MailKind(job.kind)
        if job.failure is not None:  # failed for good before a crash or a Kafka hiccup: report it
            await self._report_failed(job)
            return True
        if job.accepted_at is not None:  # accepted by SMTP before a crash or a Kafka hiccup: report it
            await self._finish_sent(job)
            return True
        if job.attempts == 0 and kind.counts_against_recipient_cap:
            sent = await self.state.count_send(recipient_cap_key(job.to), int(self.cap.window.total_seconds()))
            if not self.cap.allows_count(sent - 1):
                await self._give_up(job, None, "recipient cap reached: too many mails to this address this hour", None)
                return True
        now = self.clock()
        job.first_try_at = job.first_try_at or now.isoformat()
        outgoing = compose(
            self._request(job),
            settings=self.mail,
            renderer=self.renderer,
            event_id=job.cause_event_id,
            now=now,
        )
        try:
            await self.smtp.send(outgoing.message)
        except TransientMailError as exc:
            job.attempts += 1
            job.last_error = str(exc)
            waited = now - datetime.fromisoformat(job.first_try_at)
            if self.retry.give_up_after is not None and waited >= self.retry.give_up_after:
                await self._give_up(job, exc.code, f"still failing after {waited}: {exc}", type(exc).__name__)
                return True
            delay = self.retry.next_delay(job.attempts)
            log.info(
                "mail %s deferred %.1fs after attempt %d: %s",
                job.job_id,
                delay.total_seconds(),
                job.attempts,
                exc,
            )
            MAILS.labels(job.kind, "deferred").inc()
            await self.state.reschedule(job, now + delay)
            return True
        except PermanentMailError as exc:
            await self._give_up(job, exc.code, str(exc), type(exc).__name__)
            return True
        MAILS.labels(job.kind, "sent").inc()
        job.accepted_at = now.isoformat()
        await self.state.reschedule(job, now + timedelta(seconds=self.lease_s))  # the verdict, before its report
        await self._finish_sent(job)
        return True

    async def _finish_sent(self, job: MailJob) -> None:
        assert job.accepted_at is not None
        await self._report_sent(job, datetime.fromisoformat(job.accepted_at))
        await self.state.complete(job)

    def _request(self, job: MailJob) -> MailRequest:
        kind = MailKind(job.kind)
        if link_class := _LINKS.get(kind):
            return _link_mail(job, self._link(link_class, job))
        if kind is MailKind.NEW_LOGIN:
            assert job.attempted_at
            return NewLoginMail(
                to=job.to,
                first_name=job.first_name,
                link=self._link(NotMeLink, job),
                logged_in_at=datetime.fromisoformat(job.attempted_at),
                method=job.login_method or "",
                client=job.login_client or "",
            )
        if kind is MailKind.EMAIL_CHANGED:
            assert job.attempted_at
            changed_at = datetime.fromisoformat(job.attempted_at)
            return EmailChangedMail(job.to, job.first_name, self._link(NotMeLink, job), changed_at)
        notices: dict[MailKind, type[TimedNotice]] = {
            MailKind.DUPLICATE_SIGNUP: DuplicateSignupMail,
            MailKind.SIGNUP_CANCELLED: SignupCancelledMail,
            MailKind.ACCOUNT_RECLAIMED: AccountReclaimedMail,
            MailKind.EMAIL_RESTORED: EmailRestoredMail,
        }
        if notice := notices.get(kind):
            assert job.attempted_at
            return notice(to=job.to, first_name=job.first_name, attempted_at=datetime.fromisoformat(job.attempted_at))
        return WelcomeMail(to=job.to, first_name=job.first_name)

    def _link(self, cls: type[_Link], job: MailJob) -> _Link:
        """The job's link: its token derived again from the job's id, its life as registration set it."""
        assert job.link_issued_at and job.link_expires_at
        link = cls.build(
            self.mail,
            link_token(self.link_key, job.job_id),
            datetime.fromisoformat(job.link_issued_at),
            datetime.fromisoformat(job.link_expires_at),
        )
        return cast(_Link, link)  # ``build`` returns its own class (``Self``); mypy sees the bound's union

    async def _report_sent(self, job: MailJob, now: datetime) -> None:
        await self.publisher.publish(
            topics.MAIL_SENT,
            MailSent(mail_id=job.job_id, kind=job.kind, subject_id=job.subject_id, sent_at=now),
            key=job.subject_id,
            correlation_id=job.correlation_id,
            event_id=derived_event_id(job.job_id, "sent"),
        )

    async def _give_up(self, job: MailJob, smtp_code: int | None, reason: str, error_type: str | None) -> None:
        """Record the verdict on the job first, then report it (``error_type`` None: nothing to park)."""
        log.warning("mail %s failed for good: %s", job.job_id, reason)
        MAILS.labels(job.kind, "failed").inc()
        job.failure, job.failure_code, job.failure_type = reason[:500], smtp_code, error_type
        await self.state.reschedule(job, self.clock() + timedelta(seconds=self.lease_s))
        await self._report_failed(job)

    async def _report_failed(self, job: MailJob) -> None:
        assert job.failure is not None
        if job.failure_type is not None:
            if job.trigger is not None and self.dead_letters is not None:
                await self.dead_letters.park(
                    cast(TriggerRecord, job.trigger),
                    reason=job.failure,
                    error_type=job.failure_type,
                    mail_kind=job.kind,
                )
            else:  # a job queued before triggers were recorded
                log.warning("mail %s: no triggering record to park", job.job_id)
        await self.publisher.publish(
            topics.MAIL_FAILED,
            MailFailed(
                kind=job.kind,
                reason=job.failure,
                smtp_code=job.failure_code,
                failed_at=self.clock(),
            ),
            key=job.subject_id,
            correlation_id=job.correlation_id,
            event_id=derived_event_id(job.job_id, "failed"),
        )
        await self.state.forget(job)
