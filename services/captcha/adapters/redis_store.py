"""The captcha's Redis adapters: challenges (with their answers, never leaving the server), rendered
media and rate-limit counters, each with a TTL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from redis.asyncio import Redis

from eventing.redis_store import as_text
from services.captcha.domain.challenge import Challenge
from services.captcha.domain.records import challenge_from_record, challenge_to_record
from services.captcha.use_cases.ports import ChallengeBusy

# A dead or passed challenge is kept a while after expiry so that late answers get "410 Gone"
# rather than "404 Not Found", and replays of a passed answer are recognised as such.
KEEP_AFTER_EXPIRY_S = 3600
REQUEST_TTL_S = 8 * 24 * 3600
LOCK_WAIT_S = 2.0


class RedisChallengeStore:
    """Implements ``ChallengeStore``."""
    REBUILT = "captcha:rebuilt"  # present while the working state is whole


    def __init__(self, redis: Redis, *, lock_wait_s: float = LOCK_WAIT_S) -> None:
        self._r = redis
        self._lock_wait_s = lock_wait_s

    async def save(self, challenge: Challenge, now: datetime, *, current: bool = False) -> None:
        ttl = max(1, int((challenge.expires_at - now).total_seconds())) + KEEP_AFTER_EXPIRY_S
        record = json.dumps(challenge_to_record(challenge))
        if not current:
            await self._r.set(f"captcha:ch:{challenge.challenge_id}", record, ex=ttl)
            return
        pipe = self._r.pipeline()  # the challenge first, then the pointer to it (MULTI: both or neither)
        pipe.set(f"captcha:ch:{challenge.challenge_id}", record, ex=ttl)
        pipe.set(f"captcha:req:{challenge.request_id}", challenge.challenge_id, ex=REQUEST_TTL_S)
        await pipe.execute()

    async def get(self, challenge_id: str) -> Challenge | None:
        if not challenge_id or len(challenge_id) > 64:
            return None
        raw = await self._r.get(f"captcha:ch:{challenge_id}")
        return challenge_from_record(json.loads(raw)) if raw else None

    async def current_id(self, request_id: str) -> str | None:
        if not request_id or len(request_id) > 64:
            return None
        raw = await self._r.get(f"captcha:req:{request_id}")
        return as_text(raw) if raw else None

    # requests awaiting their check: what lets a holder renew after the challenges were lost in a wipe
    async def open_request(self, request_id: str, expires_at: datetime, now: datetime) -> str | None:
        ttl = max(1, int((expires_at - now).total_seconds()))
        pipe = self._r.pipeline(transaction=False)
        pipe.set(f"captcha:open:{request_id}", b"1", ex=ttl)
        pipe.get(f"captcha:req:{request_id}")
        _, current = await pipe.execute()
        return as_text(current) if current else None

    async def close_request(self, request_id: str) -> None:
        await self._r.delete(f"captcha:open:{request_id}")

    async def is_open(self, request_id: str) -> bool:
        return bool(await self._r.exists(f"captcha:open:{request_id}"))

    async def needs_rebuild(self) -> bool:
        return not await self._r.exists(self.REBUILT)

    async def mark_rebuilt(self) -> None:
        await self._r.set(self.REBUILT, b"1")

    @asynccontextmanager
    async def judging(self, challenge_id: str) -> AsyncIterator[None]:
        """One answer at a time per challenge, so two simultaneous right answers pass only once.

        A second answer waits its turn (judging takes milliseconds); only a lock held for long is "busy".
        """
        key = f"captcha:lock:{challenge_id}"
        deadline = asyncio.get_running_loop().time() + self._lock_wait_s
        while not await self._r.set(key, b"1", nx=True, px=5000):
            if asyncio.get_running_loop().time() > deadline:
                raise ChallengeBusy(challenge_id)
            await asyncio.sleep(0.02)
        try:
            yield
        finally:
            await self._r.delete(key)


class RedisMediaCache:
    """Implements ``MediaCache``."""

    def __init__(self, redis: Redis) -> None:
        self._r = redis

    async def cached(self, key: str) -> bytes | None:
        raw = await self._r.get(f"captcha:media:{key}")
        return raw if isinstance(raw, bytes) else None

    async def keep(self, key: str, data: bytes, ttl_s: int) -> None:
        await self._r.set(f"captcha:media:{key}", data, ex=max(1, ttl_s))


class RedisRateCounter:
    """Implements ``RateCounter``: ``INCR``, and the expiry set by the first increment only."""

    def __init__(self, redis: Redis) -> None:
        self._r = redis

    async def count(self, key: str, ttl_s: int) -> int:
        pipe = self._r.pipeline()
        pipe.incr(key)
        pipe.expire(key, ttl_s, nx=True)
        count, _ = await pipe.execute()
        return int(count)
