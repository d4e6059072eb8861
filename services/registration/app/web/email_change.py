"""Changing the e-mail address from "Mes droits" (issue 13, item 6; ``use_cases/email_change.py``).

``/mes-droits/courriel`` asks the logged-in holder to prove it again (the password, or a fresh
FranceConnect login for a linked account: ``franceconnect.reauth_start``), then for the new address; the
link mailed there leads to ``/courriel/confirmation``, a page with one button (a mail scanner fetching
the link changes nothing).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.registration.app.deps import Client, Reg
from services.registration.app.http import SESSION_COOKIE
from services.registration.app.web.deps import CsrfOk, CurrentHolder, Form, Page
from services.registration.app.web.franceconnect import EMAIL_CHANGE_PAGE
from services.registration.app.web.rendering import CSRF_FAILED, FormState, PageRenderer, form_text, see_other
from services.registration.domain.email_change import EmailChangeLinkInvalid
from services.registration.use_cases import Registration
from services.registration.use_cases.email_change import ReauthenticationNeeded

CONFIRM = "/courriel/confirmation"
FIELDS = frozenset({"email", "email_confirmation", "password"})
TITLE = "Modifier mon adresse e-mail"
PASSWORD_MISSING = "Saisissez votre mot de passe."  # noqa: S105 - a message
REAUTH_EXPIRED = "Le délai pour modifier votre adresse est passé : confirmez à nouveau votre identité."

router = APIRouter(include_in_schema=False)


def session_of(request: Request) -> str:
    return request.cookies.get(SESSION_COOKIE, "")


async def change_page(
    page: PageRenderer, reg: Registration, holder: str, session_id: str, state: FormState, status_code: int = 200
) -> HTMLResponse:
    account = await reg.views.account(holder)
    verified = await reg.login.recently_authenticated(session_id)
    return await page.render(
        "email_change.html",
        status_code,
        title=TITLE,
        private=True,
        logged_in=True,
        form=state,
        stage="form" if verified else "verify",
        current_email=account.email if account else "",
        has_password=bool(account and account.has_password),
        franceconnect=bool(account and account.franceconnect_linked and reg.identity is not None),
        window_minutes=reg.login.reauth_window_s // 60,
    )


@router.get(EMAIL_CHANGE_PAGE, response_class=HTMLResponse)
async def email_change(request: Request, page: Page, reg: Reg, holder: CurrentHolder) -> Response:
    if holder is None:
        return see_other("/connexion?session=expiree")
    return await change_page(page, reg, holder, session_of(request), FormState())


@router.post(EMAIL_CHANGE_PAGE + "/mot-de-passe", response_class=HTMLResponse)
async def reauthenticate(
    request: Request, page: Page, form: Form, csrf_ok: CsrfOk, reg: Reg, holder: CurrentHolder, client: Client
) -> Response:
    if holder is None:
        return see_other("/connexion?session=expiree")
    state, session_id = FormState(), session_of(request)
    if not csrf_ok:
        state.add(None, CSRF_FAILED)
        return await change_page(page, reg, holder, session_id, state, 403)
    password = form_text(form, "password")
    if not password:
        state.add("password", PASSWORD_MISSING, FIELDS)
        return await change_page(page, reg, holder, session_id, state, 422)
    refused = await reg.login.reauthenticate(holder, session_id, password, client.address)
    if refused is None:
        return see_other(EMAIL_CHANGE_PAGE)
    state.add("password", refused.message, FIELDS)
    answer = await change_page(page, reg, holder, session_id, state, 401 if refused.code == "wrong_password" else 429)
    if refused.retry_after_s:
        answer.headers["Retry-After"] = str(refused.retry_after_s)
    return answer


@router.post(EMAIL_CHANGE_PAGE, response_class=HTMLResponse)
async def request_change(
    request: Request, page: Page, form: Form, csrf_ok: CsrfOk, reg: Reg, holder: CurrentHolder
) -> Response:
    if holder is None:
        return see_other("/connexion?session=expiree")
    email, confirmation = form_text(form, "email"), form_text(form, "email_confirmation")
    state, session_id = FormState(values={"email": email, "email_confirmation": confirmation}), session_of(request)
    if not csrf_ok:
        state.add(None, CSRF_FAILED)
        return await change_page(page, reg, holder, session_id, state, 403)
    outcome = await reg.email_changes.request(holder, session_id, email, confirmation)
    if isinstance(outcome, ReauthenticationNeeded):
        state.add(None, REAUTH_EXPIRED)
        return await change_page(page, reg, holder, session_id, state, 401)
    if isinstance(outcome, list):
        state.add_all(outcome, FIELDS)
        throttled = any(error.code == "too_many_requests" for error in outcome)
        return await change_page(page, reg, holder, session_id, state, 429 if throttled else 422)
    account = await reg.views.account(holder)
    return await page.render(
        "email_change.html",
        title="Consultez votre messagerie",
        private=True,
        logged_in=True,
        stage="sent",
        new_email=outcome.new_email,
        current_email=account.email if account else "",
        link_validity=f"{round(reg.email_changes.link_lifetime.total_seconds() / 3600)} heures",
    )


@router.get(CONFIRM, response_class=HTMLResponse)
async def confirm_page(page: Page, token: str = "") -> HTMLResponse:
    return await page.render(
        "email_change_confirm.html", title="Confirmer ma nouvelle adresse", private=True, token=token[:200], done=False
    )


@router.post(CONFIRM, response_class=HTMLResponse)
async def confirm(request: Request, page: Page, form: Form, csrf_ok: CsrfOk, reg: Reg) -> Response:
    if not csrf_ok:
        return await page.render("message.html", 403, title="Confirmer ma nouvelle adresse", message=CSRF_FAILED)
    try:
        changed = await reg.email_changes.confirm(form_text(form, "token"), session_of(request))
    except EmailChangeLinkInvalid as exc:
        return await page.render("message.html", 410, title="Lien non valide", message=exc.message, back="/mes-droits")
    return await page.render(
        "email_change_confirm.html",
        title="Adresse e-mail modifiée",
        private=True,
        done=True,
        new_email=changed.new_email,
    )
