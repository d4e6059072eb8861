"""A forgotten password: the reset link (always 202, whether or not the account exists), then the new one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.registration.app.api.errors import BODY_ERRORS, FrenchRefusalsRoute, errors
from services.registration.app.api.schemas import MessageOut, ResetConfirmIn, ResetIn
from services.registration.app.deps import Reg

RESET_SENT = "Si un compte existe pour ce numéro, un courriel de réinitialisation vient d'être envoyé."
PASSWORD_CHANGED = "Votre mot de passe a été modifié. Connectez-vous avec votre nouveau mot de passe."  # noqa: S105 - a message

router = APIRouter(route_class=FrenchRefusalsRoute)


@router.post(
    "/password-resets",
    status_code=202,
    response_model=MessageOut,
    responses=BODY_ERRORS,
    summary="Send a password-reset link (always 202)",
)
async def reset(body: ResetIn, reg: Reg) -> MessageOut:
    await reg.resets.request_reset(body.nir)
    return MessageOut(message=RESET_SENT)


@router.post(
    "/password-resets/confirm",
    response_model=MessageOut,
    responses=BODY_ERRORS,
    summary="Choose a new password",
)
async def reset_confirm(body: ResetConfirmIn, reg: Reg) -> Any:
    problems = await reg.resets.confirm_reset(body.token, body.password, body.password_confirmation)
    if problems:
        return errors(422, problems)
    return MessageOut(message=PASSWORD_CHANGED)
