"""Logging in and out, and the holder's own page ("Mes droits", whose balances the browser fetches from
the rights service with the access token)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.registration.app.deps import Client, Reg, Setup
from services.registration.app.http import (
    MAX_SESSION_ID_CHARS,
    SESSION_COOKIE,
    clear_session_cookie,
    set_session_cookie,
)
from services.registration.app.web.deps import CsrfOk, CurrentHolder, Form, Page
from services.registration.app.web.franceconnect import LOGGED_OUT, back_from_provider_logout, logout_at_provider
from services.registration.app.web.rendering import (
    CSRF_FAILED,
    NIR_MISSING,
    FormState,
    PageRenderer,
    form_text,
    see_other,
)
from services.registration.domain.diploma import Diploma
from services.registration.use_cases.sessions import LoginAccepted

LOGIN_FIELDS = frozenset({"nir", "password"})
SESSION_EXPIRED = "Votre session a expiré : reconnectez-vous."
PASSWORD_MISSING = "Saisissez votre mot de passe."  # noqa: S105 - a message
LINKED = "Votre compte est maintenant lié à FranceConnect : vous pouvez vous connecter avec FranceConnect."

router = APIRouter(include_in_schema=False)


async def login_page(page: PageRenderer, state: FormState, status_code: int = 200) -> HTMLResponse:
    return await page.render("login.html", status_code, title="Se connecter", form=state)


@router.get("/connexion", response_class=HTMLResponse)
async def login(request: Request, page: Page, holder: CurrentHolder) -> Response:
    if holder:
        return see_other("/mes-droits")
    state = FormState()
    if request.query_params.get("session") == "expiree":
        state.add(None, SESSION_EXPIRED)
    return await login_page(page, state, 200)


@router.post("/connexion", response_class=HTMLResponse)
async def login_submit(page: Page, form: Form, csrf_ok: CsrfOk, reg: Reg, setup: Setup, client: Client) -> Response:
    nir, password = form_text(form, "nir"), form_text(form, "password")
    state = FormState(values={"nir": nir})
    if not csrf_ok:
        state.add(None, CSRF_FAILED)
        return await login_page(page, state, 403)
    if not nir.strip():
        state.add("nir", NIR_MISSING, LOGIN_FIELDS)
    if not password:
        state.add("password", PASSWORD_MISSING, LOGIN_FIELDS)
    if state.has_errors:
        return await login_page(page, state, 422)
    outcome = await reg.login.log_in(nir, password, client.address, client.user_agent)
    if not isinstance(outcome, LoginAccepted):
        state.add("nir", outcome.message, LOGIN_FIELDS)
        refused = await login_page(page, state, 401 if outcome.code == "invalid_credentials" else 429)
        if outcome.retry_after_s:
            refused.headers["Retry-After"] = str(outcome.retry_after_s)
        return refused
    response = see_other("/mes-droits")
    set_session_cookie(response, outcome.session_id, max_age=reg.login.session_ttl_s, secure=setup.secure_cookies)
    return response


@router.get("/mes-droits", response_class=HTMLResponse)
async def my_rights(request: Request, page: Page, reg: Reg, holder: CurrentHolder) -> Response:
    if holder is None:
        return see_other("/connexion?session=expiree" if request.cookies.get(SESSION_COOKIE) else "/connexion")
    account = await reg.views.account(holder)
    return await page.render(
        "rights.html",
        title="Mes droits",
        private=True,
        logged_in=True,
        first_name=account.first_name if account else "",
        diploma=account.highest_diploma if account else Diploma.NOT_GIVEN,
        identity_verified_by=account.identity_verified_by if account else None,
        notice=LINKED if request.query_params.get("franceconnect") == "lie" else "",
    )


@router.post("/deconnexion", response_class=HTMLResponse)
async def logout(request: Request, page: Page, csrf_ok: CsrfOk, reg: Reg, setup: Setup) -> Response:
    if not csrf_ok:
        return await page.render("message.html", 403, title="Déconnexion", message=CSRF_FAILED, back="/mes-droits")
    sid = request.cookies.get(SESSION_COOKIE, "")
    id_token = await reg.login.log_out(sid) if sid and len(sid) <= MAX_SESSION_ID_CHARS else None
    # A FranceConnect login ends at the provider too (docs/identity.md); otherwise the page below.
    response = await logout_at_provider(page, reg, setup, id_token) or see_other(LOGGED_OUT)
    clear_session_cookie(response, secure=setup.secure_cookies)
    return response


@router.get(LOGGED_OUT, response_class=HTMLResponse)
async def logged_out(request: Request, page: Page, setup: Setup) -> Response:
    return await back_from_provider_logout(request, page, setup)
