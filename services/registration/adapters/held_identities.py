"""Identities verified by FranceConnect, waiting in Redis for the holder's next step (the sign-up form).

Short-lived and not rebuilt (a wiped Redis sends the holder back to FranceConnect). The id is 256 random
bits kept in an HttpOnly cookie; the key holds its hash, so a copy of Redis gives no usable id.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from redis.asyncio import Redis

from services.registration.domain.identity import IdentityClaimsError, VerifiedIdentity, identity_from_claims

_PREFIX = "reg:fc:identity:"


def _key(hold_id: str) -> str:
    return _PREFIX + hashlib.sha256(hold_id.encode()).hexdigest()


class RedisHeldIdentities:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def hold(self, identity: VerifiedIdentity, ttl_s: int, provider_id_token: str = "") -> str:
        hold_id = secrets.token_urlsafe(32)
        held = {"claims": identity.to_claims(), "id_token": provider_id_token}
        await self._redis.set(_key(hold_id), json.dumps(held), ex=ttl_s)
        return hold_id

    async def _held(self, hold_id: str) -> dict[str, Any] | None:
        if not hold_id or len(hold_id) > 100:
            return None
        raw = await self._redis.get(_key(hold_id))
        if raw is None:
            return None
        try:
            held = json.loads(raw)
        except ValueError:
            return None
        return held if isinstance(held, dict) else None

    async def held(self, hold_id: str) -> VerifiedIdentity | None:
        held = await self._held(hold_id)
        if held is None:
            return None
        try:
            # A hold written before the ID token was kept is the claims alone (for IDENTITY_TTL_S at most).
            return identity_from_claims(held["claims"] if "claims" in held else held)
        except (IdentityClaimsError, ValueError, TypeError):
            return None

    async def provider_id_token(self, hold_id: str) -> str:
        held = await self._held(hold_id)
        token = held.get("id_token", "") if held is not None else ""
        return token if isinstance(token, str) else ""

    async def release(self, hold_id: str) -> None:
        await self._redis.delete(_key(hold_id))
