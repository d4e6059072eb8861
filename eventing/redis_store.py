"""Redis-backed de-duplication keys (rebuildable: they only save repeated effects)."""

from __future__ import annotations

from redis.asyncio import Redis


class RedisProcessedEvents:
    def __init__(self, redis: Redis, ttl_s: int = 30 * 24 * 3600) -> None:
        self._redis = redis
        self._ttl_s = ttl_s

    @staticmethod
    def _key(group: str, event_id: str) -> str:
        return f"processed:{group}:{event_id}"

    async def seen(self, group: str, event_id: str) -> bool:
        return bool(await self._redis.exists(self._key(group, event_id)))

    async def remember(self, group: str, event_id: str) -> None:
        await self._redis.set(self._key(group, event_id), b"1", ex=self._ttl_s)


def as_text(value: bytes | str) -> str:
    """Redis answers bytes (our clients do not decode); typed as ``bytes | str`` by redis-py."""
    return value.decode() if isinstance(value, bytes) else value
