"""The public JSON API of registration under ``/api/v1`` (the OpenAPI document is committed)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Cookie, Path, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from services.registration.domain.account import (
    AlreadyActive,
    CaptchaPending,
    LinkExpired,
    RequestExpired,
    RequestRejected,
    ResendLimitReached,
    ResendTooSoon,
    UnknownLink,
)
from services.registration.domain.address import AddressForm
from services.registration.domain.errors import DomainError, FieldError
from services.registration.domain.signup import SignupForm
from services.registration.use_cases import Registration
from services.registration.use_cases.ports import LockBusy
from services.registration.use_cases.sessions import LoginAccepted
from services.registration.use_cases.signup import SignupAccepted, SignupThrottled

SESSION_COOKIE = "mcf_session"
RequestId = Annotated[str, Path(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class ErrorItem(BaseModel):
    field: str
    code: str
    message: str


class ErrorsOut(BaseModel):
    errors: list[ErrorItem]


class MessageOut(BaseModel):
    message: str


# Every refusal has the same shape, request-shape errors (422) and oversized bodies (413) included.
SHAPE_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorsOut, "description": "Invalid fields, all at once (French messages)"},
}
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    **SHAPE_ERRORS,
    400: {"model": ErrorsOut, "description": "Unreadable body (not UTF-8, nested too deep)"},
    413: {"model": ErrorsOut, "description": "Request body too large"},
}


class AddressIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    number: str | None = Field(default=None, max_length=10)
    repetition_index: str | None = Field(default=None, max_length=10, description="bis, ter, quater")
    street_type: str | None = Field(default=None, max_length=40)
    street_name: str | None = Field(default=None, max_length=200)
    complement: str | None = Field(default=None, max_length=200)
    locality: str | None = Field(default=None, max_length=200)
    postcode: str | None = Field(default=None, max_length=10)
    city: str | None = Field(default=None, max_length=100)


class RegistrationIn(BaseModel):
    """The sign-up form. Every field is checked by the domain rules, which report all errors at once."""

    model_config = ConfigDict(extra="ignore")
    nir: str | None = Field(default=None, max_length=40, description="13 characters (digits, or 2A/2B)")
    nir_key: str | None = Field(default=None, max_length=10, description="the 2-digit key")
    first_name: str | None = Field(default=None, max_length=200)
    birth_name: str | None = Field(default=None, max_length=200)
    phone_landline: str | None = Field(default=None, max_length=40)
    phone_mobile: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)
    email_confirmation: str | None = Field(default=None, max_length=320)
    password: str | None = Field(default=None, max_length=1000)
    password_confirmation: str | None = Field(default=None, max_length=1000)
    address: AddressIn | None = None
    highest_diploma: str | None = Field(default=None, max_length=40)
    apprenticeship_contract: bool = False
    cgu_accepted: bool = False
    website: str | None = Field(default=None, max_length=200, description="leave empty (anti-robot field)")

    def to_form(self) -> SignupForm:
        return SignupForm(
            nir=self.nir,
            nir_key=self.nir_key,
            first_name=self.first_name,
            birth_name=self.birth_name,
            phone_landline=self.phone_landline,
            phone_mobile=self.phone_mobile,
            email=self.email,
            email_confirmation=self.email_confirmation,
            password=self.password,
            password_confirmation=self.password_confirmation,
            address=AddressForm(**self.address.model_dump()) if self.address else None,
            highest_diploma=self.highest_diploma,
            apprenticeship_contract=self.apprenticeship_contract,
            cgu_accepted=self.cgu_accepted,
            honeypot=self.website,
        )


class RegistrationAccepted(BaseModel):
    request_id: str
    status: Literal["awaiting_captcha"]
    status_url: str


class RegistrationStatusOut(BaseModel):
    request_id: str
    status: Literal["awaiting_captcha", "awaiting_confirmation", "active", "expired", "rejected"]
    challenge: dict[str, Any] | None = None
    resends_left: int
    expires_at: datetime


class TokenIn(BaseModel):
    token: str = Field(min_length=16, max_length=200)


class ActivationOut(BaseModel):
    status: Literal["activated", "already_active"]
    message: str


class LoginIn(BaseModel):
    nir: str = Field(max_length=40)
    password: str = Field(max_length=1000)


class SessionOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int


class ResetIn(BaseModel):
    nir: str = Field(max_length=40)


class ResetConfirmIn(BaseModel):
    token: str = Field(min_length=16, max_length=200)
    password: str = Field(max_length=1000)
    password_confirmation: str = Field(max_length=1000)


def errors(status: int, items: list[FieldError], headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"errors": [{"field": e.field, "code": e.code, "message": e.message} for e in items]}
    return JSONResponse(body, status_code=status, headers=headers)


def one_error(status: int, field: str, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return errors(status, [FieldError(field, code, message)], headers)


ACTIVATION_ERRORS: dict[type[DomainError], tuple[int, str]] = {
    UnknownLink: (404, "unknown_link"),
    LinkExpired: (410, "link_expired"),
    RequestExpired: (410, "request_expired"),
    RequestRejected: (410, "request_rejected"),
}


class FrenchRefusalsRoute(APIRoute):
    """FastAPI answers a body it cannot even decode (invalid UTF-8, JSON nested too deep for the parser) with
    an English ``{"detail": ...}`` 400; this API answers every refusal in its one shape, in French."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def french(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as exc:
                if exc.status_code != 400:
                    raise
                return one_error(
                    400,
                    "body",
                    "unreadable_body",
                    "Le contenu envoyé n'a pas pu être lu : envoyez un objet JSON encodé en UTF-8.",
                )

        return french


def router(reg: Registration, *, secure_cookies: bool) -> APIRouter:
    api = APIRouter(prefix="/api/v1", route_class=FrenchRefusalsRoute)

    @api.post(
        "/registrations",
        status_code=202,
        response_model=RegistrationAccepted,
        responses={**BODY_ERRORS, 429: {"model": ErrorsOut, "description": "too many sign-ups from this address"}},
        summary="Open an account (sign-up form)",
    )
    async def sign_up(body: RegistrationIn, request: Request) -> Any:
        client = request.client.host if request.client else "unknown"
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

    @api.get(
        "/registrations/{request_id}",
        response_model=RegistrationStatusOut,
        responses={**SHAPE_ERRORS, 404: {"model": ErrorsOut}},
        summary="Where a sign-up request stands",
    )
    async def status(request_id: RequestId) -> Any:
        view = await reg.views.request(request_id)
        if view is None:
            return one_error(
                404, "request_id", "unknown_request", "Cette demande d'inscription est inconnue ou a expiré."
            )
        return RegistrationStatusOut(
            request_id=request_id,
            status=view.status.value,
            challenge=view.challenge,
            resends_left=view.resends_left,
            expires_at=view.expires_at,
        )

    @api.post(
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
    async def resend(request_id: RequestId) -> Any:
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
            return one_error(
                404, "request_id", "unknown_request", "Cette demande d'inscription est inconnue ou a expiré."
            )
        return JSONResponse(
            RegistrationStatusOut(
                request_id=request_id,
                status=updated.status_at(datetime.now(UTC)).value,
                resends_left=updated.resends_left(reg.policy),
                expires_at=updated.expires_at,
            ).model_dump(mode="json"),
            status_code=202,
        )

    @api.post(
        "/activations",
        response_model=ActivationOut,
        responses={**BODY_ERRORS, 404: {"model": ErrorsOut}, 409: {"model": ErrorsOut}, 410: {"model": ErrorsOut}},
        summary="Activate an account with the e-mailed link's token",
    )
    async def activate(body: TokenIn) -> Any:
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

    @api.post(
        "/sessions",
        status_code=201,
        response_model=SessionOut,
        responses={**BODY_ERRORS, 401: {"model": ErrorsOut}, 429: {"model": ErrorsOut}},
        summary="Log in (NIR + password)",
    )
    async def log_in(body: LoginIn, request: Request, response: Response) -> Any:
        client = request.client.host if request.client else "unknown"
        outcome = await reg.login.log_in(body.nir, body.password, client)
        if not isinstance(outcome, LoginAccepted):
            if outcome.code == "invalid_credentials":
                return one_error(401, "nir", outcome.code, outcome.message)
            return one_error(429, "nir", outcome.code, outcome.message, {"Retry-After": str(outcome.retry_after_s)})
        response.set_cookie(
            SESSION_COOKIE,
            outcome.session_id,
            max_age=reg.login.session_ttl_s,
            httponly=True,
            samesite="lax",
            secure=secure_cookies,
            path="/",
        )
        return SessionOut(access_token=outcome.access_token, expires_in=reg.login.tokens.ttl_s)

    @api.post(
        "/sessions/current/token",
        response_model=SessionOut,
        responses={**BODY_ERRORS, 401: {"model": ErrorsOut}},
        summary="A fresh access token for the session cookie",
    )
    async def refresh(mcf_session: Annotated[str | None, Cookie()] = None) -> Any:
        token = await reg.login.refresh(mcf_session or "")
        if token is None:
            return one_error(401, "session", "no_session", "Votre session a expiré : reconnectez-vous.")
        return SessionOut(access_token=token, expires_in=reg.login.tokens.ttl_s)

    @api.delete("/sessions/current", status_code=204, responses=BODY_ERRORS, summary="Log out")
    async def log_out(request: Request, mcf_session: Annotated[str | None, Cookie()] = None) -> Response:
        sid = mcf_session
        auth = request.headers.get("authorization", "")
        if not sid and auth.lower().startswith("bearer "):
            sid = reg.login.session_of_token(auth[7:])
        if sid:
            await reg.login.log_out(sid)
        response = Response(status_code=204)
        response.delete_cookie(SESSION_COOKIE, path="/", secure=secure_cookies, httponly=True, samesite="lax")
        return response

    @api.post(
        "/password-resets",
        status_code=202,
        response_model=MessageOut,
        responses=BODY_ERRORS,
        summary="Send a password-reset link (always 202)",
    )
    async def reset(body: ResetIn) -> MessageOut:
        await reg.resets.request_reset(body.nir)
        return MessageOut(
            message="Si un compte existe pour ce numéro, un courriel de réinitialisation vient d'être envoyé."
        )

    @api.post(
        "/password-resets/confirm",
        response_model=MessageOut,
        responses=BODY_ERRORS,
        summary="Choose a new password",
    )
    async def reset_confirm(body: ResetConfirmIn) -> Any:
        problems = await reg.resets.confirm_reset(body.token, body.password, body.password_confirmation)
        if problems:
            return errors(422, problems)
        return MessageOut(message="Votre mot de passe a été modifié. Connectez-vous avec votre nouveau mot de passe.")

    return api
