"""Wiring of the captcha service: the SecurityCheckRequested subscriber and the public HTTP API."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from contracts import topics
from contracts.registration import SecurityCheckRequested
from eventing.consuming import CurrentEnvelope, declare_publisher, subscribe
from eventing.service import ServiceRuntime, in_background
from services.captcha.adapters.audio import render_audio
from services.captcha.adapters.pictures import prewarm_pictograms, render_pictogram
from services.captcha.adapters.redis_store import ChallengeBusy, RedisChallengeStore
from services.captcha.adapters.text_image import render_text_challenge
from services.captcha.domain.challenge import (
    Answer,
    Challenge,
    ChallengeKind,
    Reason,
    RenewalVerdict,
    Verdict,
)
from services.captcha.domain.rate_limit import RateAction, decide, rate_window
from services.captcha.handlers import CaptchaService, audio_url, picture_url, text_picture_url
from services.captcha.settings import Settings

GROUP = "captcha"
Id = Annotated[str, Path(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]

MESSAGES: dict[str, str] = {
    "not_found": "Ce contrôle de sécurité n'existe pas. Renouvelez le contrôle de sécurité.",
    Reason.EXPIRED.value: "Le contrôle de sécurité a expiré. Renouvelez le contrôle de sécurité.",
    Reason.ATTEMPTS_EXHAUSTED.value: "Vous avez épuisé vos essais. Renouvelez le contrôle de sécurité.",
    Reason.WRONG_ANSWER.value: "Ce n'est pas la bonne réponse. Essayez encore.",
    Reason.ALREADY_PASSED.value: "Ce contrôle de sécurité a déjà été réussi.",
    Reason.SUPERSEDED.value: "Ce contrôle de sécurité a été remplacé par un nouveau.",
    Reason.REQUEST_FAILED.value: "Trop de contrôles de sécurité ont été demandés : recommencez votre inscription.",
    Reason.REQUEST_MISMATCH.value: "Ce contrôle de sécurité ne correspond pas à votre demande.",
    Reason.EMPTY_ANSWER.value: "Cliquez sur une image ou saisissez le mot entendu.",
    Reason.RENEWAL_CAP_EXCEEDED.value: "Trop de contrôles de sécurité ont été demandés : "
    "recommencez votre inscription.",
    "rate_limited": "Trop de tentatives depuis votre connexion. Réessayez dans quelques minutes.",
    "busy": "Une réponse est déjà en cours de vérification. Réessayez.",
    "invalid": "La réponse envoyée est incomplète ou mal formée.",
}


class AnswerIn(BaseModel):
    request_id: str = Field(min_length=1, max_length=64)
    choice_id: str | None = Field(default=None, max_length=64)
    typed: str | None = Field(default=None, max_length=64)


class PublicChallengeOut(BaseModel):
    challenge_id: str
    request_id: str
    kind: Literal["image", "text"]
    prompt: str | None
    instruction: str
    pictures: list[dict[str, str]]
    audio_url: str
    expires_at: datetime
    attempts_left: int
    renewals_left: int
    status: str


class AnswerOut(BaseModel):
    status: Literal["passed", "wrong", "dead", "refused"]
    reason: str | None = None
    message: str
    attempts_left: int


def error(status: int, code: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": MESSAGES.get(code, code), **extra}}, status_code=status)


def public_view(ch: Challenge) -> PublicChallengeOut:
    pub = ch.public()
    if ch.kind is ChallengeKind.TEXT:
        pictures = [{"id": "text", "url": text_picture_url(ch)}]
        instruction = "Saisissez les caractères affichés dans l'image (majuscules ou minuscules indifférentes)."
    else:
        pictures = [{"id": c, "url": picture_url(ch, c)} for c in pub.choice_ids]
        instruction = f"Cliquez sur l'image {pub.prompt_word}"
    return PublicChallengeOut(
        challenge_id=ch.challenge_id,
        request_id=ch.request_id,
        kind=ch.kind.value,
        prompt=pub.prompt_word,
        instruction=instruction,
        pictures=pictures,
        audio_url=audio_url(ch),
        expires_at=pub.expires_at,
        attempts_left=pub.attempts_left,
        renewals_left=pub.renewals_left,
        status=ch.status.value,
    )


def build(settings: Settings | None = None) -> tuple[ServiceRuntime, FastAPI]:
    settings = settings or Settings()
    rt = ServiceRuntime.create(
        "captcha", kafka_bootstrap=settings.kafka_bootstrap_servers, redis_url=settings.redis_url
    )
    store = RedisChallengeStore(rt.redis)
    service = CaptchaService(store, rt.publisher, settings.challenge(), random.SystemRandom())
    renderers = ThreadPoolExecutor(settings.captcha_render_workers, thread_name_prefix="render")

    @subscribe(rt.broker, rt.guard, topics.SECURITY_CHECK_REQUESTED, group_id=GROUP)
    async def account_requested(event: SecurityCheckRequested, env: CurrentEnvelope) -> None:
        await service.on_account_requested(event.request_id, env.event_id, event.expires_at)

    for produced in (topics.CHALLENGE_ISSUED, topics.CAPTCHA_PASSED, topics.CAPTCHA_FAILED):
        declare_publisher(rt.broker, produced)

    async def off_loop(fn: Callable[..., bytes], *args: Any) -> bytes:
        return await asyncio.get_running_loop().run_in_executor(renderers, fn, *args)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await asyncio.get_running_loop().run_in_executor(renderers, prewarm_pictograms)
        # A wiped Redis forgets the open challenges; the requests awaiting their check come back.
        rebuild = lambda: service.rebuild(settings.kafka_bootstrap_servers)  # noqa: E731
        async with rt.lifespan(_app), in_background(rt.watch_state(store.needs_rebuild, rebuild)):
            yield
        renderers.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        title="Contrôle de sécurité (captcha)",
        lifespan=lifespan,
        openapi_url="/api/v1/captcha/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    rt.add_operational_routes(app)

    @app.exception_handler(RequestValidationError)
    async def invalid(_r: Request, exc: RequestValidationError) -> JSONResponse:
        return error(422, "invalid", details=[{"loc": list(e["loc"]), "type": e["type"]} for e in exc.errors()])

    async def limited(request: Request, action: RateAction) -> JSONResponse | None:
        now = datetime.now(UTC)
        address = request.client.host if request.client else "unknown"
        window = rate_window(action, address, now)
        decision = decide(action, await store.count(window.key, window.ttl_seconds), now)
        if decision.allowed:
            return None
        resp = error(429, "rate_limited")
        resp.headers["Retry-After"] = str(decision.retry_after_seconds)
        return resp

    async def media(key: str, ch: Challenge, render: Callable[[], Awaitable[bytes]], media_type: str) -> Response:
        # Rendered once per challenge and cached until it expires: reloading shows the same picture.
        cached = await store.cached_media(key)
        data = cached if cached is not None else await render()
        if cached is None:
            await store.cache_media(key, data, int((ch.expires_at - datetime.now(UTC)).total_seconds()) + 60)
        return Response(data, media_type=media_type, headers={"Cache-Control": "no-store"})

    @app.get(
        "/api/v1/captcha/requests/{request_id}/challenge",
        response_model=PublicChallengeOut,
        summary="The current security check of a sign-up request",
    )
    async def current_challenge(request_id: Id) -> Any:
        cid = await store.current_id(request_id)
        ch = await store.get(cid) if cid else None
        return public_view(ch) if ch else error(404, "not_found")

    @app.get(
        "/api/v1/captcha/challenges/{challenge_id}",
        response_model=PublicChallengeOut,
        summary="A security check's public part (never its answer)",
    )
    async def get_challenge(challenge_id: Id) -> Any:
        ch = await store.get(challenge_id)
        return public_view(ch) if ch else error(404, "not_found")

    @app.get(
        "/api/v1/captcha/challenges/{challenge_id}/pictures/{choice_id}",
        summary="One picture (PNG)",
        responses={200: {"content": {"image/png": {}}}},
    )
    async def picture(challenge_id: Id, choice_id: Id) -> Response:
        ch = await store.get(challenge_id)
        choice = ch.choice(choice_id) if ch else None
        if ch is None or choice is None:
            return error(404, "not_found")
        if ch.is_expired(datetime.now(UTC)):
            return error(410, Reason.EXPIRED.value)
        seed = f"{challenge_id}/{choice_id}"
        return await media(
            f"pic:{challenge_id}:{choice_id}",
            ch,
            lambda: off_loop(render_pictogram, choice.pictogram.emoji, seed),
            "image/png",
        )

    @app.get(
        "/api/v1/captcha/challenges/{challenge_id}/picture",
        summary="The characters to type (PNG)",
        responses={200: {"content": {"image/png": {}}}},
    )
    async def text_picture(challenge_id: Id) -> Response:
        ch = await store.get(challenge_id)
        if ch is None or ch.kind is not ChallengeKind.TEXT or ch.expected.characters is None:
            return error(404, "not_found")
        if ch.is_expired(datetime.now(UTC)):
            return error(410, Reason.EXPIRED.value)
        text = ch.expected.characters
        return await media(
            f"txt:{challenge_id}",
            ch,
            lambda: off_loop(render_text_challenge, text, challenge_id),
            "image/png",
        )

    @app.get(
        "/api/v1/captcha/challenges/{challenge_id}/audio",
        summary="The word spoken in French (WAV)",
        responses={200: {"content": {"audio/wav": {}}}},
    )
    async def audio(challenge_id: Id) -> Response:
        ch = await store.get(challenge_id)
        if ch is None:
            return error(404, "not_found")
        if ch.is_expired(datetime.now(UTC)):
            return error(410, Reason.EXPIRED.value)
        return await media(
            f"audio:{challenge_id}", ch, lambda: off_loop(render_audio, ch.spoken, challenge_id), "audio/wav"
        )

    @app.post(
        "/api/v1/captcha/challenges/{challenge_id}/answers",
        response_model=AnswerOut,
        summary="Answer a security check (click a picture, or type the word heard)",
        responses={404: {}, 409: {}, 410: {}, 422: {}, 429: {}},
    )
    async def answer(challenge_id: Id, body: AnswerIn, request: Request) -> Any:
        if (too_many := await limited(request, RateAction.ANSWER)) is not None:
            return too_many
        ch = await store.get(challenge_id)
        if ch is None:
            return error(404, "not_found")
        try:
            outcome = await service.answer(ch, Answer(body.request_id, body.choice_id, body.typed))
        except ChallengeBusy:
            return error(409, "busy")
        left = outcome.challenge.attempts_left
        reason = outcome.reason.value if outcome.reason else None
        status = {Verdict.PASSED: 200, Verdict.WRONG: 422, Verdict.DEAD: 410, Verdict.REFUSED: 409}[outcome.verdict]
        if outcome.reason is Reason.EMPTY_ANSWER:
            status = 422
        message = "Contrôle de sécurité réussi." if outcome.passed else MESSAGES[reason or "invalid"]
        return JSONResponse(
            AnswerOut(
                status=outcome.verdict.value,
                reason=reason,
                message=message,
                attempts_left=left,
            ).model_dump(),
            status_code=status,
        )

    @app.post(
        "/api/v1/captcha/requests/{request_id}/renewals",
        response_model=PublicChallengeOut,
        status_code=201,
        summary="Renouvelez le contrôle de sécurité",
        responses={404: {}, 409: {}, 429: {}},
    )
    async def renewal(request_id: Id, request: Request) -> Any:
        if (too_many := await limited(request, RateAction.RENEW)) is not None:
            return too_many
        try:
            result = await service.renew(request_id)
        except ChallengeBusy:
            return error(409, "busy")
        if result is None:
            return error(404, "not_found")
        if result.verdict is RenewalVerdict.RENEWED and result.challenge is not None:
            return JSONResponse(public_view(result.challenge).model_dump(mode="json"), status_code=201)
        return error(409, result.reason.value if result.reason else "invalid")

    return rt, app


def create_app() -> FastAPI:
    return build()[1]
