"""The mailer's use cases: what each event means for the mail queue. Sending is in ``sender.py``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from contracts.envelope import Envelope
from contracts.registration import AccountActivated, AccountRequested, PasswordResetRequested
from eventing.errors import RetryLater
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
