"""What the use cases rely on from the captcha's stores, proven of the in-memory fake and of the Redis
adapters alike (a real redis-server on a free loopback port, started by the project's deploy/local/stack.py:
the ``redis_url`` fixture of the root conftest.py)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from services.captcha.adapters.redis_store import RedisChallengeStore, RedisMediaCache, RedisRateCounter
from services.captcha.domain.challenge import ChallengeSettings, issue_challenge
from services.captcha.tests.unit.fakes import FakeClock, MemoryChallengeStore, MemoryMediaCache, MemoryRateCounter
from services.captcha.use_cases.ports import ChallengeBusy, ChallengeStore, MediaCache, RateCounter

LOCK_WAIT_S = 0.1


@dataclass
class Stores:
    challenges: ChallengeStore
    media: MediaCache
    counter: RateCounter
    wipe: Callable[[], Awaitable[object]]


@pytest.fixture(params=["memory", "redis"])
async def stores(request: pytest.FixtureRequest) -> AsyncIterator[Stores]:
    if request.param == "memory":
        memory = MemoryChallengeStore(FakeClock(datetime.now(UTC)), lock_wait_s=LOCK_WAIT_S)

        async def wipe() -> None:
            memory.wipe()

        yield Stores(memory, MemoryMediaCache(), MemoryRateCounter(), wipe)
        return
    redis = Redis.from_url(request.getfixturevalue("redis_url"))  # the suite's own (root conftest.py)
    await redis.flushdb()
    try:
        store = RedisChallengeStore(redis, lock_wait_s=LOCK_WAIT_S)
        yield Stores(store, RedisMediaCache(redis), RedisRateCounter(redis), redis.flushdb)
    finally:
        await redis.aclose()


async def test_a_saved_challenge_reads_back_whole_with_its_secret_answer(stores: Stores) -> None:
    now = datetime.now(UTC)
    challenge = issue_challenge("req-contract-0001", random.Random(7), now, ChallengeSettings())
    await stores.challenges.save(challenge, now)
    assert await stores.challenges.get(challenge.challenge_id) == challenge


@pytest.mark.parametrize("challenge_id", ["never-issued-000", "", "x" * 65])
async def test_an_unknown_or_malformed_challenge_id_is_simply_not_found(stores: Stores, challenge_id: str) -> None:
    assert await stores.challenges.get(challenge_id) is None


async def test_the_current_challenge_of_a_request_is_the_last_made_current(stores: Stores) -> None:
    now = datetime.now(UTC)
    first = issue_challenge("req-contract-0002", random.Random(1), now, ChallengeSettings())
    second = issue_challenge("req-contract-0002", random.Random(2), now, ChallengeSettings())
    assert await stores.challenges.current_id("req-contract-0002") is None
    assert await stores.challenges.open_request("req-contract-0002", now + timedelta(days=7), now) is None
    for challenge in (first, second):
        await stores.challenges.save(challenge, now, current=True)
    await stores.challenges.save(issue_challenge("req-contract-0002", random.Random(4), now), now)  # not current
    assert await stores.challenges.current_id("req-contract-0002") == second.challenge_id
    # Opening the request again (a redelivered check) tells its current challenge in the same trip.
    assert await stores.challenges.open_request("req-contract-0002", now + timedelta(days=7), now) == (
        second.challenge_id
    )


async def test_a_request_stays_open_until_closed(stores: Stores) -> None:
    now = datetime.now(UTC)
    assert not await stores.challenges.is_open("req-contract-0003")
    await stores.challenges.open_request("req-contract-0003", now + timedelta(days=7), now)
    assert await stores.challenges.is_open("req-contract-0003")
    await stores.challenges.close_request("req-contract-0003")
    assert not await stores.challenges.is_open("req-contract-0003")


async def test_a_wiped_store_says_it_needs_rebuilding_and_forgets_everything(stores: Stores) -> None:
    now = datetime.now(UTC)
    challenge = issue_challenge("req-contract-0004", random.Random(3), now, ChallengeSettings())
    assert await stores.challenges.needs_rebuild()
    await stores.challenges.save(challenge, now)
    await stores.challenges.open_request("req-contract-0004", now + timedelta(days=7), now)
    await stores.challenges.mark_rebuilt()
    assert not await stores.challenges.needs_rebuild()
    await stores.wipe()
    assert await stores.challenges.needs_rebuild()
    assert await stores.challenges.get(challenge.challenge_id) is None
    assert not await stores.challenges.is_open("req-contract-0004")


async def test_a_second_judge_of_the_same_challenge_waits_for_the_first(stores: Stores) -> None:
    order: list[str] = []

    async def first() -> None:
        async with stores.challenges.judging("ch-contract-1"):
            order.append("first in")
            await asyncio.sleep(0.05)
            order.append("first out")

    async def second() -> None:
        await asyncio.sleep(0.01)
        async with stores.challenges.judging("ch-contract-1"):
            order.append("second in")

    await asyncio.gather(first(), second())
    assert order == ["first in", "first out", "second in"]


async def test_a_judge_kept_waiting_too_long_is_told_busy_and_other_challenges_are_free(stores: Stores) -> None:
    async def slow() -> None:
        async with stores.challenges.judging("ch-contract-2"):
            await asyncio.sleep(LOCK_WAIT_S * 2)

    holder = asyncio.create_task(slow())
    await asyncio.sleep(0.01)
    async with stores.challenges.judging("ch-contract-3"):  # another challenge: not held up
        pass
    with pytest.raises(ChallengeBusy):
        async with stores.challenges.judging("ch-contract-2"):
            pass
    await holder
    async with stores.challenges.judging("ch-contract-2"):  # free again once the first is done
        pass


async def test_rendered_media_are_kept_under_their_key(stores: Stores) -> None:
    assert await stores.media.cached("pic:ch:1") is None
    await stores.media.keep("pic:ch:1", b"\x89PNG...", 600)
    assert await stores.media.cached("pic:ch:1") == b"\x89PNG..."


async def test_rate_counters_count_each_window_separately_from_one(stores: Stores) -> None:
    assert [await stores.counter.count("captcha:rl:answer:a:1", 60) for _ in range(3)] == [1, 2, 3]
    assert await stores.counter.count("captcha:rl:answer:b:1", 60) == 1
