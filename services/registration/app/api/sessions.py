"""Sessions: log in (a session cookie and a short-lived access token), refresh the token, log out."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Request, Response

from services.registration.app.api.errors import BODY_ERRORS, FrenchRefusalsRoute, one_error
from services.registration.app.api.schemas import ErrorsOut, LoginIn, SessionOut
from services.registration.app.deps import Client, Reg, Setup
from services.registration.app.http import clear_session_cookie, set_session_cookie
from services.registration.use_cases.sessions import LoginAccepted

router = APIRouter(route_class=FrenchRefusalsRoute)


@router.post(
    "/sessions",
    status_code=201,
    response_model=SessionOut,
    responses={**BODY_ERRORS, 401: {"model": ErrorsOut}, 429: {"model": ErrorsOut}},
    summary="Log in (NIR + password)",
)
async def log_in(body: LoginIn, response: Response, reg: Reg, setup: Setup, client: Client) -> Any:
    outcome = await reg.login.log_in(body.nir, body.password, client.address, client.user_agent)
    if not isinstance(outcome, LoginAccepted):
        if outcome.code == "invalid_credentials":
            return one_error(401, "nir", outcome.code, outcome.message)
        return one_error(429, "nir", outcome.code, outcome.message, {"Retry-After": str(outcome.retry_after_s)})
    set_session_cookie(response, outcome.session_id, max_age=reg.login.session_ttl_s, secure=setup.secure_cookies)
    return SessionOut(access_token=outcome.access_token, expires_in=reg.login.tokens.ttl_s)


@router.post(
    "/sessions/current/token",
    response_model=SessionOut,
    responses={**BODY_ERRORS, 401: {"model": ErrorsOut}},
    summary="A fresh access token for the session cookie",
)
async def refresh(reg: Reg, mcf_session: Annotated[str | None, Cookie()] = None) -> Any:
    token = await reg.login.refresh(mcf_session or "")
    if token is None:
        return one_error(401, "session", "no_session", "Votre session a expiré : reconnectez-vous.")
    return SessionOut(access_token=token, expires_in=reg.login.tokens.ttl_s)


@router.delete("/sessions/current", status_code=204, responses=BODY_ERRORS, summary="Log out")
async def log_out(
    request: Request, reg: Reg, setup: Setup, mcf_session: Annotated[str | None, Cookie()] = None
) -> Response:
    sid = mcf_session
    auth = request.headers.get("authorization", "")
    if not sid and auth.lower().startswith("bearer "):
        sid = reg.login.session_of_token(auth[7:])
    if sid:
        await reg.login.log_out(sid)
    response = Response(status_code=204)
    clear_session_cookie(response, secure=setup.secure_cookies)
    return response
