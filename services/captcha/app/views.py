"""What the captcha's HTTP API says: request and response models, French messages, status codes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from services.captcha.domain.challenge import ChallengeKind, Outcome, Reason, Renewal, RenewalVerdict, Verdict
from services.captcha.use_cases.media import Media, MediaRefused
from services.captcha.use_cases.queries import ChallengeView, view_of

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
PASSED_MESSAGE = "Contrôle de sécurité réussi."
TEXT_INSTRUCTION = "Saisissez les caractères affichés dans l'image (majuscules ou minuscules indifférentes)."
ANSWER_STATUS = {Verdict.PASSED: 200, Verdict.WRONG: 422, Verdict.DEAD: 410, Verdict.REFUSED: 409}
MEDIA_REFUSAL_STATUS = {MediaRefused.NOT_FOUND: 404, MediaRefused.EXPIRED: 410}


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


def public_challenge(view: ChallengeView) -> PublicChallengeOut:
    if view.kind is ChallengeKind.TEXT:
        instruction = TEXT_INSTRUCTION
    else:
        instruction = f"Cliquez sur l'image {view.prompt_word}"
    return PublicChallengeOut(
        challenge_id=view.challenge_id,
        request_id=view.request_id,
        kind=view.kind.value,
        prompt=view.prompt_word,
        instruction=instruction,
        pictures=[{"id": p.picture_id, "url": p.url} for p in view.pictures],
        audio_url=view.audio_url,
        expires_at=view.expires_at,
        attempts_left=view.attempts_left,
        renewals_left=view.renewals_left,
        status=view.status,
    )


def challenge_or_not_found(view: ChallengeView | None) -> PublicChallengeOut | JSONResponse:
    return public_challenge(view) if view else error(404, "not_found")


def answer_response(outcome: Outcome | None) -> JSONResponse:
    if outcome is None:
        return error(404, "not_found")
    reason = outcome.reason.value if outcome.reason else None
    status = 422 if outcome.reason is Reason.EMPTY_ANSWER else ANSWER_STATUS[outcome.verdict]
    body = AnswerOut(
        status=outcome.verdict.value,
        reason=reason,
        message=PASSED_MESSAGE if outcome.passed else MESSAGES[reason or "invalid"],
        attempts_left=outcome.challenge.attempts_left,
    )
    return JSONResponse(body.model_dump(), status_code=status)


def renewal_response(result: Renewal | None) -> JSONResponse:
    if result is None:
        return error(404, "not_found")
    if result.verdict is RenewalVerdict.RENEWED and result.challenge is not None:
        return JSONResponse(public_challenge(view_of(result.challenge)).model_dump(mode="json"), status_code=201)
    return error(409, result.reason.value if result.reason else "invalid")


def media_response(result: Media | MediaRefused) -> Response:
    if isinstance(result, MediaRefused):
        return error(MEDIA_REFUSAL_STATUS[result], result.value)
    return Response(result.data, media_type=result.media_type, headers={"Cache-Control": "no-store"})
