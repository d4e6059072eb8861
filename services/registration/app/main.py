"""Wiring of registration: subscribers, the JSON API, the web pages and the background purge."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from contracts import topics
from contracts.captcha import CaptchaChallengeIssued, CaptchaFailed, CaptchaPassed
from eventing.consuming import declare_publisher, subscribe
from eventing.service import ServiceRuntime, every, in_background
from services.registration.adapters.argon2_hasher import Argon2PasswordHasher
from services.registration.adapters.franceconnect import FranceConnectClient, FranceConnectConfig
from services.registration.adapters.held_identities import RedisHeldIdentities
from services.registration.adapters.keys import session_signing_key
from services.registration.adapters.pending_logins import RedisPendingLogins
from services.registration.adapters.store import RegistrationStore
from services.registration.adapters.tokens import AccessTokens
from services.registration.app import api, deps, web
from services.registration.app.deps import HttpSetup
from services.registration.app.headers import SecurityHeaders
from services.registration.domain.account import LifecyclePolicy
from services.registration.domain.cgu import CguDocument
from services.registration.domain.ids import SignedIds
from services.registration.domain.password import PasswordHasher
from services.registration.settings import FranceConnectSettings, Settings
from services.registration.use_cases import Registration, ports
from services.registration.use_cases.common import Hashing, HolderIds, utc_now
from services.registration.use_cases.email_change import EmailChanges
from services.registration.use_cases.franceconnect import FranceConnectAccounts, VerifiedOpening
from services.registration.use_cases.identity import HeldIdentities, IdentityProvider
from services.registration.use_cases.login_alerts import LoginAlerts
from services.registration.use_cases.mails import MailDesk
from services.registration.use_cases.password_reset import PasswordResets
from services.registration.use_cases.queries import Views
from services.registration.use_cases.sessions import LogIn
from services.registration.use_cases.signup import SignUp, SignupLimits

GROUP = "registration"
log = logging.getLogger("registration.app")


CGU_TEXT = (
    "Conditions générales d'utilisation du service Mon Compte Formation (version 2026-01). "
    "Le titulaire accède à ses droits à la formation ; ses données sont traitées pour la gestion de son compte."
)


def build(settings: Settings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or Settings()
    rt = ServiceRuntime.create(
        "registration", kafka_bootstrap=settings.kafka_bootstrap_servers, redis_url=settings.redis_url
    )

    writer = rt.transactional_writer()
    store = RegistrationStore(
        rt.redis,
        writer,
        lambda record: rt.publisher.event(
            topics.ACCOUNT_STATE,
            record,
            key=f"{record.kind}:{record.record_id}",
            correlation_id=f"{record.kind}:{record.record_id}",
        ),
    )
    policy = LifecyclePolicy(
        link_lifetime=timedelta(hours=settings.link_lifetime_h),
        request_lifetime=timedelta(hours=settings.request_lifetime_h),
        resend_cooldown=timedelta(seconds=settings.resend_cooldown_s),
        max_resends=settings.max_resends,
    )
    signing = session_signing_key(
        settings.keys_dir,
        settings.session_private_key_pem.get_secret_value() if settings.session_private_key_pem else None,
    )
    holder_key = settings.holder_key()
    fc_config = FranceConnectConfig.from_settings(FranceConnectSettings())
    provider = FranceConnectClient(fc_config, RedisPendingLogins(rt.redis)) if fc_config else None
    reg = compose(
        settings,
        store,
        rt.publisher,
        holder_key,
        AccessTokens(signing, settings.access_token_ttl_s),
        policy,
        identity=provider,
        held=RedisHeldIdentities(rt.redis),
    )
    broker, guard = rt.broker, rt.guard

    @subscribe(broker, guard, topics.CHALLENGE_ISSUED, group_id=GROUP)
    async def challenge_issued(event: CaptchaChallengeIssued) -> None:
        await reg.signup.on_challenge_issued(event.request_id, event.model_dump(mode="json"), event.expires_at)

    @subscribe(broker, guard, topics.CAPTCHA_PASSED, group_id=GROUP)
    async def captcha_passed(event: CaptchaPassed) -> None:
        await reg.signup.on_check_passed(event.request_id)

    @subscribe(broker, guard, topics.CAPTCHA_FAILED, group_id=GROUP)
    async def captcha_failed(event: CaptchaFailed) -> None:
        await reg.signup.on_check_failed(event.request_id, event.reason)

    for produced in (
        topics.SECURITY_CHECK_REQUESTED,
        topics.MAIL_REQUESTED,
        topics.ACCOUNT_ACTIVATED,
        topics.IDENTITY_VERIFIED,
        topics.ACCOUNT_RECLAIMED,
        topics.ACCOUNT_STATE,
    ):
        declare_publisher(broker, produced)

    bootstrap = settings.kafka_bootstrap_servers

    async def purge() -> None:
        if purged := await reg.signup.purge():
            log.info("purged %d expired or closed requests", purged)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if not await store.needs_rebuild():  # a crash may have left Redis one write behind the topic
            log.info("caught up %d recent state records", await store.catch_up(bootstrap))
        # A Redis wiped while running is noticed within 1 s (the gate closes while it is rebuilt);
        # stale requests go every purge interval.
        async with (
            rt.lifespan(_app),
            in_background(
                rt.watch_state(store.needs_rebuild, lambda: store.rebuild(bootstrap), marker=store.REBUILT),
                every(settings.purge_interval_s, purge),
            ),
        ):
            yield
        if provider is not None:
            await provider.aclose()

    app = FastAPI(
        title="Mon Compte Formation – inscription et connexion",
        version="1.0.0",
        lifespan=lifespan,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    rt.add_operational_routes(app, settings.max_body_bytes)
    secure = settings.public_base_url.startswith("https://")

    app.add_middleware(SecurityHeaders, https=secure)

    deps.install(app, HttpSetup(reg, secure_cookies=secure, cgu_text=CGU_TEXT))
    api.install_handlers(app)  # every API refusal in one French shape
    app.include_router(api.router)
    app.include_router(web.router)  # the holder's pages

    return rt, app


def compose(
    settings: Settings,
    store: ports.RegistrationStore,
    events: ports.EventFactory,
    holder_key: bytes,
    tokens: ports.AccessTokens,
    policy: LifecyclePolicy,
    *,
    hasher: PasswordHasher | None = None,
    clock: ports.Clock = utc_now,
    identity: IdentityProvider | None = None,
    held: HeldIdentities,
) -> Registration:
    """The use cases, wired to their ports (the adapters or, in tests, the fakes)."""
    hashing = Hashing(hasher or Argon2PasswordHasher())
    holder_ids, ids = HolderIds(holder_key), SignedIds(holder_key)  # domain-separated uses of one key
    mails = MailDesk(events, settings.link_key())
    cgu = CguDocument.from_text(settings.cgu_version, CGU_TEXT)
    limits = SignupLimits(settings.allow_test_email_domains, settings.signups_per_address)
    resets = PasswordResets(
        store,
        mails,
        hashing,
        holder_ids,
        ids,
        timedelta(hours=settings.password_reset_ttl_h),
        settings.reset_cooldown_s,
        clock,
    )
    alerts = LoginAlerts(store, mails, resets, timedelta(hours=settings.not_me_link_ttl_h), clock)
    login = LogIn(store, hashing, holder_ids, tokens, alerts, settings.session_ttl_s, clock, settings.reauth_window_s)
    email_changes = EmailChanges(
        store,
        mails,
        login,
        alerts,
        timedelta(hours=settings.email_change_link_ttl_h),
        settings.email_changes_per_day,
        settings.allow_test_email_domains,
        clock,
    )
    signup = SignUp(store, events, mails, hashing, holder_ids, ids, cgu, policy, limits, clock)
    # A FranceConnect sign-up opens like any other (SignUp's events), and SignUp hands such requests back.
    opening = VerifiedOpening(store, events, mails, signup.opened_events, clock)
    signup.verified = opening
    return Registration(
        signup=signup,
        login=login,
        franceconnect=FranceConnectAccounts(store, signup, opening, login, clock),
        resets=resets,
        alerts=alerts,
        email_changes=email_changes,
        views=Views(store, policy, clock),
        cgu=cgu,
        policy=policy,
        page_key=holder_key,
        identity=identity,
        held_identities=held,
    )


def create_app() -> FastAPI:
    return build()[1]
