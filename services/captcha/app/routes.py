"""The captcha's public HTTP API: each route calls one use case and shapes its answer (``views``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from services.captcha.app.deps import Id, UseCases
from services.captcha.app.views import (
    AnswerIn,
    AnswerOut,
    PublicChallengeOut,
    answer_response,
    challenge_or_not_found,
    error,
    media_response,
    renewal_response,
)
from services.captcha.domain.challenge import Answer
from services.captcha.domain.rate_limit import RateAction
from services.captcha.use_cases import queries
from services.captcha.use_cases.limits import admit
from services.captcha.use_cases.queries import API

router = APIRouter(prefix=API)
PNG: dict[int | str, dict[str, Any]] = {200: {"content": {"image/png": {}}}}


async def rate_limited(uc: UseCases, request: Request, action: RateAction) -> JSONResponse | None:
    """The 429 to answer when this client address is over its limit for ``action``, else ``None``."""
    address = request.client.host if request.client else "unknown"
    decision = await admit(uc.rate_counter, uc.clock, action, address)
    if decision.allowed:
        return None
    resp = error(429, "rate_limited")
    resp.headers["Retry-After"] = str(decision.retry_after_seconds)
    return resp


@router.get(
    "/requests/{request_id}/challenge",
    response_model=PublicChallengeOut,
    summary="The current security check of a sign-up request",
)
async def current_challenge(request_id: Id, uc: UseCases) -> Any:
    return challenge_or_not_found(await queries.current_challenge(uc.reader, request_id))


@router.get(
    "/challenges/{challenge_id}",
    response_model=PublicChallengeOut,
    summary="A security check's public part (never its answer)",
)
async def get_challenge(challenge_id: Id, uc: UseCases) -> Any:
    return challenge_or_not_found(await queries.challenge(uc.reader, challenge_id))


@router.get("/challenges/{challenge_id}/pictures/{choice_id}", summary="One picture (PNG)", responses=PNG)
async def picture(challenge_id: Id, choice_id: Id, uc: UseCases) -> Response:
    return media_response(await uc.media.picture(challenge_id, choice_id))


@router.get("/challenges/{challenge_id}/picture", summary="The characters to type (PNG)", responses=PNG)
async def text_picture(challenge_id: Id, uc: UseCases) -> Response:
    return media_response(await uc.media.characters(challenge_id))


@router.get(
    "/challenges/{challenge_id}/audio",
    summary="The word spoken in French (WAV)",
    responses={200: {"content": {"audio/wav": {}}}},
)
async def audio(challenge_id: Id, uc: UseCases) -> Response:
    return media_response(await uc.media.speech(challenge_id))


@router.post(
    "/challenges/{challenge_id}/answers",
    response_model=AnswerOut,
    summary="Answer a security check (click a picture, or type the word heard)",
    responses={404: {}, 409: {}, 410: {}, 422: {}, 429: {}},
)
async def answer(challenge_id: Id, body: AnswerIn, request: Request, uc: UseCases) -> Any:
    if (too_many := await rate_limited(uc, request, RateAction.ANSWER)) is not None:
        return too_many
    return answer_response(await uc.checks.answer(challenge_id, Answer(body.request_id, body.choice_id, body.typed)))


@router.post(
    "/requests/{request_id}/renewals",
    response_model=PublicChallengeOut,
    status_code=201,
    summary="Renouvelez le contrôle de sécurité",
    responses={404: {}, 409: {}, 429: {}},
)
async def renewal(request_id: Id, request: Request, uc: UseCases) -> Any:
    if (too_many := await rate_limited(uc, request, RateAction.RENEW)) is not None:
        return too_many
    return renewal_response(await uc.checks.renew(request_id))
