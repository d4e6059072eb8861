"""Registration's transactions shared by concurrent writes (eventing.publishing.GroupCommit), on a scripted
commit; the real broker runs them in every registration test."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime

import pytest

from contracts.envelope import Envelope
from eventing.publishing import GroupCommit, OutgoingEvent


def event(name: str) -> OutgoingEvent:
    env = Envelope(
        event_id=name, type="t", schema_version=1, occurred_at=datetime.now(UTC), correlation_id=name, producer="p"
    )
    return OutgoingEvent("topic", name.encode(), b"{}", {}, env)


class Broker:
    """Runs transactions one at a time; the n-th (from 1) waits until ``release(n)``, and fails if listed."""

    def __init__(self, held: set[int] = frozenset(), failing: set[int] = frozenset()) -> None:  # type: ignore[assignment]
        self.transactions: list[list[str]] = []
        self.started = 0
        self.failing = failing
        self.gates: defaultdict[int, asyncio.Event] = defaultdict(asyncio.Event)
        for n in set(range(1, 10)) - set(held):
            self.gates[n].set()
        self.offset = 0

    def release(self, n: int) -> None:
        self.gates[n].set()

    async def commit(self, events: list[OutgoingEvent]) -> list[int]:
        self.started += 1
        n = self.started
        await self.gates[n].wait()
        if n in self.failing:
            raise ConnectionError("broker gone")
        self.transactions.append([e.key.decode() for e in events])
        first, self.offset = self.offset, self.offset + len(events)
        return list(range(first, self.offset))


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_lone_write_is_its_own_transaction_at_once() -> None:
    broker = Broker()
    assert await GroupCommit(broker.commit).write(event("a"), event("b")) == [0, 1]
    assert broker.transactions == [["a", "b"]]


async def test_writes_arriving_during_a_transaction_share_the_next_and_keep_their_own_offsets() -> None:
    broker = Broker(held={1})
    group = GroupCommit(broker.commit)
    first = asyncio.create_task(group.write(event("r1")))
    await settle()  # r1's transaction is in flight
    later = [asyncio.create_task(group.write(event(f"s{n}"), event(f"e{n}"))) for n in range(3)]
    await settle()
    broker.release(1)
    assert await first == [0]
    assert [await t for t in later] == [[1, 2], [3, 4], [5, 6]]
    assert broker.transactions == [["r1"], ["s0", "e0", "s1", "e1", "s2", "e2"]]  # two transactions, not four


async def test_a_failed_transaction_fails_every_write_it_carried_and_the_next_one_works() -> None:
    broker = Broker(held={1}, failing={2})
    group = GroupCommit(broker.commit)
    first = asyncio.create_task(group.write(event("r1")))
    await settle()
    both = [asyncio.create_task(group.write(event(n))) for n in ("x", "y")]
    await settle()
    broker.release(1)
    assert await first == [0]
    for task in both:  # x and y shared the second transaction, which failed
        with pytest.raises(ConnectionError):
            await task
    assert await group.write(event("z")) == [1]
    assert broker.transactions == [["r1"], ["z"]]


async def test_a_cancelled_leader_leaves_no_write_of_its_batch_waiting_forever() -> None:
    broker = Broker(held={1, 2})
    group = GroupCommit(broker.commit)
    first = asyncio.create_task(group.write(event("r1")))
    await settle()
    leader = asyncio.create_task(group.write(event("leader")))
    follower = asyncio.create_task(group.write(event("follower")))
    await settle()
    broker.release(1)
    await first
    await settle()  # "leader" now leads the second transaction, carrying "follower", held by the broker
    leader.cancel()
    with pytest.raises(RuntimeError, match="cancelled"):
        await asyncio.wait_for(follower, 2)
    assert await asyncio.wait_for(group.write(event("next")), 2) == [1]
