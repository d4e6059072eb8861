"""The page behind the e-mailed confirmation link: it activates the account."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.registration.app.deps import Reg
from services.registration.app.http import ACTIVATION_ERRORS
from services.registration.app.web.deps import Page
from services.registration.domain.errors import DomainError
from services.registration.use_cases.ports import LockBusy

log = logging.getLogger("registration.web")

INVALID_LINK = "Ce lien de confirmation n'est pas valide."

router = APIRouter(include_in_schema=False)


@router.get("/activation", response_class=HTMLResponse)
async def activation(page: Page, reg: Reg, token: str = "") -> HTMLResponse:
    try:
        outcome = await reg.signup.activate(token) if 16 <= len(token) <= 200 else None
    except LockBusy:
        return await page.render("activation.html", 409, title="Activation en cours", outcome="busy")
    except DomainError as exc:
        status_code, _code = ACTIVATION_ERRORS.get(type(exc), (410, exc.code))
        return await page.render(
            "activation.html", status_code, title="Lien de confirmation", outcome="error", message=str(exc)
        )
    except Exception as exc:  # e.g. Redis unavailable: never a stack trace for the holder
        log.warning("activation page: %r", exc)
        return await page.render("activation.html", 503, title="Lien de confirmation", outcome="unavailable")
    if outcome is None:
        return await page.render(
            "activation.html", 404, title="Lien de confirmation", outcome="error", message=INVALID_LINK
        )
    if outcome.already_active:
        return await page.render("activation.html", title="Compte déjà activé", outcome="active_already")
    return await page.render("activation.html", title="Compte activé", outcome="activated")
