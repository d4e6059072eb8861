"""A forgotten password: the reset link by mail, then a new password that revokes every session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from contracts.links import token_hash
from services.registration.domain.errors import DomainError, FieldError
from services.registration.domain.ids import SignedIds
from services.registration.domain.nir import Nir, parse_login_nir
from services.registration.domain.password import check_password, normalise_password
from services.registration.domain.records import Account, PasswordReset
from services.registration.use_cases.common import Hashing, HolderIds, utc_now
from services.registration.use_cases.mails import MailDesk
from services.registration.use_cases.ports import Accounts, Clock, Resets, Sessions, Throttles

INVALID_LINK = FieldError(
    "token", "invalid_link", "Ce lien de réinitialisation n'est pas valide ou a expiré. Demandez-en un nouveau."
)


class ResetStore(Accounts, Resets, Sessions, Throttles, Protocol):
    """What a password reset needs (the one store adapter provides it)."""


@dataclass
class PasswordResets:
    store: ResetStore
    mails: MailDesk
    hashing: Hashing
    holder_ids: HolderIds
    ids: SignedIds
    link_lifetime: timedelta
    cooldown_s: int
    clock: Clock = utc_now

    async def request_reset(self, raw_nir: str) -> None:
        """Always "accepted" for the caller: whether the NIR has an account is never revealed."""
        try:
            holder_id = self.holder_ids.of(parse_login_nir(raw_nir))
        except (DomainError, ValueError):
            return
        account = await self.store.account(holder_id)
        if account is None or not await self.store.claim(f"reset:{holder_id}", self.cooldown_s):
            return
        await self.send_link(account)

    async def send_link(self, account: Account) -> None:
        """Record a reset and ask for its mail (in one write); no cooldown: callers decide."""
        holder_id = account.holder_id
        now = self.clock()
        reset_id = self.ids.mint(now)
        expires_at = now + self.link_lifetime
        order = self.mails.order(
            "password_reset",
            f"password_reset:{reset_id}",
            to=account.email,
            first_name=account.first_name,
            holder_id=holder_id,
            subject_id=reset_id,
            link_expires_at=expires_at,
        )
        reset = PasswordReset(
            reset_id=reset_id,
            holder_id=holder_id,
            requested_at=now.isoformat(),
            token_sha256=order.link_sha256,
            expires_at=expires_at.isoformat(),
        )
        await self.store.save_reset(reset, int(self.link_lifetime.total_seconds()) + 600, order.event)

    async def confirm_reset(self, token: str, password: str, confirmation: str) -> list[FieldError]:
        now = self.clock()
        reset = await self.store.reset_for_link(token_hash(token))
        if reset is None or reset.used_at is not None or _expired(reset, now):
            return [INVALID_LINK]
        account = await self.store.account(reset.holder_id)
        if account is None:
            return [INVALID_LINK]
        errors = check_password(password, confirmation, nir=Nir.parse(account.nir), birth_name=account.birth_name)
        if errors:
            return list(errors)
        account.password_hash = await self.hashing.hash(normalise_password(password))
        account.sessions_valid_after = now.timestamp()
        reset.used_at = now.isoformat()
        await self.store.reset_used(account, reset)
        await self.store.close_all_sessions(account.holder_id)  # a reset revokes every open session
        return []


def _expired(reset: PasswordReset, now: datetime) -> bool:
    return reset.expires_at is not None and datetime.fromisoformat(reset.expires_at) <= now
