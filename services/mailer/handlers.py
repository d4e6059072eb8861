"""The mailer's use cases: what each event means for the mail queue. Sending is in ``sender.py``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import ConsumerRecord

from contracts import topics
from contracts.captcha import CaptchaFailed, CaptchaPassed
from contracts.envelope import Envelope
from contracts.mailer import ConfirmationLinkSent
from contracts.registration import AccountActivated, AccountRequested, PasswordResetRequested
from eventing.errors import RetryLater
from eventing.replay import replay
from services.mailer.adapters.dead_letters import TriggerRecord
from services.mailer.adapters.redis_state import Contacts, MailerState, MailJob
from services.mailer.domain.links import ConfirmationLink, PasswordResetLink
from services.mailer.domain.mail import MailKind
from services.mailer.domain.settings import MailSettings


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class MailerHandlers:
    state: MailerState
    mail: MailSettings
    clock: Callable[[], datetime] = _now

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
        link = PasswordResetLink.mint(self.mail, self.clock())
        job = MailJob(
            job_id=f"password_reset:{event.reset_id}",
            kind=MailKind.PASSWORD_RESET.value,
            to=str(event.email),
            first_name=event.first_name,
            cause_event_id=env.event_id,
            correlation_id=env.correlation_id,
            subject_id=event.reset_id,
            holder_id=event.holder_id,
            token=link.token,
            token_sha256=link.token_hash,
            link_expires_at=link.expires_at.isoformat(),
            link_url=link.url,
            trigger=dict(trigger) if trigger else None,
        )
        await self.state.enqueue(job, self.clock())

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
        link = ConfirmationLink.mint(self.mail, self.clock())
        job = MailJob(
            job_id=f"confirmation:{contacts.request_id}:{which}",
            kind=MailKind.CONFIRMATION.value,
            to=contacts.email,
            first_name=contacts.first_name,
            cause_event_id=cause_event_id,
            correlation_id=correlation_id,
            subject_id=contacts.request_id,
            holder_id=contacts.holder_id,
            token=link.token,
            token_sha256=link.token_hash,
            link_expires_at=link.expires_at.isoformat(),
            link_url=link.url,
            trigger=dict(trigger) if trigger else None,
        )
        await self.state.enqueue(job, self.clock())


@dataclass
class Rebuilt:
    contacts: int = 0
    requeued: int = 0


async def rebuild(handlers: MailerHandlers, bootstrap: str) -> Rebuilt:
    """Refill an empty Redis from the topics: contacts and passes of live requests, and which requests
    already had a link announced. A request that passed its check but never had a link announced gets
    its confirmation queued again; an announced link is not sent a second time blindly (it may have been
    delivered), and the holder's "resend" works again since the contacts are back."""
    state, now = handlers.state, handlers.clock()
    requested: dict[str, tuple[AccountRequested, Envelope]] = {}
    passed: dict[str, Envelope] = {}
    closed: set[str] = set()
    announced: set[str] = set()

    async def on_requested(record: ConsumerRecord[bytes, bytes]) -> None:
        event = AccountRequested.model_validate_json(record.value or b"{}")
        requested[event.request_id] = (event, _envelope(record))

    async def on_passed(record: ConsumerRecord[bytes, bytes]) -> None:
        passed[CaptchaPassed.model_validate_json(record.value or b"{}").request_id] = _envelope(record)

    async def on_failed(record: ConsumerRecord[bytes, bytes]) -> None:
        closed.add(CaptchaFailed.model_validate_json(record.value or b"{}").request_id)

    async def on_announced(record: ConsumerRecord[bytes, bytes]) -> None:
        announced.add(ConfirmationLinkSent.model_validate_json(record.value or b"{}").request_id)

    for topic, handle in (
        (topics.ACCOUNT_REQUESTED, on_requested),
        (topics.CAPTCHA_PASSED, on_passed),
        (topics.CAPTCHA_FAILED, on_failed),
        (topics.CONFIRMATION_LINK_SENT, on_announced),
    ):
        await replay(bootstrap, topic, _tolerant(handle))
    result = Rebuilt()
    for request_id, (event, env) in requested.items():
        if event.expires_at <= now or request_id in closed:
            continue
        contacts = Contacts(
            request_id, event.holder_id, str(event.email), event.first_name, event.purpose, env.occurred_at.isoformat()
        )
        await state.remember_contacts(contacts, event.expires_at, now)
        result.contacts += 1
        pass_env = passed.get(request_id)
        if pass_env is None:
            continue
        await state.mark_passed(request_id, pass_env.event_id, ttl_s=8 * 24 * 3600)
        if event.purpose == "signup" and request_id not in announced:
            await handlers._after_check(contacts, pass_env.event_id, pass_env.correlation_id, None)
            result.requeued += 1
        else:  # announced, or a warning whose fate is unknown: never a second copy from a rebuild
            await state.mark_sent(f"confirmation:{request_id}:first")
            await state.mark_sent(f"duplicate_signup:{request_id}")
    await state.mark_rebuilt()
    return result


def _envelope(record: ConsumerRecord[bytes, bytes]) -> Envelope:
    return Envelope.from_headers({k: v for k, v in (record.headers or ())})


def _tolerant(
    handle: Callable[[ConsumerRecord[bytes, bytes]], Awaitable[None]],
) -> Callable[[ConsumerRecord[bytes, bytes]], Awaitable[None]]:
    async def guarded(record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            await handle(record)
        except ValueError:  # a poison record was parked the first time; it is skipped again
            pass

    return guarded
