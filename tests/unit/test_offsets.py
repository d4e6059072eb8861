"""Batched offset commits (eventing/offsets.py) never move a partition's committed position backwards.

Two flushes can overlap: the timer's, and one before a rebalance or a stop. If the older one fails after
the newer one committed, putting its position back for a retry would commit an older offset over a newer
one, and a restart would hand out again messages that were done. Commit and redelivery themselves are
proven on the real broker (tests/integration/test_delivery.py); here the broker's answer is scripted.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaConnectionError

from eventing.offsets import BatchCommitConsumer

PARTITION = TopicPartition("registration.mail-requested.v1", 0)


class ScriptedBroker:
    """The parent's commit: the first call waits for a go and then fails; the others succeed."""

    def __init__(self) -> None:
        self.calls: list[dict[TopicPartition, int]] = []
        self.first_may_fail = asyncio.Event()

    async def commit(self, offsets: Any = None) -> None:
        self.calls.append(dict(offsets))
        if len(self.calls) == 1:
            await self.first_may_fail.wait()
            raise KafkaConnectionError()


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch) -> ScriptedBroker:
    scripted = ScriptedBroker()
    async def commit(consumer: AIOKafkaConsumer, offsets: Any = None) -> None:
        await scripted.commit(offsets)

    monkeypatch.setattr(AIOKafkaConsumer, "commit", commit)
    return scripted


async def test_a_failed_older_flush_does_not_commit_its_position_over_a_newer_one(broker: ScriptedBroker) -> None:
    consumer = BatchCommitConsumer(bootstrap_servers="127.0.0.1:9", commit_interval_s=0.05)
    consumer.assignment = lambda: {PARTITION}  # type: ignore[method-assign]
    consumer._handled = {PARTITION: 101}
    older = asyncio.create_task(consumer.flush())  # the timer's flush, waiting on the broker
    await asyncio.sleep(0)
    consumer._handled = {PARTITION: 150}  # more messages handled meanwhile
    await consumer.flush()  # a rebalance's flush: committed
    broker.first_may_fail.set()
    await older  # the older flush fails now and keeps its position for a retry
    await asyncio.sleep(0.2)  # the retry's timer fires
    await consumer.flush()
    assert broker.calls == [{PARTITION: 101}, {PARTITION: 150}]  # 101 never goes out again
    assert consumer._committed == {PARTITION: 150}


async def test_a_failed_flush_is_retried_with_the_newest_position(broker: ScriptedBroker) -> None:
    consumer = BatchCommitConsumer(bootstrap_servers="127.0.0.1:9", commit_interval_s=0.05)
    consumer.assignment = lambda: {PARTITION}  # type: ignore[method-assign]
    consumer._handled = {PARTITION: 101}
    failing = asyncio.create_task(consumer.flush())
    await asyncio.sleep(0)
    consumer._handled = {PARTITION: 120}  # handled while the commit was on its way, not flushed yet
    broker.first_may_fail.set()
    await failing
    await asyncio.sleep(0.2)  # the retry's timer fires and commits the newest position once
    assert broker.calls == [{PARTITION: 101}, {PARTITION: 120}]
    assert consumer._committed == {PARTITION: 120}
