"""Dependencies shared by the rights routes: who the caller is."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse

from services.rights.use_cases.ports import SessionVerifier


class NotLoggedIn(Exception):
    """No valid session: answered 401 with a French message (see :func:`unauthorized`)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def unauthorized(message: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"field": "authorization", "code": "unauthorized", "message": message}]},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="mcf"'},
    )


def holder_of_header(sessions: SessionVerifier, authorization: str | None) -> str:
    """The holder id of a bearer token, or :class:`NotLoggedIn` with the French reason."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise NotLoggedIn("Connectez-vous pour consulter vos droits.")
    holder = sessions.holder_of(authorization[7:])
    if holder is None:
        raise NotLoggedIn("Votre session a expiré : reconnectez-vous.")
    return holder


async def current_holder(request: Request, authorization: Annotated[str | None, Header()] = None) -> str:
    """The dependency: the caller's holder id, checked with the verifier the app was built with
    (``app.state.sessions``, set by ``app/main.py``)."""
    sessions: SessionVerifier = request.app.state.sessions
    return holder_of_header(sessions, authorization)


CurrentHolder = Annotated[str, Depends(current_holder)]
