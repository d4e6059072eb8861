"""Dependencies shared by the rights routes: who the caller is."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Header
from fastapi.responses import JSONResponse

from services.rights.ports import SessionVerifier


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


def current_holder(sessions: SessionVerifier) -> Callable[[str | None], str]:
    """A dependency giving the holder id of the bearer token, or raising :class:`NotLoggedIn`."""

    def holder_id(authorization: Annotated[str | None, Header()] = None) -> str:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise NotLoggedIn("Connectez-vous pour consulter vos droits.")
        holder = sessions.holder_of(authorization[7:])
        if holder is None:
            raise NotLoggedIn("Votre session a expiré : reconnectez-vous.")
        return holder

    return holder_id
