"""Started FranceConnect logins in Redis, each taken at most once (``GETDEL`` is atomic).

Short-lived and not rebuilt after a Redis wipe: a login in flight then fails with a French message and
the holder starts again. Keys hold a hash of the ``state``, so a copy of Redis gives no usable state.
"""

from __future__ import annotations

import hashlib
import json

from redis.asyncio import Redis

from services.registration.use_cases.identity import PendingLogin

_PREFIX = "reg:fc:login:"


def _key(state: str) -> str:
    return _PREFIX + hashlib.sha256(state.encode()).hexdigest()


class RedisPendingLogins:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def save(self, state: str, login: PendingLogin, ttl_s: int) -> None:
        value = json.dumps(
            {"nonce": login.nonce, "created_at": login.created_at, "reauthentication": login.reauthentication}
        )
        # NX: a state is random (256 bits); a collision would be a bug, never overwrite a login in flight.
        if not await self._redis.set(_key(state), value, ex=ttl_s, nx=True):
            raise RuntimeError("a login with this state is already pending")

    async def take(self, state: str) -> PendingLogin | None:
        raw = await self._redis.getdel(_key(state))
        if raw is None:
            return None
        data = json.loads(raw)
        return PendingLogin(
            nonce=str(data["nonce"]),
            created_at=float(data["created_at"]),
            reauthentication=data.get("reauthentication") is True,  # absent in logins saved before it existed
        )
