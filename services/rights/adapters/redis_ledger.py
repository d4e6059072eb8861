"""Each holder's accepted declarations in Redis (a projection of the topics, rebuilt by replaying them).

Declarations are stored in their contract form, without the NIR (the holder is the pseudonymous id),
and turned back into domain events when a holder's balances are computed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from redis.asyncio import Redis

from eventing.redis_store import as_text
from services.rights.use_cases.ports import HolderRecord


class RightsStore:
    """The ``HolderStore`` port in Redis."""

    REBUILT = "rights:rebuilt"  # present while the working state is whole

    def __init__(self, redis: Redis) -> None:
        self._r = redis

    async def needs_rebuild(self) -> bool:
        return not await self._r.exists(self.REBUILT)

    async def mark_rebuilt(self) -> None:
        await self._r.set(self.REBUILT, str(time.time()))

    async def holder(self, holder_id: str) -> HolderRecord | None:
        raw = await self._r.get(f"rights:holder:{holder_id}")
        return HolderRecord(**json.loads(raw)) if raw else None

    async def save_holder(self, record: HolderRecord) -> None:
        await self._r.set(f"rights:holder:{record.holder_id}", json.dumps(asdict(record)))

    async def declarations(self, holder_id: str) -> dict[str, dict[str, Any]]:
        raw = await self._r.hgetall(f"rights:decl:{holder_id}")
        return {as_text(k): json.loads(v) for k, v in raw.items()}

    async def declaration_count(self, holder_id: str) -> int:
        return int(await self._r.hlen(f"rights:decl:{holder_id}"))

    async def add_declarations(self, holder_id: str, bodies: Mapping[str, dict[str, Any]]) -> None:
        if bodies:
            await self._r.hset(f"rights:decl:{holder_id}", mapping={k: json.dumps(v) for k, v in bodies.items()})
