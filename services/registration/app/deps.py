"""FastAPI dependencies shared by the JSON API and the pages (as in the FastAPI full-stack template).

The composition root (``main.py``) keeps one :class:`HttpSetup` on ``app.state``; routes receive the
use cases and the settings they need through ``Depends``, so each resource's routes live in their own
module (``api/*``, ``web/*``) instead of closures inside one factory. The dependencies are ``async``:
FastAPI runs a plain ``def`` one in a worker thread, a thread hop per dependency per request for what is
an attribute read.
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


async def http_setup(request: Request) -> HttpSetup:
    return cast(HttpSetup, request.app.state.http_setup)


Setup = Annotated[HttpSetup, Depends(http_setup)]


async def registration(setup: Setup) -> Registration:
    return setup.registration


Reg = Annotated[Registration, Depends(registration)]


async def client_host(request: Request) -> str:
    """The client's address (sign-up and login throttles count per address)."""
    return request.client.host if request.client else "unknown"


ClientHost = Annotated[str, Depends(client_host)]


async def login_client(request: Request) -> LoginClient:
    """What a login tells about its client (the history keeps it coarsely: browser, system, network)."""
    return LoginClient(request.headers.get("user-agent", ""), await client_host(request))


Client = Annotated[LoginClient, Depends(login_client)]
