"""Redis-backed de-duplication keys (rebuildable: they only save repeated effects)."""

from __future__ import annotations

from collections.abc import Collection

from redis.asyncio import Redis

# Remember KEYS[1] for ARGV[1] seconds, unless KEYS[2] (the state's marker) is gone: one round trip.
_REMEMBER_IF_PRESENT = """
if KEYS[2] and redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('SET', KEYS[1], '1', 'EX', ARGV[1])
return 1
"""

# The same for every key but the first (the marker, or "" for none): a batch's ids in one round trip.
_REMEMBER_ALL_IF_PRESENT = """
if KEYS[1] ~= '' and redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 2, #KEYS do redis.call('SET', KEYS[i], '1', 'EX', ARGV[1]) end
return 1
"""


class RedisProcessedEvents:
    def __init__(self, redis: Redis, ttl_s: int = 30 * 24 * 3600) -> None:
        self._redis = redis
        self._ttl_s = ttl_s
        self._remember_if_present = redis.register_script(_REMEMBER_IF_PRESENT)
        self._remember_all = redis.register_script(_REMEMBER_ALL_IF_PRESENT)

    @staticmethod
    def _key(group: str, event_id: str) -> str:
        return f"processed:{group}:{event_id}"

    async def seen(self, group: str, event_id: str) -> bool:
        return bool(await self._redis.exists(self._key(group, event_id)))

    async def remember(self, group: str, event_id: str, *, if_present: str | None = None) -> bool:
        if if_present is None:
            await self._redis.set(self._key(group, event_id), b"1", ex=self._ttl_s)
            return True
        keys = [self._key(group, event_id), if_present]
        return bool(await self._remember_if_present(keys=keys, args=[self._ttl_s]))

    async def seen_among(self, group: str, event_ids: Collection[str]) -> set[str]:
        ids = list(event_ids)
        if not ids:
            return set()
        found = await self._redis.mget([self._key(group, event_id) for event_id in ids])
        return {event_id for event_id, value in zip(ids, found, strict=True) if value is not None}

    async def remember_all(self, group: str, event_ids: Collection[str], *, if_present: str | None = None) -> bool:
        keys = [if_present or "", *(self._key(group, event_id) for event_id in event_ids)]
        return bool(await self._remember_all(keys=keys, args=[self._ttl_s]))


def as_text(value: bytes | str) -> str:
    """Redis answers bytes (our clients do not decode); typed as ``bytes | str`` by redis-py."""
    return value.decode() if isinstance(value, bytes) else value
