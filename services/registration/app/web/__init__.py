"""The holder's web pages (issue 6): server-rendered French pages over the same use cases as the JSON API.

One module per resource, each with its own router (``signup``, ``activation``, ``login``, ``logins``,
``password``, ``franceconnect``, ``email_change``, ``home``, ``static``); what they share is in ``deps.py``
(dependencies), ``rendering.py`` (templates, labels, form state) and ``security.py`` (CSRF and CGU tokens).
Every form posts to a route that calls :class:`~services.registration.use_cases.Registration` exactly as the
API does.

Security: CSRF protection on every form (``security.py``); the session cookie is ``HttpOnly``,
``SameSite=Lax`` and ``Secure`` when served over https; personal pages are ``no-store``; the security
headers (strict CSP without inline code) are set by ``main.py`` on every response.
"""

from __future__ import annotations

from fastapi import APIRouter

from services.registration.app.web import (
    activation,
    email_change,
    franceconnect,
    home,
    login,
    logins,
    password,
    signup,
    static,
)

router = APIRouter(include_in_schema=False)
for resource in (static, home, franceconnect, email_change, signup, activation, login, logins, password):
    router.include_router(resource.router)
