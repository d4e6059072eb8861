"""Every refusal of the JSON API has one shape, ``{"errors": [{field, code, message}]}``, in French:
the use cases' refusals, request-shape errors (422), unreadable (400) and oversized (413) bodies, unknown
paths and wrong methods."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from services.registration.app.api.schemas import ErrorsOut
from services.registration.domain.errors import FieldError

SHAPE_ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": ErrorsOut, "description": "Invalid fields, all at once (French messages)"},
}
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    **SHAPE_ERRORS,
    400: {"model": ErrorsOut, "description": "Unreadable body (not UTF-8, nested too deep)"},
    413: {"model": ErrorsOut, "description": "Request body too large"},
}

# Messages for request-shape errors (wrong JSON type, malformed body), by pydantic error type.
SHAPE_MESSAGES = {
    "string_type": "Ce champ doit être du texte.",
    "bool_type": "Ce champ doit valoir vrai ou faux.",
    "bool_parsing": "Ce champ doit valoir vrai ou faux.",
    "string_too_long": "Ce champ est trop long.",
    "string_too_short": "Ce champ est trop court.",
    "missing": "Ce champ est obligatoire.",
    "json_invalid": "Le contenu envoyé n'est pas un JSON valide.",
    "model_attributes_type": "Ce champ doit être un objet.",
    "dict_type": "Ce champ doit être un objet.",
}

HTTP_MESSAGES = {
    404: ("not_found", "Cette adresse n'existe pas."),
    405: ("method_not_allowed", "Cette opération n'est pas permise à cette adresse."),
}

UNREADABLE_BODY = "Le contenu envoyé n'a pas pu être lu : envoyez un objet JSON encodé en UTF-8."


def errors(status: int, items: list[FieldError], headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"errors": [{"field": e.field, "code": e.code, "message": e.message} for e in items]}
    return JSONResponse(body, status_code=status, headers=headers)


def one_error(status: int, field: str, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return errors(status, [FieldError(field, code, message)], headers)


class FrenchRefusalsRoute(APIRoute):
    """FastAPI answers a body it cannot even decode (invalid UTF-8, JSON nested too deep for the parser) with
    an English ``{"detail": ...}`` 400; this API answers every refusal in its one shape, in French."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def french(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as exc:
                if exc.status_code != 400:
                    raise
                return one_error(400, "body", "unreadable_body", UNREADABLE_BODY)

        return french


async def http_error(request: Request, exc: HTTPException) -> Response:
    # Unknown paths and wrong methods answer in the API's one shape, in French; pages keep HTML.
    if not request.url.path.startswith("/api/"):
        return await http_exception_handler(request, exc)
    code, message = HTTP_MESSAGES.get(exc.status_code, ("http_error", "La requête n'a pas pu aboutir."))
    return one_error(exc.status_code, "path", code, message, getattr(exc, "headers", None))


async def invalid_request(_r: Request, exc: RequestValidationError) -> JSONResponse:
    items = []
    for e in exc.errors():
        # A JSON syntax error's location is a character position, not a field: it concerns the body.
        loc = [] if e["type"] == "json_invalid" else [str(p) for p in e["loc"] if p != "body"]
        items.append(
            {
                "field": ".".join(loc) or "body",
                "code": e["type"],
                "message": SHAPE_MESSAGES.get(e["type"], "Cette valeur n'est pas acceptée."),
            }
        )
    return JSONResponse({"errors": items}, status_code=422)


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, invalid_request)  # type: ignore[arg-type]
