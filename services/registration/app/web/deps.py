"""The pages' dependencies: the page renderer, the posted form, its CSRF check and the logged-in holder."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from services.registration.app.deps import Reg, Setup
from services.registration.app.http import MAX_SESSION_ID_CHARS, SESSION_COOKIE
from services.registration.app.web.rendering import PageRenderer, form_text
from services.registration.app.web.security import CSRF_FIELD, PageSecurity, Signer
from services.registration.use_cases import Registration

log = logging.getLogger("registration.web")


async def page_security(setup: Setup) -> PageSecurity:
    reg = setup.registration
    return PageSecurity(Signer(reg.page_key), setup.secure_cookies, reg.cgu.version)


Security = Annotated[PageSecurity, Depends(page_security)]


async def holder_of_session(request: Request, reg: Registration) -> str | None:
    sid = request.cookies.get(SESSION_COOKIE, "")
    if not sid or len(sid) > MAX_SESSION_ID_CHARS:
        return None
    try:
        return await reg.login.holder_of(sid)
    except Exception:  # Redis hiccup: the page still renders, as logged out
        log.warning("session lookup failed", exc_info=True)
        return None


async def current_holder(request: Request, reg: Reg) -> str | None:
    """The holder logged in by the session cookie, or None."""
    return await holder_of_session(request, reg)


CurrentHolder = Annotated[str | None, Depends(current_holder)]


async def page(request: Request, security: Security, reg: Reg) -> PageRenderer:
    return PageRenderer(request, security, lambda: holder_of_session(request, reg))


Page = Annotated[PageRenderer, Depends(page)]


async def posted_form(request: Request) -> FormData:
    return await request.form()


Form = Annotated[FormData, Depends(posted_form)]


async def csrf_checked(request: Request, form: Form, security: Security) -> bool:
    return security.csrf_ok(request, form_text(form, CSRF_FIELD))


CsrfOk = Annotated[bool, Depends(csrf_checked)]
