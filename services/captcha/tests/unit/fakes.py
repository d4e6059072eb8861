"""In-memory fakes of every port of :mod:`services.captcha.use_cases.ports`, for use-case tests.

The store's fake keeps the behaviour the contract test (``test_store_contract.py``) proves of the Redis
adapter too; time-to-live is honoured against the fake clock, so expiry can be tested without waiting.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from contracts.captcha import CaptchaChallengeIssued, CaptchaFailed, CaptchaPassed
from services.captcha.domain.challenge import Challenge
from services.captcha.use_cases.ports import ChallengeBusy, EventIdentity, RequestFact

KEEP_AFTER_EXPIRY = timedelta(hours=1)  # like the Redis adapter: late answers get "expired", not "unknown"


class FakeClock:
    def __init__(self, start: datetime = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class MemoryChallengeStore:
    """``ChallengeStore`` in a few dicts; :meth:`wipe` is a ``FLUSHDB``."""

    def __init__(self, clock: FakeClock, *, lock_wait_s: float = 0.05) -> None:
        self._clock = clock
        self._lock_wait_s = lock_wait_s
        self._challenges: dict[str, tuple[Challenge, datetime]] = {}  # id -> (challenge, kept until)
        self._current: dict[str, str] = {}
        self._open: dict[str, datetime] = {}  # request id -> open until
        self._rebuilt = False
        self._locks: dict[str, asyncio.Lock] = {}

    def wipe(self) -> None:
        self._challenges.clear()
        self._current.clear()
        self._open.clear()
        self._rebuilt = False

    async def save(self, challenge: Challenge, now: datetime, *, current: bool = False) -> None:
        self._challenges[challenge.challenge_id] = (challenge, challenge.expires_at + KEEP_AFTER_EXPIRY)
        if current:
            self._current[challenge.request_id] = challenge.challenge_id

    async def get(self, challenge_id: str) -> Challenge | None:
        found = self._challenges.get(challenge_id)
        return found[0] if found and self._clock() < found[1] else None

    async def current_id(self, request_id: str) -> str | None:
        return self._current.get(request_id)

    async def open_request(self, request_id: str, expires_at: datetime, now: datetime) -> str | None:
        self._open[request_id] = max(expires_at, now + timedelta(seconds=1))
        return self._current.get(request_id)

    async def close_request(self, request_id: str) -> None:
        self._open.pop(request_id, None)

    async def is_open(self, request_id: str) -> bool:
        until = self._open.get(request_id)
        return until is not None and self._clock() < until

    async def needs_rebuild(self) -> bool:
        return not self._rebuilt

    async def mark_rebuilt(self) -> None:
        self._rebuilt = True

    @asynccontextmanager
    async def judging(self, challenge_id: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(challenge_id, asyncio.Lock())
        try:
            await asyncio.wait_for(lock.acquire(), self._lock_wait_s)
        except TimeoutError:
            raise ChallengeBusy(challenge_id) from None
        try:
            yield
        finally:
            lock.release()


class MemoryMediaCache:
    def __init__(self) -> None:
        self.kept: dict[str, tuple[bytes, int]] = {}

    async def cached(self, key: str) -> bytes | None:
        found = self.kept.get(key)
        return found[0] if found else None

    async def keep(self, key: str, data: bytes, ttl_s: int) -> None:
        self.kept[key] = (data, ttl_s)


class MemoryRateCounter:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    async def count(self, key: str, ttl_s: int) -> int:
        self.counts[key] += 1
        return self.counts[key]


class FakeRenderer:
    """Distinct bytes per (what, seed), and a tally of the renderings asked for."""

    def __init__(self) -> None:
        self.renders: list[str] = []

    async def pictogram(self, emoji: str, seed: str) -> bytes:
        return self._render(f"pictogram:{emoji}:{seed}")

    async def characters(self, text: str, seed: str) -> bytes:
        return self._render(f"characters:{text}:{seed}")

    async def speech(self, spoken: str, seed: str) -> bytes:
        return self._render(f"speech:{spoken}:{seed}")

    def _render(self, what: str) -> bytes:
        self.renders.append(what)
        return what.encode()


@dataclass
class RecordedEvents:
    """``CaptchaEvents`` that keeps what was announced, with the identity each id is derived from."""

    issued: list[tuple[CaptchaChallengeIssued, EventIdentity]] = field(default_factory=list)
    passes: list[tuple[CaptchaPassed, EventIdentity]] = field(default_factory=list)
    failures: list[tuple[CaptchaFailed, EventIdentity]] = field(default_factory=list)

    async def challenge_issued(self, event: CaptchaChallengeIssued, identity: EventIdentity) -> None:
        self.issued.append((event, identity))

    async def passed(self, event: CaptchaPassed, identity: EventIdentity) -> None:
        self.passes.append((event, identity))

    async def failed(self, event: CaptchaFailed, identity: EventIdentity) -> None:
        self.failures.append((event, identity))


@dataclass
class ListedHistory:
    """``RequestHistory`` over a list of facts, as a replay of the topics would yield them."""

    recorded: list[RequestFact] = field(default_factory=list)

    async def facts(self) -> AsyncIterator[RequestFact]:
        for fact in self.recorded:
            yield fact
