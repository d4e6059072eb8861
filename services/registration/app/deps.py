"""FastAPI dependencies shared by the JSON API and the pages (as in the FastAPI full-stack template).

The composition root (``main.py``) keeps one :class:`HttpSetup` on ``app.state``; routes receive the
use cases and the settings they need through ``Depends``, so each resource's routes live in their own
module (``api/*``, ``web/*``) instead of closures inside one factory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, FastAPI, Request

from services.registration.domain.login_history import LoginClient
from services.registration.use_cases import Registration


@dataclass(frozen=True)
class HttpSetup:
    """What the routes need from the composition root."""

    registration: Registration
    secure_cookies: bool  # served over https: cookies are ``Secure`` (and the CSRF cookie ``__Host-``)
    cgu_text: str


def install(app: FastAPI, setup: HttpSetup) -> None:
    app.state.http_setup = setup


def http_setup(request: Request) -> HttpSetup:
    return cast(HttpSetup, request.app.state.http_setup)


Setup = Annotated[HttpSetup, Depends(http_setup)]


def registration(setup: Setup) -> Registration:
    return setup.registration


Reg = Annotated[Registration, Depends(registration)]


def client_host(request: Request) -> str:
    """The client's address (sign-up and login throttles count per address)."""
    return request.client.host if request.client else "unknown"


ClientHost = Annotated[str, Depends(client_host)]


def login_client(request: Request) -> LoginClient:
    """What a login tells about its client (the history keeps it coarsely: browser, system, network)."""
    return LoginClient(request.headers.get("user-agent", ""), client_host(request))


Client = Annotated[LoginClient, Depends(login_client)]
