"""A forgotten password: asking for the reset link, then choosing a new password behind it."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.registration.app.deps import Reg
from services.registration.app.web.deps import CsrfOk, Form, Page
from services.registration.app.web.rendering import (
    CSRF_FAILED,
    NIR_MISSING,
    PASSWORD_FIELDS,
    FormState,
    PageRenderer,
    form_text,
)

DEAD_LINK = "Ce lien de réinitialisation n'est pas valide ou a expiré. Demandez-en un nouveau."

router = APIRouter(include_in_schema=False)


@router.get("/mot-de-passe/oublie", response_class=HTMLResponse)
async def forgotten(page: Page) -> HTMLResponse:
    return await page.render("password_forgotten.html", title="Mot de passe oublié", sent=False)


@router.post("/mot-de-passe/oublie", response_class=HTMLResponse)
async def forgotten_submit(page: Page, form: Form, csrf_ok: CsrfOk, reg: Reg) -> HTMLResponse:
    nir = form_text(form, "nir")
    state = FormState(values={"nir": nir})
    if not csrf_ok:
        state.add(None, CSRF_FAILED)
    elif not nir.strip():
        state.add("nir", NIR_MISSING)
    if state.has_errors:
        return await page.render(
            "password_forgotten.html",
            403 if state.errors == {} else 422,
            title="Mot de passe oublié",
            sent=False,
            form=state,
        )
    await reg.resets.request_reset(nir)
    return await page.render("password_forgotten.html", title="Mot de passe oublié", sent=True)


async def new_password_page(page: PageRenderer, token: str, state: FormState, status_code: int = 200) -> HTMLResponse:
    return await page.render(
        "password_new.html",
        status_code,
        title="Nouveau mot de passe",
        token=token,
        form=state,
        done=False,
        private=True,
    )


@router.get("/mot-de-passe/nouveau", response_class=HTMLResponse)
async def new_password(page: Page, token: str = "") -> HTMLResponse:
    state = FormState()
    if not 16 <= len(token) <= 200:
        state.add(None, DEAD_LINK)
    return await new_password_page(page, token[:200], state, 200 if not state.has_errors else 404)


@router.post("/mot-de-passe/nouveau", response_class=HTMLResponse)
async def new_password_submit(page: Page, form: Form, csrf_ok: CsrfOk, reg: Reg) -> HTMLResponse:
    token = form_text(form, "token")[:200]
    state = FormState()
    if not csrf_ok:
        state.add(None, CSRF_FAILED)
        return await new_password_page(page, token, state, 403)
    problems = await reg.resets.confirm_reset(
        token, form_text(form, "password"), form_text(form, "password_confirmation")
    )
    if problems:
        state.add_all(problems, PASSWORD_FIELDS)
        dead_link = any(p.field == "token" for p in problems)
        return await new_password_page(page, "" if dead_link else token, state, 410 if dead_link else 422)
    return await page.render("password_new.html", title="Mot de passe modifié", done=True, token="")
