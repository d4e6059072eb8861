"""Small pieces every registration use case shares."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from contracts.identity import holder_id
from eventing.errors import PoisonMessage, RetryLater
from services.registration.domain.ids import SignedIds
from services.registration.domain.nir import Nir
from services.registration.domain.password import PasswordHasher


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class HolderIds:
    """The pseudonymous holder id of a NIR (``contracts.identity``), under the platform key."""

    key: bytes

    def of(self, nir: Nir) -> str:
        return holder_id(nir.value, self.key)


@dataclass(frozen=True)
class Hashing:
    """argon2id off the event loop: tens of milliseconds of CPU by design."""

    hasher: PasswordHasher

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await asyncio.to_thread(self.hasher.verify, password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self.hasher.needs_rehash(password_hash)


def unknown_id(ids: SignedIds, minted_id: str, lifetime: timedelta, now: datetime) -> None:
    """An event names a request or reset this service does not know: park it, acknowledge it, or hold it.

    Raises PoisonMessage for an id registration never issued (the dead-letter topic, with that reason),
    RetryLater for one issued recently (Redis behind the topic: held and retried, never committed
    unapplied); returns for one past its lifetime (nothing left to do)."""
    issued = ids.issued_at(minted_id)
    if issued is None:
        raise PoisonMessage(f"names {minted_id!r}, an id registration never issued")
    if issued + lifetime + timedelta(days=1) < now:
        return
    raise RetryLater(f"{minted_id} not known yet")
