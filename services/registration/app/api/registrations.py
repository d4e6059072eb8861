"""Sign-up requests: open one, see where it stands, ask for a new link, activate the account."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from services.registration.app.api.errors import BODY_ERRORS, SHAPE_ERRORS, FrenchRefusalsRoute, errors, one_error
from services.registration.app.api.schemas import (
    ActivationOut,
    ErrorsOut,
    RegistrationAccepted,
    RegistrationIn,
    RegistrationStatusOut,
    RequestId,
    TokenIn,
)
from services.registration.app.deps import ClientHost, Reg
from services.registration.app.http import ACTIVATION_ERRORS
from services.registration.domain.account import (
    AlreadyActive,
    CaptchaPending,
    RequestExpired,
    RequestRejected,
    ResendLimitReached,
    ResendTooSoon,
)
from services.registration.domain.errors import DomainError
from services.registration.use_cases.ports import LockBusy
from services.registration.use_cases.signup import SignupAccepted, SignupThrottled

UNKNOWN_REQUEST = "Cette demande d'inscription est inconnue ou a expiré."

router = APIRouter(route_class=FrenchRefusalsRoute)


def unknown_request() -> JSONResponse:
    return one_error(404, "request_id", "unknown_request", UNKNOWN_REQUEST)


@router.post(
    "/registrations",
    status_code=202,
    response_model=RegistrationAccepted,
    responses={**BODY_ERRORS, 429: {"model": ErrorsOut, "description": "too many sign-ups from this address"}},
    summary="Open an account (sign-up form)",
)
async def sign_up(body: RegistrationIn, reg: Reg, client: ClientHost) -> Any:
    outcome = await reg.signup.sign_up(body.to_form(), channel="api", client=client)
    if isinstance(outcome, SignupThrottled):
        return one_error(429, "body", outcome.code, outcome.message, {"Retry-After": str(outcome.retry_after_s)})
    if not isinstance(outcome, SignupAccepted):
        return errors(422, outcome)
    return JSONResponse(
        {
            "request_id": outcome.request_id,
            "status": "awaiting_captcha",
            "status_url": f"/api/v1/registrations/{outcome.request_id}",
        },
        status_code=202,
    )


@router.get(
    "/registrations/{request_id}",
    response_model=RegistrationStatusOut,
    responses={**SHAPE_ERRORS, 404: {"model": ErrorsOut}},
    summary="Where a sign-up request stands",
)
async def status(request_id: RequestId, reg: Reg) -> Any:
    view = await reg.views.request(request_id)
    if view is None:
        return unknown_request()
    return RegistrationStatusOut(
        request_id=request_id,
        status=view.status.value,
        challenge=view.challenge,
        resends_left=view.resends_left,
        expires_at=view.expires_at,
    )


@router.post(
    "/registrations/{request_id}/resend",
    status_code=202,
    response_model=RegistrationStatusOut,
    responses={
        **BODY_ERRORS,
        404: {"model": ErrorsOut},
        409: {"model": ErrorsOut},
        410: {"model": ErrorsOut},
        429: {"model": ErrorsOut},
    },
    summary="Send a new confirmation link",
)
async def resend(request_id: RequestId, reg: Reg) -> Any:
    try:
        updated = await reg.signup.resend(request_id)
    except ResendTooSoon as exc:
        return one_error(429, "request_id", exc.code, str(exc), {"Retry-After": str(exc.retry_after_seconds)})
    except ResendLimitReached as exc:
        return one_error(429, "request_id", exc.code, str(exc))
    except CaptchaPending as exc:
        return one_error(409, "request_id", exc.code, str(exc))
    except (RequestExpired, RequestRejected, AlreadyActive) as exc:
        return one_error(410 if not isinstance(exc, AlreadyActive) else 409, "request_id", exc.code, str(exc))
    if updated is None:
        return unknown_request()
    return JSONResponse(
        RegistrationStatusOut(
            request_id=request_id,
            status=updated.status_at(datetime.now(UTC)).value,
            resends_left=updated.resends_left(reg.policy),
            expires_at=updated.expires_at,
        ).model_dump(mode="json"),
        status_code=202,
    )


@router.post(
    "/activations",
    response_model=ActivationOut,
    responses={**BODY_ERRORS, 404: {"model": ErrorsOut}, 409: {"model": ErrorsOut}, 410: {"model": ErrorsOut}},
    summary="Activate an account with the e-mailed link's token",
)
async def activate(body: TokenIn, reg: Reg) -> Any:
    try:
        outcome = await reg.signup.activate(body.token)
    except LockBusy:
        return one_error(409, "token", "busy", "Activation en cours, réessayez dans un instant.")
    except DomainError as exc:
        status_code, code = ACTIVATION_ERRORS.get(type(exc), (410, exc.code))
        return one_error(status_code, "token", code, str(exc))
    if outcome.already_active:
        return ActivationOut(status="already_active", message="Votre compte est déjà activé : connectez-vous.")
    return ActivationOut(status="activated", message="Votre compte personnel sécurisé est activé.")
