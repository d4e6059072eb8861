"""The captcha's composition root: builds the adapters, gives them to the use cases, and wires the
SecurityCheckRequested subscriber and the public HTTP API to those."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from eventing.service import ServiceRuntime, in_background
from services.captcha.adapters.history import KafkaRequestHistory
from services.captcha.adapters.kafka_events import KafkaCaptchaEvents
from services.captcha.adapters.redis_store import RedisChallengeStore, RedisMediaCache, RedisRateCounter
from services.captcha.adapters.renderer import ThreadedRenderer
from services.captcha.app import routes, subscribers
from services.captcha.app.deps import CaptchaUseCases
from services.captcha.app.views import error
from services.captcha.settings import Settings
from services.captcha.use_cases.checks import SecurityChecks
from services.captcha.use_cases.media import ChallengeMedia
from services.captcha.use_cases.ports import ChallengeBusy
from services.captcha.use_cases.rebuild import rebuild

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def now() -> datetime:
    return datetime.now(UTC)


def http_api(use_cases: CaptchaUseCases, lifespan: Lifespan | None = None) -> FastAPI:
    """The public HTTP API over ``use_cases`` (the routes find them in ``app.state``)."""
    app = FastAPI(
        title="Contrôle de sécurité (captcha)",
        lifespan=lifespan,
        openapi_url="/api/v1/captcha/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.captcha = use_cases

    @app.exception_handler(RequestValidationError)
    async def invalid(_r: Request, exc: RequestValidationError) -> JSONResponse:
        return error(422, "invalid", details=[{"loc": list(e["loc"]), "type": e["type"]} for e in exc.errors()])

    @app.exception_handler(ChallengeBusy)
    async def busy(_r: Request, _exc: ChallengeBusy) -> JSONResponse:
        return error(409, "busy")

    app.include_router(routes.router)
    return app


def build(settings: Settings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or Settings()
    rt = ServiceRuntime.create(
        "captcha", kafka_bootstrap=settings.kafka_bootstrap_servers, redis_url=settings.redis_url
    )
    store = RedisChallengeStore(rt.redis)
    renderer = ThreadedRenderer(settings.captcha_render_workers)
    history = KafkaRequestHistory(settings.kafka_bootstrap_servers)
    checks = SecurityChecks(store, KafkaCaptchaEvents(rt.publisher), settings.challenge(), random.SystemRandom(), now)
    media = ChallengeMedia(store, RedisMediaCache(rt.redis), renderer, now)
    subscribers.register(rt.broker, rt.guard, checks)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await renderer.prewarm()
        # A wiped Redis forgets the open challenges; the requests awaiting their check come back.
        refill = lambda: rebuild(store, history, now)  # noqa: E731
        async with rt.lifespan(_app), in_background(rt.watch_state(store.needs_rebuild, refill, marker=store.REBUILT)):
            yield
        renderer.shutdown()

    app = http_api(CaptchaUseCases(checks, media, store, RedisRateCounter(rt.redis), now), lifespan)
    rt.add_operational_routes(app)
    return rt, app


def create_app() -> FastAPI:
    return build()[1]
