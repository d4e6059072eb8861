"""The mailer's use cases: what each event means for the mail queue. Sending is in ``sender.py``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import ConsumerRecord

from contracts import topics
from contracts.captcha import CaptchaFailed, CaptchaPassed
from contracts.envelope import Envelope
from contracts.mailer import MailJobRecorded
from contracts.registration import AccountActivated, AccountRequested, PasswordResetRequested
from eventing.errors import RetryLater
from eventing.replay import replay, skipping_invalid
from services.mailer.adapters.dead_letters import TriggerRecord
from services.mailer.adapters.redis_state import Contacts, MailerState, MailJob
from services.mailer.domain.links import ConfirmationLink, PasswordResetLink, derived_token_source
from services.mailer.domain.mail import MailKind
from services.mailer.domain.settings import MailSettings


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class MailerHandlers:
    state: MailerState
    mail: MailSettings
    link_key: bytes  # links' tokens are derived from it and the job id (``links.derived_token_source``)
    clock: Callable[[], datetime] = _now

    def with_link(self, job: MailJob) -> MailJob:
        """The job with its link's token and URL, derived again (the journal never holds them)."""
        if job.kind not in (MailKind.CONFIRMATION.value, MailKind.PASSWORD_RESET.value):
            return job
        cls = ConfirmationLink if job.kind == MailKind.CONFIRMATION.value else PasswordResetLink
        expires = datetime.fromisoformat(job.link_expires_at) if job.link_expires_at else None
        link = cls.mint(self.mail, self.clock(), derived_token_source(self.link_key, job.job_id), expires)
        job.token, job.token_sha256, job.link_url = link.token, link.token_hash, link.url
        job.link_expires_at = link.expires_at.isoformat()
        return job

    # ``trigger`` is the consumed record; it goes on the job so a mail that fails for good can park it.
    async def on_account_requested(
        self, event: AccountRequested, env: Envelope, trigger: TriggerRecord | None = None
    ) -> None:
        contacts = Contacts(
            event.request_id,
            event.holder_id,
            str(event.email),
            event.first_name,
            event.purpose,
            env.occurred_at.isoformat(),
        )
        await self.state.remember_contacts(contacts, event.expires_at, self.clock())
        passed_by = await self.state.passed(event.request_id)
        if passed_by:  # the check was passed before we learnt the address: act now
            await self._after_check(contacts, passed_by, env.correlation_id, trigger)

    async def on_captcha_passed(self, request_id: str, env: Envelope, trigger: TriggerRecord | None = None) -> None:
        # Remember the pass for as long as a request can live, in case the contacts come later.
        await self.state.mark_passed(request_id, env.event_id, ttl_s=8 * 24 * 3600)
        contacts = await self.state.contacts(request_id)
        if contacts:
            await self._after_check(contacts, env.event_id, env.correlation_id, trigger)

    async def on_captcha_failed(self, request_id: str) -> None:
        await self.state.forget_contacts(request_id)

    async def on_link_requested(
        self, request_id: str, resend_number: int, env: Envelope, trigger: TriggerRecord | None = None
    ) -> None:
        contacts = await self.state.contacts(request_id)
        if contacts is None and not await self.state.passed(request_id):
            # A resend is allowed only after the check passed: AccountRequested has not been read yet.
            raise RetryLater(f"no contacts yet for request {request_id}")
        if contacts is None or contacts.purpose != "signup":
            return  # an expired request, or a decoy: nothing to send, and nothing to tell
        await self._queue_confirmation(contacts, env.event_id, env.correlation_id, f"resend-{resend_number}", trigger)

    async def on_account_activated(
        self, event: AccountActivated, env: Envelope, trigger: TriggerRecord | None = None
    ) -> None:
        job_id = f"welcome:{event.holder_id}"
        contacts = await self.state.contacts(event.request_id)
        if contacts is None:
            if await self.state.was_sent(job_id):
                return
            # AccountRequested is on another topic and may not be read yet: try again shortly.
            raise RetryLater(f"no contacts yet for request {event.request_id}")
        job = MailJob(
            job_id=job_id,
            kind=MailKind.WELCOME.value,
            to=contacts.email,
            first_name=contacts.first_name,
            cause_event_id=env.event_id,
            correlation_id=env.correlation_id,
            subject_id=event.request_id,
            holder_id=event.holder_id,
            trigger=dict(trigger) if trigger else None,
        )
        await self.state.enqueue(job, self.clock())

    async def on_password_reset_requested(
        self, event: PasswordResetRequested, env: Envelope, trigger: TriggerRecord | None = None
    ) -> None:
        job = MailJob(
            job_id=f"password_reset:{event.reset_id}",
            kind=MailKind.PASSWORD_RESET.value,
            to=str(event.email),
            first_name=event.first_name,
            cause_event_id=env.event_id,
            correlation_id=env.correlation_id,
            subject_id=event.reset_id,
            holder_id=event.holder_id,
            trigger=dict(trigger) if trigger else None,
        )
        await self.state.enqueue(self.with_link(job), self.clock())

    async def _after_check(
        self, contacts: Contacts, cause_event_id: str, correlation_id: str, trigger: TriggerRecord | None
    ) -> None:
        """The security check of this request is passed: the mail its purpose calls for, once."""
        if contacts.purpose == "existing_account":
            job = MailJob(
                job_id=f"duplicate_signup:{contacts.request_id}",
                kind=MailKind.DUPLICATE_SIGNUP.value,
                to=contacts.email,
                first_name=contacts.first_name,
                cause_event_id=cause_event_id,
                correlation_id=correlation_id,
                subject_id=contacts.request_id,
                holder_id=contacts.holder_id,
                attempted_at=contacts.requested_at,
                trigger=dict(trigger) if trigger else None,
            )
            await self.state.enqueue(job, self.clock())
        elif contacts.purpose == "signup":
            await self._queue_confirmation(contacts, cause_event_id, correlation_id, "first", trigger)

    async def _queue_confirmation(
        self, contacts: Contacts, cause_event_id: str, correlation_id: str, which: str, trigger: TriggerRecord | None
    ) -> None:
        # Both arrival orders may get here: the job id makes each link go out once.
        job = MailJob(
            job_id=f"confirmation:{contacts.request_id}:{which}",
            kind=MailKind.CONFIRMATION.value,
            to=contacts.email,
            first_name=contacts.first_name,
            cause_event_id=cause_event_id,
            correlation_id=correlation_id,
            subject_id=contacts.request_id,
            holder_id=contacts.holder_id,
            trigger=dict(trigger) if trigger else None,
        )
        await self.state.enqueue(self.with_link(job), self.clock())


@dataclass
class Rebuilt:
    contacts: int = 0
    requeued: int = 0


async def rebuild(handlers: MailerHandlers, bootstrap: str) -> Rebuilt:
    """Refill an empty Redis from the topics: the contacts and passes of live requests (so "resend" works
    again), and the mail queue from the mailer's journal: a job queued and not yet sent goes out, with the
    very link whose hash was announced (its token is derived again); a sent one is never sent again."""
    state, now = handlers.state, handlers.clock()
    requested: dict[str, tuple[AccountRequested, Envelope]] = {}
    passed: dict[str, Envelope] = {}
    closed: set[str] = set()
    jobs: dict[str, MailJobRecorded] = {}

    async def on_requested(record: ConsumerRecord[bytes, bytes]) -> None:
        event = AccountRequested.model_validate_json(record.value or b"{}")
        requested[event.request_id] = (event, _envelope(record))

    async def on_passed(record: ConsumerRecord[bytes, bytes]) -> None:
        passed[CaptchaPassed.model_validate_json(record.value or b"{}").request_id] = _envelope(record)

    async def on_failed(record: ConsumerRecord[bytes, bytes]) -> None:
        closed.add(CaptchaFailed.model_validate_json(record.value or b"{}").request_id)

    async def on_job(record: ConsumerRecord[bytes, bytes]) -> None:
        recorded = MailJobRecorded.model_validate_json(record.value or b"{}")
        jobs[recorded.job_id] = recorded

    for topic, handle in (
        (topics.ACCOUNT_REQUESTED, on_requested),
        (topics.CAPTCHA_PASSED, on_passed),
        (topics.CAPTCHA_FAILED, on_failed),
        (topics.MAIL_JOBS, on_job),
    ):
        await replay(bootstrap, topic, skipping_invalid(handle))
    result = Rebuilt()
    for request_id, (event, env) in requested.items():
        if event.expires_at <= now or request_id in closed:
            continue
        contacts = Contacts(
            request_id, event.holder_id, str(event.email), event.first_name, event.purpose, env.occurred_at.isoformat()
        )
        await state.remember_contacts(contacts, event.expires_at, now)
        result.contacts += 1
        if (pass_env := passed.get(request_id)) is not None:
            await state.mark_passed(request_id, pass_env.event_id, ttl_s=8 * 24 * 3600)
    for job_id, recorded in jobs.items():
        if recorded.status == "sent":
            await state.mark_sent(job_id)
        elif recorded.status == "queued":
            # Attempts start again; the job's announcement is repeated with the same event id (absorbed).
            job = MailJob(**{**recorded.job, "attempts": 0, "first_try_at": None, "announced_at": None})  # type: ignore[arg-type]
            if await state.restore(handlers.with_link(job), now):
                result.requeued += 1
    await state.mark_rebuilt()
    return result


def _envelope(record: ConsumerRecord[bytes, bytes]) -> Envelope:
    return Envelope.from_headers({k: v for k, v in (record.headers or ())})
