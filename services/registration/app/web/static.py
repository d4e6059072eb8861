"""The pages' stylesheet, scripts and images (``services/registration/web/static``), read once and served
from memory; JavaScript only adds live hints, the show-password toggles, the security check's clicks and
the balances fetched from the rights service."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from services.registration.app.web.rendering import WEB_DIR

STATIC = WEB_DIR / "static"
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}


def _load_static() -> dict[str, tuple[bytes, str]]:
    files: dict[str, tuple[bytes, str]] = {}
    for path in STATIC.iterdir() if STATIC.is_dir() else ():
        if path.is_file() and path.suffix in STATIC_TYPES:
            files[path.name] = (path.read_bytes(), STATIC_TYPES[path.suffix])
    return files


STATIC_FILES = _load_static()

router = APIRouter(include_in_schema=False)


@router.get("/static/{name}")
async def static(name: str) -> Response:
    found = STATIC_FILES.get(name)
    if found is None:
        return Response("Introuvable", status_code=404, media_type="text/plain; charset=utf-8")
    return Response(found[0], media_type=found[1], headers={"Cache-Control": "public, max-age=300"})
