"""Sign-up: from the form to an active account. Registration owns this workflow.

    holder ──form──▶ sign_up ──SecurityCheckRequested──▶ captcha
    captcha ──CaptchaPassed──▶ on_check_passed ──MailRequested(confirmation | duplicate_signup)──▶ mailer
    holder ──resend──▶ resend ──MailRequested(confirmation, new link)──▶ mailer
    holder ──link──▶ activate ──AccountActivated──▶ rights, ──MailRequested(welcome)──▶ mailer

Each step changes the request and writes the events it causes in one transaction (the store's). The
link's hash is recorded with the command that asks for its mail, so a click can never come first.

(A little over 300 lines on purpose: the workflow's steps read in order in one place; the FranceConnect
sign-up reuses its link issuing and opening, ``franceconnect.py``.)
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from contracts import topics
from contracts.links import token_hash
from contracts.registration import AccountActivated, SecurityCheckRequested
from eventing.publishing import OutgoingEvent, derived_event_id
from services.registration.domain.account import (
    PENDING,
    AlreadyActive,
    LifecyclePolicy,
    RequestStatus,
    SignupRequest,
    StartDecision,
    UnknownLink,
    decide_start,
)
from services.registration.domain.cgu import CguAcceptance, CguDocument, Channel, accept_cgu
from services.registration.domain.errors import DomainError, FieldError
from services.registration.domain.ids import SignedIds
from services.registration.domain.records import Account, PendingDetails
from services.registration.domain.signup import SignupForm, ValidSignup, validate_signup
from services.registration.use_cases.common import Hashing, HolderIds, unknown_id, utc_now
from services.registration.use_cases.mails import MailDesk
from services.registration.use_cases.ports import Clock, EventFactory, RegistrationStore

log = logging.getLogger("registration.signup")

REQUEST_LOCK_WAIT_S = 5.0


@dataclass(frozen=True)
class SignupAccepted:
    request_id: str


@dataclass(frozen=True)
class SignupThrottled:
    """Too many sign-ups from one client address: each one issues a security check and may send mail."""

    retry_after_s: int
    code: str = "too_many_signups"
    message: str = (
        "Trop d'inscriptions ont été demandées depuis votre connexion internet. Réessayez dans quelques minutes."
    )


@dataclass(frozen=True)
class Activation:
    holder_id: str
    already_active: bool


@dataclass(frozen=True)
class SignupLimits:
    allow_test_email_domains: bool = False
    signups_per_window: int = 30  # per client address (an office or a school shares one)
    signup_window_s: int = 600


def confirmation_mail_id(request_id: str, number: int) -> str:
    """The first link is ``…:first``, the n-th resend's ``…:resend-n`` (ids the mailer journal keeps)."""
    return f"confirmation:{request_id}:" + ("first" if number == 0 else f"resend-{number}")


class VerifiedFinish(Protocol):
    """Ends a sign-up whose person FranceConnect verified (``franceconnect.VerifiedOpening``)."""

    async def finish(self, request: SignupRequest, details: PendingDetails) -> str: ...


@dataclass
class SignUp:
    store: RegistrationStore
    events: EventFactory
    mails: MailDesk
    hashing: Hashing
    holder_ids: HolderIds
    ids: SignedIds
    cgu: CguDocument
    policy: LifecyclePolicy
    limits: SignupLimits = SignupLimits()
    clock: Clock = utc_now
    verified: VerifiedFinish | None = None  # set by the composition root (it is built after this)

    # --- the form ---------------------------------------------------------------------------------
    async def sign_up(
        self, form: SignupForm, channel: str, client: str | None = None
    ) -> SignupAccepted | SignupThrottled | list[FieldError]:
        now = self.clock()
        valid = validate_signup(form, now.date(), allow_test_email_domains=self.limits.allow_test_email_domains)
        if isinstance(valid, list):
            if client is not None and (throttled := await self.throttled(client, now)):
                return throttled
            return valid
        holder_id = self.holder_ids.of(valid.nir)
        if client is None:
            account, latest = await self.store.standing(holder_id)
        else:  # the address's counter and the holder's standing in one read
            count, account, latest = await self.store.counted_standing(self._counter(client, now), holder_id)
            if throttled := self._over_limit(count, now):
                return throttled
        password_hash = await self.hashing.hash(valid.password)  # also for decoys and bots: same timing
        request_id = self.ids.mint(now)
        if valid.suspected_bot:
            log.info("honeypot filled: sign-up answered and dropped")
            return SignupAccepted(request_id)
        decision = decide_start(account is not None, latest[0] if latest else None, now)
        purpose = {
            StartDecision.NEW_REQUEST: "signup",
            StartDecision.EXISTING_ACCOUNT: "existing_account",
            StartDecision.PENDING_REQUEST: "pending_request",
        }[decision]
        by: Channel = "api" if channel == "api" else "web"
        details = self.pending_details(valid, password_hash, accept_cgu(self.cgu, form.cgu_accepted, now, by), purpose)
        if account is not None:  # the warning goes to the real owner, never to the address just typed
            details.email, details.first_name = account.email, account.first_name
        request = SignupRequest.start(request_id, holder_id, now, self.policy)
        # Every purpose goes through the check alike: the answer never tells whether the NIR is known.
        check = self.events.event(
            topics.SECURITY_CHECK_REQUESTED,
            SecurityCheckRequested(
                request_id=request_id, expires_at=request.expires_at, channel=by
            ),
            key=request_id,
            correlation_id=request_id,
            event_id=derived_event_id(request_id, "requested"),
        )
        await self.store.save_request(request, details, check)
        return SignupAccepted(request_id)

    async def throttled(self, client: str, now: datetime) -> SignupThrottled | None:
        """Counts one sign-up from this client address (with a password or with FranceConnect alike)."""
        return self._over_limit(await self.store.count(*self._counter(client, now)), now)

    def _counter(self, client: str, now: datetime) -> tuple[str, int]:
        """The address's sign-up counter in the current window, and the window's length."""
        window = self.limits.signup_window_s
        return f"signup:{client}:{int(now.timestamp()) // window}", window

    def _over_limit(self, count: int, now: datetime) -> SignupThrottled | None:
        window = self.limits.signup_window_s
        if count > self.limits.signups_per_window:
            return SignupThrottled(retry_after_s=window - int(now.timestamp()) % window)
        return None

    @staticmethod
    def pending_details(valid: ValidSignup, password_hash: str, cgu: CguAcceptance, purpose: str) -> PendingDetails:
        address = None
        if valid.address is not None:
            address = {k: getattr(valid.address, k) for k in valid.address.__dataclass_fields__}
        return PendingDetails(
            nir=valid.nir.value,
            first_name=valid.first_name,
            birth_name=valid.birth_name,
            email=valid.email,
            password_hash=password_hash,
            birth_year_month=valid.birth.year_month,
            phone_landline=valid.phone_landline,
            phone_mobile=valid.phone_mobile,
            address=address,
            highest_diploma=valid.highest_diploma.value,
            apprenticeship_contract=valid.apprenticeship_contract,
            cgu=cgu.as_dict(),
            purpose=purpose,
        )

    # --- what the captcha reports -----------------------------------------------------------------
    async def on_check_passed(self, request_id: str) -> None:
        """The check is passed: the mail the request's purpose calls for, asked in the same write.

        A sign-up made while the NIR had a request still waiting for its e-mail confirmation replaces that
        request now (the holder who mistyped their address starts over; the old link stops working). The
        answer to the sign-up itself was the same either way: nobody learns that a request was pending."""

        def passed(request: SignupRequest, details: PendingDetails) -> tuple[SignupRequest, list[OutgoingEvent]]:
            now = self.clock()
            updated = request.pass_captcha(now)
            if updated == request:  # a redelivery: asked already
                return request, []
            if details.purpose == "signup":
                return self.with_link(updated, details, 0, now)
            if details.purpose == "existing_account":
                order = self.mails.order(
                    "duplicate_signup",
                    f"duplicate_signup:{request_id}",
                    to=details.email,
                    first_name=details.first_name,
                    holder_id=request.holder_id,
                    subject_id=request_id,
                    attempted_at=request.requested_at,
                )
                return updated, [order.event]
            return updated, []

        async def replace_pending(request: SignupRequest, details: PendingDetails) -> None:
            if details.purpose != "pending_request" or request.status is not RequestStatus.AWAITING_CAPTCHA:
                return
            account = await self.store.account(request.holder_id)
            if account is not None:  # the pending request was confirmed meanwhile: warn its owner instead
                details.purpose = "existing_account"
                details.email, details.first_name = account.email, account.first_name
            else:
                await self._close_replaced(request)
                details.purpose = "signup"

        await self._update(request_id, passed, before=replace_pending)

    async def _close_replaced(self, replacing: SignupRequest) -> None:
        """Close the holder's pending request that ``replacing`` takes over (written first: a crash in
        between leaves the NIR free, never two live links for one NIR)."""
        latest = await self.store.latest_request(replacing.holder_id)
        if latest is None or latest[0].request_id == replacing.request_id:
            return
        old_id = latest[0].request_id
        async with self.store.locked(f"request:{old_id}", wait_s=REQUEST_LOCK_WAIT_S):
            found = await self.store.request(old_id)
            if found is None or found[0].status_at(self.clock()) not in PENDING:
                return
            old, old_details = found
            await self.store.save_request(old.reject(f"replaced:{replacing.request_id}", self.clock()), old_details)

    async def on_check_failed(self, request_id: str, reason: str) -> None:
        await self._update(request_id, lambda r, _d: (r.reject(f"captcha:{reason}", self.clock()), []))

    async def on_challenge_issued(self, request_id: str, public: dict[str, object], expires_at: datetime) -> None:
        """Keep the check's public part for the pages (not durable: the captcha serves it again)."""
        await self.store.set_challenge(request_id, public, int((expires_at - self.clock()).total_seconds()))

    def with_link(
        self, request: SignupRequest, details: PendingDetails, number: int, now: datetime
    ) -> tuple[SignupRequest, list[OutgoingEvent]]:
        mail_id = confirmation_mail_id(request.request_id, number)
        with_link = request.issue_link(self.mails.link_hash(mail_id), now, self.policy)
        order = self.mails.order(
            "confirmation",
            mail_id,
            to=details.email,
            first_name=details.first_name,
            holder_id=request.holder_id,
            subject_id=request.request_id,
            link_expires_at=with_link.links[-1].expires_at,
        )
        return with_link, [order.event]

    async def _update(
        self,
        request_id: str,
        change: Callable[[SignupRequest, PendingDetails], tuple[SignupRequest, list[OutgoingEvent]]],
        before: Callable[[SignupRequest, PendingDetails], Awaitable[None]] | None = None,
    ) -> None:
        # Events about one request arrive on several topics, handled side by side: one read-change-write
        # at a time, or a change computed from a stale read would undo the other.
        async with self.store.locked(f"request:{request_id}", wait_s=REQUEST_LOCK_WAIT_S):
            found = await self.store.request(request_id)
            if found is None:
                if await self.store.is_gone(request_id):
                    log.info("event for purged request %s: nothing to do", request_id)
                    return
                unknown_id(self.ids, request_id, self.policy.request_lifetime, self.clock())
                return
            request, details = found
            if before is not None:
                await before(request, details)
            try:
                updated, caused = change(request, details)
            except DomainError as exc:  # e.g. the request expired meanwhile: a fact, not a failure
                log.info("request %s: %s", request_id, exc)
                return
            if updated != request:
                await self.store.save_request(updated, details, *caused)

    # --- what the holder does next ----------------------------------------------------------------
    async def resend(self, request_id: str) -> SignupRequest | None:
        """A new link. Raises CaptchaPending, ResendTooSoon, ResendLimitReached, RequestExpired…"""
        async with self.store.locked(f"request:{request_id}", wait_s=REQUEST_LOCK_WAIT_S):
            found = await self.store.request(request_id)
            if found is None:
                return None
            request, details = found
            now = self.clock()
            asked = request.request_resend(now, self.policy)
            if details.purpose != "signup":  # a decoy: the same answer, and nothing sent
                await self.store.save_request(asked, details)
                return asked
            updated, caused = self.with_link(asked, details, asked.resends_used, now)
            await self.store.save_request(updated, details, *caused)
            return updated

    async def activate(self, token: str) -> Activation:
        """Raises UnknownLink, LinkExpired, RequestExpired or RequestRejected (domain errors)."""
        link_sha256 = token_hash(token)
        request_id = await self.store.request_for_link(link_sha256)
        if request_id is None:
            raise UnknownLink("Ce lien de confirmation n'est pas valide ou n'est plus utilisable.")
        async with self.store.locked(f"request:{request_id}", wait_s=REQUEST_LOCK_WAIT_S):
            found = await self.store.request(request_id)
            if found is None:
                raise UnknownLink("Ce lien de confirmation n'est pas valide ou n'est plus utilisable.")
            request, details = found
            now = self.clock()
            try:
                active = request.activate(link_sha256, now)
            except AlreadyActive:
                return Activation(request.holder_id, already_active=True)
            if details.identity_verified_by and self.verified is not None:
                # A sign-up with FranceConnect whose address needed its link: open, or reclaim.
                return Activation(await self.verified.finish(active, details), already_active=False)
            if await self.store.account(request.holder_id) is not None:
                # Another request of this NIR was confirmed in the meantime: never a second account.
                return Activation(request.holder_id, already_active=True)
            account = Account.opened_from(details, request.holder_id, request.request_id, now)
            await self.store.open_account(account, active, details, *self.opened_events(account, now))
            return Activation(account.holder_id, already_active=False)

    def opened_events(self, account: Account, now: datetime) -> list[OutgoingEvent]:
        """What opening an account causes: ``AccountActivated`` for rights, and the welcome mail."""
        activated = self.events.event(
            topics.ACCOUNT_ACTIVATED,
            AccountActivated(
                holder_id=account.holder_id,
                request_id=account.request_id,
                birth_year_month=account.birth_year_month,
                activated_at=now,
            ),
            key=account.holder_id,
            correlation_id=account.request_id,
            event_id=derived_event_id(account.request_id, "activated"),
        )
        welcome = self.mails.order(
            "welcome",
            f"welcome:{account.holder_id}",
            to=account.email,
            first_name=account.first_name,
            holder_id=account.holder_id,
            subject_id=account.request_id,
        )
        return [activated, welcome.event]

    async def purge(self) -> int:
        """Forget requests past their deadline (the same NIR may then start again)."""
        now, purged = self.clock(), 0
        async for rid in self.store.request_ids():
            found = await self.store.request(rid)
            if found and found[0].should_purge(now):
                await self.store.forget_request(found[0])
                purged += 1
        return purged

