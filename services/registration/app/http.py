"""What the pages and the JSON API answer alike: the session cookie, and the HTTP status of a refused
activation link."""

from __future__ import annotations

from starlette.responses import Response

from services.registration.domain.account import LinkExpired, RequestExpired, RequestRejected, UnknownLink
from services.registration.domain.errors import DomainError

SESSION_COOKIE = "mcf_session"
MAX_SESSION_ID_CHARS = 200

ACTIVATION_ERRORS: dict[type[DomainError], tuple[int, str]] = {
    UnknownLink: (404, "unknown_link"),
    LinkExpired: (410, "link_expired"),
    RequestExpired: (410, "request_expired"),
    RequestRejected: (410, "request_rejected"),
}


def set_session_cookie(response: Response, session_id: str, *, max_age: int, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE, session_id, max_age=max_age, httponly=True, samesite="lax", secure=secure, path="/"
    )


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=secure, httponly=True, samesite="lax")
