"""The holder's login history ("Historique de connexion", from "Mes droits") and the "Ce n'était pas moi"
link of a new-login alert: a page with one button (a mail scanner fetching the link changes nothing),
then every session closed and a reset started (``use_cases/login_alerts.py``)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.registration.app.deps import Reg, Setup
from services.registration.app.http import SESSION_COOKIE, clear_session_cookie
from services.registration.app.web.deps import CsrfOk, CurrentHolder, Form, Page
from services.registration.app.web.rendering import CSRF_FAILED, form_text, see_other
from services.registration.domain.login_history import LoginRecord

PARIS = ZoneInfo("Europe/Paris")
DEAD_LINK = "Ce lien n'est pas valide, a expiré ou a déjà servi. Si vous pensez que quelqu'un utilise votre compte, " \
    "demandez un nouveau mot de passe."  # fmt: skip
NOT_ME = "/connexion/pas-moi"

router = APIRouter(include_in_schema=False)


def shown(login: LoginRecord) -> dict[str, str]:
    """One row of the history, as the holder reads it (legal time, French words)."""
    when = login.when.astimezone(PARIS)
    return {
        "date": when.strftime("%d/%m/%Y à %H:%M"),
        "iso": login.at,
        "method": login.method_label,
        "client": login.client_label,
        "network": login.network,
    }


@router.get("/mes-droits/connexions", response_class=HTMLResponse)
async def history(request: Request, page: Page, reg: Reg, holder: CurrentHolder) -> Response:
    if holder is None:
        return see_other("/connexion?session=expiree" if request.cookies.get(SESSION_COOKIE) else "/connexion")
    logins = [shown(login) for login in await reg.alerts.history(holder)]
    return await page.render("login_history.html", title="Historique de connexion", private=True, logins=logins)


@router.get(NOT_ME, response_class=HTMLResponse)
async def not_me(page: Page, token: str = "") -> HTMLResponse:
    return await page.render("not_me.html", title="Ce n'était pas moi", private=True, token=token[:200], done=False)


@router.post(NOT_ME, response_class=HTMLResponse)
async def not_me_confirm(page: Page, form: Form, csrf_ok: CsrfOk, reg: Reg, setup: Setup) -> Response:
    if not csrf_ok:
        return await page.render("message.html", 403, title="Ce n'était pas moi", message=CSRF_FAILED)
    if not await reg.alerts.not_me(form_text(form, "token")):
        return await page.render("message.html", 410, title="Lien non valide", message=DEAD_LINK,
                                 back="/mot-de-passe/oublie")  # fmt: skip
    response = await page.render("not_me.html", title="Votre compte est protégé", private=True, done=True,
                                 logged_in=False)  # fmt: skip
    clear_session_cookie(response, secure=setup.secure_cookies)  # this browser's session was closed too
    return response
