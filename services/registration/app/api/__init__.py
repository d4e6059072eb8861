"""The public JSON API of registration under ``/api/v1`` (the OpenAPI document is committed in
``contracts/openapi/registration.json``).

One module per resource (``registrations``, ``sessions``, ``password_resets``), the models in
``schemas.py`` and the one French error shape in ``errors.py``.
"""

from __future__ import annotations

from fastapi import APIRouter

from services.registration.app.api import password_resets, registrations, sessions
from services.registration.app.api.errors import FrenchRefusalsRoute, install_handlers

__all__ = ["install_handlers", "router"]

router = APIRouter(prefix="/api/v1", route_class=FrenchRefusalsRoute)
for resource in (registrations, sessions, password_resets):
    router.include_router(resource.router)
