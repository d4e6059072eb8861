"""Delivery rules proven on the real broker and Redis, with a service process built like ours
(tests/support/probe_service.py): commit after the effect, nothing lost on a crash, graceful SIGTERM,
duplicates skipped, poison and failing messages parked on the dead-letter topic with their reason.

Every test runs twice: with a subscriber taking one message at a time (``eventing.delivery``) and with one
taking a fetch at a time (``eventing.batches``, as the rights service reads declarations)."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from redis.asyncio import Redis

from contracts.topics import PhysicalTopic
from eventing.kafka import ensure_topics
from tests.conftest import ROOT, stack
from tests.support.kafka import eventually, publish_raw, read_topic

pytestmark = pytest.mark.integration


@dataclass
class Probe:
    state: stack.StackState
    topic: str
    redis: Redis
    port: int
    batch: bool
    pid: int | None = None

    def start(self, **env: str) -> None:
        full = dict(os.environ)
        full.update(
            {
                "MCF_KAFKA_BOOTSTRAP_SERVERS": self.state.kafka_bootstrap,
                "MCF_REDIS_URL": f"redis://{stack.LOOPBACK}:{self.state.ports.redis}/9",
                "MCF_HTTP_PORT": str(self.port),
                "PROBE_TOPIC": self.topic,
                "PROBE_BATCH": "1" if self.batch else "0",
                **env,
            }
        )
        self.pid = stack.spawn(
            [sys.executable, "-m", "tests.support.probe_service"],
            Path(self.state.var) / "logs" / f"probe-{self.topic}.log",
            env=full,
            cwd=ROOT,
        )
        stack.wait_port(self.port, "probe", self.pid, timeout=60)

    def exited(self) -> bool:
        return self.pid is None or not stack.alive(self.pid)

    async def effects(self) -> list[str]:
        return [v.decode() for v in await self.redis.lrange("probe:effects", 0, -1)]

    async def started(self) -> list[str]:
        return [v.decode() for v in await self.redis.lrange("probe:started", 0, -1)]

    async def send(self, n: int | str, event_id: str | None = None, **extra: object) -> None:
        await publish_raw(
            self.state.kafka_bootstrap,
            self.topic,
            json.dumps({"n": n, **extra}).encode(),
            key=str(n),
            headers={"ce_id": event_id or str(uuid.uuid4())},
        )

    async def committed(self) -> int | None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.state.kafka_bootstrap, group_id="probe", enable_auto_commit=False
        )
        await consumer.start()
        try:
            return await consumer.committed(TopicPartition(self.topic, 0))
        finally:
            await consumer.stop()


@asynccontextmanager
async def _probe(stack_state: stack.StackState, *, batch: bool) -> AsyncIterator[Probe]:
    topic = f"test.probe-{uuid.uuid4().hex[:8]}.v1"
    await ensure_topics(stack_state.kafka_bootstrap, [PhysicalTopic(topic, 1), PhysicalTopic(f"{topic}.dlq", 1)])
    redis = Redis.from_url(f"redis://{stack.LOOPBACK}:{stack_state.ports.redis}/9")
    await redis.flushdb()
    port = stack.Ports.free().registration
    p = Probe(stack_state, topic, redis, port, batch=batch)
    try:
        yield p
    finally:
        if p.pid and stack.alive(p.pid):
            stack.stop_pid(p.pid, "probe", grace=5)
        await redis.aclose()


@pytest.fixture(params=["one-at-a-time", "a-fetch-at-a-time"])
async def probe(stack_state: stack.StackState, request: pytest.FixtureRequest) -> AsyncIterator[Probe]:
    async with _probe(stack_state, batch=request.param == "a-fetch-at-a-time") as p:
        yield p


@pytest.fixture
async def batch_probe(stack_state: stack.StackState) -> AsyncIterator[Probe]:
    async with _probe(stack_state, batch=True) as p:
        yield p


def kill(pid: int | None, sig: signal.Signals) -> None:
    assert pid is not None
    os.killpg(pid, sig)


def wait_exit(probe: Probe, timeout: float) -> float:
    started = time.monotonic()
    while not probe.exited():
        assert time.monotonic() - started < timeout, "the process did not exit in time"
        time.sleep(0.05)
    return time.monotonic() - started


async def test_a_crash_after_the_effect_loses_nothing_the_message_comes_back(probe: Probe) -> None:
    probe.start(PROBE_CRASH_AFTER_EFFECT="1")
    await probe.send(1)
    await eventually(probe.exited, timeout=30)  # it died after the effect, before committing
    assert await probe.effects() == ["1"]
    assert await probe.committed() is None

    probe.start()
    await eventually(lambda: probe.committed(), timeout=30)  # redelivered, handled, committed
    assert await probe.committed() == 1
    assert await probe.effects() == ["1", "1"]  # at least once: effects must be idempotent (docs/delivery.md)


async def test_sigterm_finishes_the_message_in_hand_commits_it_once_and_exits_in_time(probe: Probe) -> None:
    probe.start(PROBE_SLOW_S="3")
    await probe.send(7)
    await eventually(lambda: probe.started(), timeout=30)
    kill(probe.pid, signal.SIGTERM)  # while the handler is still working
    took = wait_exit(probe, timeout=25)
    assert await probe.effects() == ["7"], "the message in hand was finished"
    assert await probe.committed() == 1, "and committed before leaving"
    assert took < 25

    probe.start()  # a new process of the group does not see it again
    await probe.send(8)
    await eventually(lambda: _has(probe, "8"), timeout=30)
    assert await probe.effects() == ["7", "8"]


async def _has(probe: Probe, n: str) -> bool:
    return n in await probe.effects()


async def test_a_redelivered_event_id_has_no_second_effect(probe: Probe) -> None:
    same = str(uuid.uuid4())
    await probe.send(1, event_id=same)  # sent before the start: in one fetch when a fetch at a time
    await probe.send(1, event_id=same)
    await probe.send(2)
    probe.start()
    await eventually(lambda: _has(probe, "2"), timeout=30)
    await probe.send(1, event_id=same)  # and again in a later fetch
    await probe.send(3)
    await eventually(lambda: _has(probe, "3"), timeout=30)
    assert await probe.effects() == ["1", "2", "3"]


async def test_poison_and_failing_messages_are_parked_with_their_reason_and_do_not_block(probe: Probe) -> None:
    probe.start()
    await publish_raw(probe.state.kafka_bootstrap, probe.topic, b"{not json", headers={"ce_id": "bad-json"})
    await probe.send("x", poison=True)  # the handler keeps failing: retried with back-off, then parked
    await probe.send(3)
    await eventually(lambda: _has(probe, "3"), timeout=60)
    parked = await read_topic(probe.state.kafka_bootstrap, f"{probe.topic}.dlq", until=lambda rs: len(rs) >= 2)
    reasons = {r.value: r.headers for r in parked}
    assert reasons[b"{not json"]["dlq_reason"].startswith("invalid message")
    failing = next(h for v, h in reasons.items() if b'"poison"' in v)
    assert failing["dlq_reason"].startswith("gave up after 5 attempts")
    assert failing["dlq_original_topic"] == probe.topic and failing["dlq_consumer_group"] == "probe"
    # Past all three: offsets go out together within the commit interval (eventing.offsets).
    await eventually(lambda: _committed_is(probe, 3), timeout=10)


async def _committed_is(probe: Probe, offset: int) -> bool:
    return await probe.committed() == offset


async def test_an_operator_replays_a_parked_message_once_the_cause_is_fixed(probe: Probe) -> None:
    probe.start()
    await probe.redis.set("probe:broken", b"1")
    await probe.send(5)
    dlq = f"{probe.topic}.dlq"
    [parked] = await read_topic(probe.state.kafka_bootstrap, dlq, until=lambda rs: len(rs) >= 1, timeout=60)
    assert await probe.effects() == []
    await probe.redis.delete("probe:broken")  # the dependency is back
    # Republished as-is, dlq_* headers included: a deliberate retry, not a duplicate to skip.
    await publish_raw(probe.state.kafka_bootstrap, probe.topic, parked.value, key=parked.key, headers=parked.headers)
    await eventually(lambda: _has(probe, "5"), timeout=30)
    assert await probe.effects() == ["5"]


async def test_a_backlog_is_read_a_fetch_at_a_time_each_refused_or_failing_message_parked_alone(
    batch_probe: Probe,
) -> None:
    # Sent while no consumer runs: the backlog a restarted service finds. Read a fetch at a time, each
    # message has one effect (a redelivered id inside the fetch included), the refused, the unreadable and
    # the failing one are each parked alone with their reason, the others applied, and the offset goes
    # past all of them.
    probe = batch_probe
    redelivered = str(uuid.uuid4())
    await probe.send(0, event_id=redelivered)
    for n in range(1, 40):
        if n == 7:
            await probe.send(n, refuse="no such rule")
        elif n == 13:
            await probe.send(n, poison=True)
        elif n == 21:
            await probe.send(0, event_id=redelivered)
        elif n == 30:
            await publish_raw(probe.state.kafka_bootstrap, probe.topic, b"{not json", headers={"ce_id": "bad"})
        elif n == 33:  # a header FastStream alone cannot decode: judged like any other message
            await _send_with_raw_headers(probe, n, [("ce_id", str(uuid.uuid4()).encode()), ("x", b"caf\xe9")])
        else:
            await probe.send(n)
    probe.start()
    await eventually(lambda: _committed_is(probe, 40), timeout=90)
    effects = await probe.effects()
    assert sorted(effects, key=int) == [str(n) for n in range(40) if n not in (7, 13, 21, 30)]  # each once
    # The handler was given many messages at once (a fetch), then, after the failing one kept failing the
    # fetch, each message alone, once: never the failing one's five attempts per message.
    calls = [int(size) for size in await probe.redis.lrange("probe:fetches", 0, -1)]
    assert max(calls) > 10, calls
    assert len(calls) <= 5 * 3 + 40, calls
    parked = await read_topic(probe.state.kafka_bootstrap, f"{probe.topic}.dlq", until=lambda rs: len(rs) >= 3)
    reasons = {r.value: r.headers["dlq_reason"] for r in parked}
    assert len(parked) == 3
    assert reasons[b"{not json"].startswith("invalid message")
    assert next(why for value, why in reasons.items() if b'"refuse"' in value) == "refused: no such rule"
    failing = next(why for value, why in reasons.items() if b'"poison"' in value)
    assert failing.startswith("gave up after 5 attempts") and "alone: ValueError: not a number" in failing


async def test_a_dependency_down_under_a_fetch_parks_nothing_and_the_fetch_is_applied_once_it_is_back(
    batch_probe: Probe,
) -> None:
    # Not the messages' fault: the fetch is rewound on the real broker and read again until the
    # dependency answers; nothing goes to the dead-letter topic, nothing is committed before its effect.
    probe = batch_probe
    await probe.redis.set("probe:down", b"1")
    for n in range(5):
        await probe.send(n)
    probe.start()
    await eventually(lambda: _tried_at_least(probe, 5 + 5 + 1), timeout=60)  # tried, alone, then read again
    assert await probe.effects() == [] and await probe.committed() is None
    await probe.redis.delete("probe:down")
    await eventually(lambda: _committed_is(probe, 5), timeout=60)
    assert sorted(await probe.effects()) == ["0", "1", "2", "3", "4"]
    dlq = await read_topic(probe.state.kafka_bootstrap, f"{probe.topic}.dlq", timeout=3)
    assert dlq == []


async def _tried_at_least(probe: Probe, calls: int) -> bool:
    return await probe.redis.llen("probe:fetches") >= calls


async def _send_with_raw_headers(probe: Probe, n: int, headers: list[tuple[str, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=probe.state.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(probe.topic, json.dumps({"n": n}).encode(), key=str(n).encode(), headers=headers)
    finally:
        await producer.stop()
