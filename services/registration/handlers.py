"""Registration's use cases: the account lifecycle from sign-up to login and password reset.

Each one loads state, asks the domain, and stores the result together with the events other services
need to know, in one transaction (see ``adapters/store.py``). HTTP and Kafka adapters call these and
translate outcomes.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from contracts import topics
from contracts.identity import holder_id as derive_holder_id
from contracts.registration import (
    AccountActivated,
    AccountRequested,
    ConfirmationLinkRequested,
    PasswordResetRequested,
)
from eventing.errors import PoisonMessage, RetryLater
from eventing.publishing import EventPublisher, derived_event_id
from services.registration.adapters.store import Account, PasswordReset, PendingDetails, RegistrationStore
from services.registration.adapters.tokens import AccessTokens
from services.registration.domain.account import (
    AlreadyActive,
    LifecyclePolicy,
    SignupRequest,
    StartDecision,
    UnknownLink,
    decide_start,
)
from services.registration.domain.cgu import CguDocument
from services.registration.domain.errors import DomainError, FieldError
from services.registration.domain.ids import SignedIds
from services.registration.domain.login_policy import evaluate_login
from services.registration.domain.nir import Nir, parse_login_nir
from services.registration.domain.password import PasswordHasher, check_password, normalise_password
from services.registration.domain.signup import SignupForm, ValidSignup, validate_signup

log = logging.getLogger("registration")


def _now() -> datetime:
    return datetime.now(UTC)


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
class LoginRefused:
    code: str  # "invalid_credentials", "too_many_attempts" or "locked"
    message: str
    retry_after_s: int = 0


@dataclass(frozen=True)
class LoginAccepted:
    holder_id: str
    session_id: str
    access_token: str


# What a minted link token looks like (base64url, at least 128 bits): only such a token is worth waiting for.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{22,200}")

INVALID_CREDENTIALS = LoginRefused("invalid_credentials", "Numéro de sécurité sociale ou mot de passe incorrect.")


@dataclass
class Registration:
    store: RegistrationStore
    publisher: EventPublisher
    hasher: PasswordHasher
    holder_key: bytes
    tokens: AccessTokens
    cgu: CguDocument
    policy: LifecyclePolicy
    session_ttl_s: int
    reset_ttl: timedelta
    reset_cooldown_s: int
    allow_test_email_domains: bool = False
    signups_per_window: int = 30  # per client address (an office or a school shares one)
    signup_window_s: int = 600
    clock: Callable[[], datetime] = _now
    # The mailer hands the link to SMTP, then announces it (ConfirmationLinkSent); a holder who clicks the
    # moment the mail lands may be faster than that announcement. Give it this long before saying "unknown".
    link_grace_s: float = 3.0

    def __post_init__(self) -> None:
        # Verifying against this when the NIR is unknown keeps the answer's timing the same.
        self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        self.ids = SignedIds(self.holder_key)  # request and reset ids (domain-separated use of the key)

    def holder_id(self, nir: Nir) -> str:
        return derive_holder_id(nir.value, self.holder_key)

    async def _hash(self, password: str) -> str:
        return await asyncio.to_thread(self.hasher.hash, password)  # argon2id: never on the event loop

    async def _verify(self, password_hash: str, password: str) -> bool:
        return await asyncio.to_thread(self.hasher.verify, password_hash, password)

    # --- sign-up ----------------------------------------------------------------------------------
    async def sign_up(
        self, form: SignupForm, channel: str, client: str | None = None
    ) -> SignupAccepted | SignupThrottled | list[FieldError]:
        now = self.clock()
        if client is not None:
            window = self.signup_window_s
            count = await self.store.count(f"signup:{client}:{int(now.timestamp()) // window}", window)
            if count > self.signups_per_window:
                return SignupThrottled(retry_after_s=window - int(now.timestamp()) % window)
        valid = validate_signup(form, now.date(), allow_test_email_domains=self.allow_test_email_domains)
        if isinstance(valid, list):
            return valid
        password_hash = await self._hash(valid.password)  # also for decoys and bots: same timing
        request_id = self.ids.mint(now)
        if valid.suspected_bot:
            log.info("honeypot filled: sign-up answered and dropped")
            return SignupAccepted(request_id)
        holder_id = self.holder_id(valid.nir)
        account = await self.store.account(holder_id)
        latest = await self.store.latest_request(holder_id)
        decision = decide_start(account is not None, latest[0] if latest else None, now)
        purpose = {
            StartDecision.NEW_REQUEST: "signup",
            StartDecision.EXISTING_ACCOUNT: "existing_account",
            StartDecision.PENDING_REQUEST: "pending_request",
        }[decision]
        details = self._details(valid, password_hash, now, channel, purpose)
        if account is not None:  # the warning goes to the real owner, never to the address just typed
            details.email, details.first_name = account.email, account.first_name
        request = SignupRequest.start(request_id, holder_id, now, self.policy)
        requested = self.publisher.event(
            topics.ACCOUNT_REQUESTED,
            AccountRequested(
                request_id=request_id,
                holder_id=holder_id,
                email=details.email,
                first_name=details.first_name,
                expires_at=request.expires_at,
                channel="api" if channel == "api" else "web",
                purpose=purpose,
            ),
            key=request_id,
            correlation_id=request_id,
            event_id=derived_event_id(request_id, "requested"),
        )
        await self.store.save_request(request, details, requested)
        return SignupAccepted(request_id)

    def _details(
        self, valid: ValidSignup, password_hash: str, now: datetime, channel: str, purpose: str
    ) -> PendingDetails:
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
            cgu={
                "version": self.cgu.version,
                "text_sha256": self.cgu.text_sha256,
                "accepted_at": now.isoformat(),
                "channel": channel,
            },
            purpose=purpose,
        )

    # --- what the other services tell us ----------------------------------------------------------
    async def _update(self, request_id: str, change: Callable[[SignupRequest], SignupRequest]) -> None:
        # Events about one request arrive on several topics, handled side by side: one read-change-write
        # at a time, or a change computed from a stale read would undo the other (a link hash lost).
        async with self.store.locked(f"request:{request_id}", wait_s=5.0):
            await self._update_locked(request_id, change)

    async def _update_locked(self, request_id: str, change: Callable[[SignupRequest], SignupRequest]) -> None:
        found = await self.store.request(request_id)
        if found is None:
            if await self.store.is_gone(request_id):
                log.info("event for purged request %s: nothing to do", request_id)
                return
            self._unknown(request_id, self.policy.request_lifetime)
            return
        request, details = found
        try:
            updated = change(request)
        except DomainError as exc:  # e.g. the request expired meanwhile: a fact, not a failure
            log.info("request %s: %s", request_id, exc)
            return
        if updated != request:
            await self.store.save_request(updated, details)

    def _unknown(self, minted_id: str, lifetime: timedelta) -> None:
        """An event names a request or reset this service does not know: park, acknowledge, or hold it."""
        issued = self.ids.issued_at(minted_id)
        if issued is None:
            raise PoisonMessage(f"names {minted_id!r}, an id registration never issued")
        if issued + lifetime + timedelta(days=1) < self.clock():
            log.info("event for %s, past its lifetime: nothing to do", minted_id)
            return
        # Not known *yet* (Redis behind the topic): held and retried, never committed unapplied.
        raise RetryLater(f"{minted_id} not known yet")

    async def on_captcha_passed(self, request_id: str) -> None:
        await self._update(request_id, lambda r: r.pass_captcha(self.clock()))

    async def on_captcha_failed(self, request_id: str, reason: str) -> None:
        await self._update(request_id, lambda r: r.reject(f"captcha:{reason}", self.clock()))

    async def on_link_sent(self, request_id: str, token_sha256: str, sent_at: datetime, expires_at: datetime) -> None:
        await self._update(request_id, lambda r: r.record_link_sent(token_sha256, sent_at, expires_at, self.policy))

    async def on_reset_link_sent(self, reset_id: str, token_sha256: str, expires_at: datetime) -> None:
        reset = await self.store.reset(reset_id)
        if reset is None:
            self._unknown(reset_id, self.reset_ttl)
            return
        if reset.token_sha256 == token_sha256:
            return
        reset.token_sha256, reset.expires_at = token_sha256, expires_at.isoformat()
        await self.store.save_reset(reset, int((expires_at - self.clock()).total_seconds()))

    # --- activation -------------------------------------------------------------------------------
    async def activate(self, token: str) -> Activation:
        """Raises UnknownLink, LinkExpired, RequestExpired or RequestRejected (domain errors)."""
        token_hash = sha256(token)
        request_id = await self._request_for_link(token)
        found = await self.store.request(request_id) if request_id else None
        if found is None:
            raise UnknownLink("Ce lien de confirmation n'est pas valide ou n'est plus utilisable.")
        request, details = found
        async with self.store.locked(f"request:{request.request_id}", wait_s=5.0):
            request, details = await self.store.request(request.request_id) or found
            now = self.clock()
            try:
                active = request.activate(token_hash, now)
            except AlreadyActive:
                return Activation(request.holder_id, already_active=True)
            account = Account(
                holder_id=request.holder_id,
                nir=details.nir,
                first_name=details.first_name,
                birth_name=details.birth_name,
                email=details.email,
                password_hash=details.password_hash,
                birth_year_month=details.birth_year_month,
                activated_at=now.isoformat(),
                request_id=request.request_id,
                phone_landline=details.phone_landline,
                phone_mobile=details.phone_mobile,
                address=details.address,
                highest_diploma=details.highest_diploma,
                cgu=details.cgu,
            )
            activated = self.publisher.event(
                topics.ACCOUNT_ACTIVATED,
                AccountActivated(
                    holder_id=account.holder_id,
                    request_id=request.request_id,
                    birth_year_month=account.birth_year_month,
                    activated_at=now,
                ),
                key=account.holder_id,
                correlation_id=request.request_id,
                event_id=derived_event_id(request.request_id, "activated"),
            )
            await self.store.open_account(account, active, details, activated)
            return Activation(account.holder_id, already_active=False)

    async def _request_for_link(self, token: str) -> str | None:
        token_hash = sha256(token)
        grace = self.link_grace_s if _TOKEN_SHAPE.fullmatch(token) else 0.0
        deadline = asyncio.get_running_loop().time() + grace
        while (request_id := await self.store.request_for_link(token_hash)) is None:
            if asyncio.get_running_loop().time() >= deadline:
                return None
            await asyncio.sleep(0.2)
        return request_id

    async def resend(self, request_id: str) -> SignupRequest | None:
        """Raises CaptchaPending, ResendTooSoon, ResendLimitReached, RequestExpired... (domain errors)."""
        async with self.store.locked(f"request:{request_id}", wait_s=5.0):
            found = await self.store.request(request_id)
            if found is None:
                return None
            request, details = found
            updated = request.request_resend(self.clock(), self.policy)
            asked = self.publisher.event(
                topics.CONFIRMATION_LINK_REQUESTED,
                ConfirmationLinkRequested(request_id=request_id, resend_number=updated.resends_used),
                key=request_id,
                correlation_id=request_id,
                event_id=derived_event_id(request_id, f"resend-{updated.resends_used}"),
            )
            await self.store.save_request(updated, details, asked)
            return updated

    async def purge(self) -> int:
        """Forget requests past their deadline (the same NIR may then start again)."""
        now, purged = self.clock(), 0
        async for rid in self.store.request_ids():
            found = await self.store.request(rid)
            if found and found[0].should_purge(now):
                await self.store.forget_request(found[0])
                purged += 1
        return purged

    # --- sessions ---------------------------------------------------------------------------------
    async def log_in(self, raw_nir: str, password: str, client: str) -> LoginAccepted | LoginRefused:
        now = self.clock()
        try:
            nir = parse_login_nir(raw_nir)
            holder_id: str | None = self.holder_id(nir)
        except (DomainError, ValueError):
            holder_id = None
        # A string that cannot be a NIR has no account to protect: it counts against the client's address
        # only. (One shared "invalid NIR" counter would let anyone lock out every holder who mistypes.)
        nir_key = f"nir:{holder_id}" if holder_id else None
        address_key = f"addr:{client}"
        since = (now - timedelta(hours=1)).timestamp()
        decision = evaluate_login(
            [datetime.fromtimestamp(t, UTC) for t in await self.store.failures(nir_key, since)] if nir_key else [],
            [datetime.fromtimestamp(t, UTC) for t in await self.store.failures(address_key, since)],
            now,
        )
        if not decision.allowed:
            return LoginRefused(decision.code, decision.message, decision.retry_after_seconds)
        account = await self.store.account(holder_id) if holder_id else None
        password = normalise_password(password or "")
        ok = await self._verify(account.password_hash if account else self._dummy_hash, password)
        if account is None or not ok:
            for key in (nir_key, address_key):
                if key:
                    await self.store.add_failure(key, now.timestamp(), keep_s=3600)
            return INVALID_CREDENTIALS
        await self.store.clear_failures(f"nir:{account.holder_id}")
        if self.hasher.needs_rehash(account.password_hash):
            account.password_hash = await self._hash(password)
            await self.store.save_account(account)
        session_id = secrets.token_urlsafe(24)
        await self.store.open_session(session_id, account.holder_id, self.session_ttl_s)
        return LoginAccepted(account.holder_id, session_id, self.tokens.issue(account.holder_id, session_id))

    async def session(self, session_id: str) -> str | None:
        return await self.store.session_holder(session_id) if session_id else None

    async def refresh(self, session_id: str) -> str | None:
        holder_id = await self.session(session_id)
        return self.tokens.issue(holder_id, session_id) if holder_id else None

    async def log_out(self, session_id: str) -> None:
        await self.store.close_session(session_id)

    # --- password reset ---------------------------------------------------------------------------
    async def request_password_reset(self, raw_nir: str) -> None:
        """Always "accepted" for the caller: whether the NIR has an account is never revealed."""
        try:
            holder_id = self.holder_id(parse_login_nir(raw_nir))
        except (DomainError, ValueError):
            return
        account = await self.store.account(holder_id)
        if account is None or not await self.store.claim(f"reset:{holder_id}", self.reset_cooldown_s):
            return
        now = self.clock()
        reset = PasswordReset(reset_id=self.ids.mint(now), holder_id=holder_id, requested_at=now.isoformat())
        asked = self.publisher.event(
            topics.PASSWORD_RESET_REQUESTED,
            PasswordResetRequested(
                reset_id=reset.reset_id,
                holder_id=holder_id,
                email=account.email,
                first_name=account.first_name,
            ),
            key=holder_id,
            correlation_id=reset.reset_id,
            event_id=derived_event_id(reset.reset_id, "requested"),
        )
        await self.store.save_reset(reset, int(self.reset_ttl.total_seconds()) + 600, asked)

    async def confirm_password_reset(self, token: str, password: str, confirmation: str) -> list[FieldError]:
        now = self.clock()
        reset = await self.store.reset_for_link(sha256(token))
        expired = (
            reset is None
            or reset.used_at is not None
            or (reset.expires_at is not None and datetime.fromisoformat(reset.expires_at) <= now)
        )
        account = await self.store.account(reset.holder_id) if reset else None
        if expired or account is None or reset is None:
            return [
                FieldError(
                    "token",
                    "invalid_link",
                    "Ce lien de réinitialisation n'est pas valide ou a expiré. Demandez-en un nouveau.",
                )
            ]
        errors = check_password(password, confirmation, nir=Nir.parse(account.nir), birth_name=account.birth_name)
        if errors:
            return list(errors)
        account.password_hash = await self._hash(normalise_password(password))
        account.sessions_valid_after = now.timestamp()
        reset.used_at = now.isoformat()
        await self.store.reset_used(account, reset)
        await self.store.close_all_sessions(account.holder_id)  # a reset revokes every open session
        return []
