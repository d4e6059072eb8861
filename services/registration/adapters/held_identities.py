"""Identities verified by FranceConnect, waiting in Redis for the holder's next step (the sign-up form).

Short-lived and not rebuilt (a wiped Redis sends the holder back to FranceConnect). The id is 256 random
bits kept in an HttpOnly cookie; the key holds its hash, so a copy of Redis gives no usable id.
"""

from __future__ import annotations

import hashlib
import json
import secrets

from redis.asyncio import Redis

from services.registration.domain.identity import IdentityClaimsError, VerifiedIdentity, identity_from_claims

_PREFIX = "reg:fc:identity:"


def _key(hold_id: str) -> str:
    return _PREFIX + hashlib.sha256(hold_id.encode()).hexdigest()


class RedisHeldIdentities:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def hold(self, identity: VerifiedIdentity, ttl_s: int) -> str:
        hold_id = secrets.token_urlsafe(32)
        await self._redis.set(_key(hold_id), json.dumps(identity.to_claims()), ex=ttl_s)
        return hold_id

    async def held(self, hold_id: str) -> VerifiedIdentity | None:
        if not hold_id or len(hold_id) > 100:
            return None
        raw = await self._redis.get(_key(hold_id))
        if raw is None:
            return None
        try:
            return identity_from_claims(json.loads(raw))
        except (IdentityClaimsError, ValueError):
            return None

    async def release(self, hold_id: str) -> None:
        await self._redis.delete(_key(hold_id))
