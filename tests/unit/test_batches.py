"""The batch delivery rules (``eventing.batches``) without a broker: de-duplication, each refused message
parked alone, a failing handler narrowed down to the message that fails, a wiped state judged again.
The same rules on the real broker and Redis, with crashes and SIGTERM: tests/integration/test_delivery.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from eventing.batches import deliver_batch
from eventing.delivery import DeliveryGuard, ProcessedEvents, RetryPolicy
from eventing.memory import MemoryProcessedEvents


@pytest.fixture(params=["memory", "redis"])
async def processed(request: pytest.FixtureRequest) -> AsyncIterator[tuple[ProcessedEvents, Any]]:
    """Each adapter, and a way to set the state marker in it."""
    if request.param == "memory":
        memory = MemoryProcessedEvents()

        async def mark_memory(key: str) -> None:
            memory.markers.add(key)

        yield memory, mark_memory
        return
    from redis.asyncio import Redis

    from eventing.redis_store import RedisProcessedEvents

    redis = Redis.from_url(request.getfixturevalue("redis_url"))
    await redis.flushdb()

    async def mark(key: str) -> None:
        await redis.set(key, b"1")

    try:
        yield RedisProcessedEvents(redis, ttl_s=60), mark
    finally:
        await redis.aclose()


async def test_de_duplication_keys_contract_for_a_batch(processed: tuple[ProcessedEvents, Any]) -> None:
    # The same contract for the in-memory fake and Redis: a batch's ids checked and remembered at once,
    # per consumer group, and nothing remembered once the state's marker is gone.
    store, set_marker = processed
    assert await store.seen_among("g", []) == set()
    assert await store.remember_all("g", ["e1", "e2"])
    assert await store.seen_among("g", ["e1", "e2", "e3"]) == {"e1", "e2"}
    assert await store.seen_among("other", ["e1"]) == set()
    assert not await store.remember_all("g", ["e3"], if_present="svc:rebuilt")  # the state is not whole
    assert await store.seen_among("g", ["e3"]) == set()
    await set_marker("svc:rebuilt")
    assert await store.remember_all("g", ["e3", "e4"], if_present="svc:rebuilt")
    assert await store.seen_among("g", ["e3", "e4"]) == {"e3", "e4"}
    assert await store.seen("g", "e4") and await store.remember("g", "e5") and await store.seen("g", "e5")


@dataclass
class Record:
    value: bytes
    offset: int
    topic: str = "t"
    partition: int = 0
    key: bytes | None = None


class Batch:
    """What FastStream hands a batch subscriber: the fetch's records and each one's headers."""

    def __init__(self, *messages: tuple[str | None, bytes]) -> None:
        self.raw_message = tuple(Record(value, offset) for offset, (_, value) in enumerate(messages))
        self.batch_headers = [{"ce_id": event_id} if event_id else {} for event_id, _ in messages]


def _guard(processed: Any = None, **retry: Any) -> tuple[DeliveryGuard, list[tuple[bytes, str]]]:
    parked: list[tuple[bytes, str]] = []

    async def no_wait(_seconds: float) -> None:
        await asyncio.sleep(0)

    guard = DeliveryGuard(
        broker=None,  # type: ignore[arg-type]
        processed=processed or MemoryProcessedEvents(),
        retry=RetryPolicy(**retry),
        sleep=no_wait,
    )
    guard.groups["t"] = "g"

    async def park_record(raw: Any, headers: Mapping[str, str], group: str, reason: str, error: Any) -> None:
        parked.append((raw.value, reason))

    guard.park_record = park_record  # type: ignore[method-assign]
    return guard, parked


async def test_duplicates_are_skipped_refused_messages_parked_alone_and_the_rest_applied_in_two_round_trips() -> None:
    processed = MemoryProcessedEvents()
    processed.ids.add(("g", "old"))
    guard, parked = _guard(processed)
    handled: list[list[bytes]] = []

    async def handle(values: list[bytes]) -> Mapping[int, str]:
        handled.append(values)
        return {position: "refused: no such rule" for position, value in enumerate(values) if value == b"bad"}

    batch = Batch(("old", b"again"), ("a", b"1"), ("b", b"bad"), ("a", b"1"), (None, b"2"), ("c", b"3"))
    await deliver_batch(guard, batch, handle)  # type: ignore[arg-type]
    assert handled == [[b"1", b"bad", b"2", b"3"]]  # the handled one and the repeat within the batch skipped
    assert parked == [(b"bad", "refused: no such rule")]
    assert {"a", "b", "c"} <= {event_id for _, event_id in processed.ids}  # the refused one too: parked is done
    assert processed.round_trips == 2  # one look-up and one mark for the whole batch


async def test_a_handler_failing_on_one_message_has_it_parked_and_the_others_applied() -> None:
    guard, parked = _guard(attempts=3)
    applied: list[bytes] = []
    calls = 0

    async def handle(values: list[bytes]) -> Mapping[int, str]:
        nonlocal calls
        calls += 1
        if b"boom" in values:
            raise ValueError("cannot read this one")
        applied.extend(values)
        return {}

    await deliver_batch(guard, Batch(("a", b"1"), ("b", b"boom"), ("c", b"3")), handle)  # type: ignore[arg-type]
    assert applied == [b"1", b"3"]
    assert [value for value, _ in parked] == [b"boom"]
    assert "gave up after 3 attempts" in parked[0][1] and "alone: ValueError: cannot read this one" in parked[0][1]
    assert calls == 3 + 3  # three tries of the batch, then each message once alone
    assert await guard.processed.seen_among("g", ["a", "b", "c"]) == {"a", "b", "c"}


async def test_a_dependency_down_for_every_message_parks_nothing_and_the_batch_comes_again() -> None:
    guard, parked = _guard(attempts=2)

    async def handle(values: list[bytes]) -> Mapping[int, str]:
        raise ConnectionError("redis is down")

    with pytest.raises(ConnectionError):  # FastStream rewinds the partitions: the fetch is read again
        await deliver_batch(guard, Batch(("a", b"1"), ("b", b"2")), handle)  # type: ignore[arg-type]
    assert parked == []
    assert await guard.processed.seen_among("g", ["a", "b"]) == set()


async def test_a_batch_handled_while_the_state_was_wiped_is_judged_again_once_rebuilt() -> None:
    processed = MemoryProcessedEvents()
    processed.markers.add("svc:rebuilt")
    guard, parked = _guard(processed)
    guard.state_marker = "svc:rebuilt"
    judged: list[bool] = []

    async def handle(values: list[bytes]) -> Mapping[int, str]:
        judged.append("svc:rebuilt" in processed.markers)
        if len(judged) == 1:  # Redis is flushed while this batch is judged

            def rebuilt() -> None:
                processed.markers.add("svc:rebuilt")
                guard.gate.open()

            processed.markers.clear()
            asyncio.get_running_loop().call_later(0.01, rebuilt)
        return {}

    await deliver_batch(guard, Batch(("a", b"1"), ("b", b"2")), handle)  # type: ignore[arg-type]
    assert judged == [True, True]  # judged a second time, on the rebuilt state, before anything is remembered
    assert parked == [] and await processed.seen_among("g", ["a", "b"]) == {"a", "b"}


async def test_nothing_of_a_batch_is_touched_while_the_state_is_rebuilt() -> None:
    guard, _ = _guard()
    guard.gate.close()
    handled: list[list[bytes]] = []

    async def handle(values: list[bytes]) -> Mapping[int, str]:
        handled.append(values)
        return {}

    delivery = asyncio.create_task(deliver_batch(guard, Batch(("a", b"1")), handle))  # type: ignore[arg-type]
    await asyncio.sleep(0.05)
    assert handled == [] and not delivery.done()
    guard.gate.open()
    await delivery
    assert handled == [[b"1"]]


async def test_a_lone_message_under_a_dependency_down_is_not_parked_but_one_failing_for_its_own_reason_is() -> None:
    guard, parked = _guard(attempts=2)

    async def down(values: list[bytes]) -> Mapping[int, str]:
        raise TimeoutError("redis did not answer")

    with pytest.raises(TimeoutError):
        await deliver_batch(guard, Batch(("a", b"1")), down)  # type: ignore[arg-type]
    assert parked == []

    async def unreadable(values: list[bytes]) -> Mapping[int, str]:
        raise LookupError("no rule for this")

    # Every message failing for a reason of its own: all parked, the partition never blocked.
    await deliver_batch(guard, Batch(("b", b"2"), ("c", b"3")), unreadable)  # type: ignore[arg-type]
    assert [value for value, _ in parked] == [b"2", b"3"]
    assert all("alone: LookupError: no rule for this" in reason for _, reason in parked)
    await deliver_batch(guard, Batch(("d", b"4")), unreadable)  # type: ignore[arg-type]
    assert parked[-1] == (b"4", "gave up after 2 attempts: LookupError: no rule for this")


async def test_an_operators_replay_in_the_same_fetch_as_its_original_is_applied_not_skipped() -> None:
    processed = MemoryProcessedEvents()
    processed.ids.add(("g", "e1"))  # the original was handled (and parked) before
    guard, parked = _guard(processed)
    handled: list[list[bytes]] = []

    async def handle(values: list[bytes]) -> Mapping[int, str]:
        handled.append(values)
        return {}

    batch = Batch(("e1", b"original, redelivered"), ("e1", b"replayed"))
    batch.batch_headers[1]["dlq_reason"] = "gave up after 5 attempts"  # republished as-is by an operator
    await deliver_batch(guard, batch, handle)  # type: ignore[arg-type]
    assert handled == [[b"replayed"]] and parked == []


async def test_narrowed_down_under_a_wipe_nothing_is_committed_on_the_wiped_state_even_without_ids() -> None:
    # Partner declarations carry no ce_id header: the wipe must still be seen for each message tried alone.
    processed = MemoryProcessedEvents()
    processed.markers.add("svc:rebuilt")
    guard, parked = _guard(processed, attempts=1)
    guard.state_marker = "svc:rebuilt"

    async def handle(values: list[bytes]) -> Mapping[int, str]:
        if len(values) > 1:
            raise LookupError("fails together")
        processed.markers.clear()  # Redis wiped while the first message alone is applied
        return {}

    with pytest.raises(RuntimeError, match="rebuilt"):  # FastStream rewinds: the fetch comes again
        await deliver_batch(guard, Batch((None, b"1"), (None, b"2")), handle)  # type: ignore[arg-type]
    assert parked == [] and not guard.gate.is_open


async def test_a_dependency_down_is_tried_alone_once_not_once_per_message() -> None:
    guard, parked = _guard(attempts=2)
    calls: list[int] = []

    async def handle(values: list[bytes]) -> Mapping[int, str]:
        calls.append(len(values))
        raise ConnectionError("kafka is down")  # each call may wait for a timeout: no more than needed

    with pytest.raises(ConnectionError):
        await deliver_batch(guard, Batch(*((f"e{n}", b"x") for n in range(50))), handle)  # type: ignore[arg-type]
    assert calls == [50, 50, 1] and parked == []


async def test_a_record_with_a_null_or_non_utf8_header_is_parsed_and_judged_like_any_other() -> None:
    # FastStream decodes every header before the delivery rules run, and a failure there is neither
    # acknowledged nor rewound: the next commit would pass the record (or a whole fetch) unapplied.
    from aiokafka.structs import ConsumerRecord
    from faststream.kafka.message import KafkaMessage
    from faststream.kafka.parser import AioKafkaBatchParser, AioKafkaParser

    from eventing.consuming import lenient_headers

    def record(offset: int, headers: list[tuple[str, bytes | None]]) -> ConsumerRecord[bytes, bytes]:
        return ConsumerRecord("t", 0, offset, 0, 0, None, b"{}", None, 0, 2, headers)

    broken = record(1, [("ce_id", b"e1"), ("x-trace", None), ("x-name", b"caf\xe9")])
    with pytest.raises((AttributeError, UnicodeDecodeError)):
        await AioKafkaParser(KafkaMessage, None).parse_message(broken)  # what FastStream alone does
    one = await lenient_headers(broken, AioKafkaParser(KafkaMessage, None).parse_message)
    assert one.headers == {"ce_id": "e1", "x-trace": "", "x-name": "caf\ufffd"}
    fine = record(2, [("ce_id", b"e2")])
    many = await lenient_headers((fine, broken), AioKafkaBatchParser(KafkaMessage, None).parse_batch)
    assert [h["ce_id"] for h in many.batch_headers] == ["e2", "e1"]
    assert many.raw_message[0] is fine and many.raw_message[1].offset == 1  # the same records, in order


def test_what_counts_as_a_dependency_down_and_what_as_one_messages_own_failure() -> None:
    from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, MessageSizeTooLargeError
    from redis.exceptions import BusyLoadingError, ResponseError
    from redis.exceptions import ConnectionError as RedisConnectionError

    from eventing.batches import dependency_down

    for down in (
        ConnectionRefusedError(),
        TimeoutError(),
        RedisConnectionError(),
        BusyLoadingError(),
        KafkaConnectionError(),
        KafkaTimeoutError(),
    ):
        assert dependency_down(down), down
    for own in (MessageSizeTooLargeError(), ResponseError("script error"), ValueError(), LookupError()):
        assert not dependency_down(own), own


async def test_a_record_the_broker_refuses_as_too_large_is_parked_not_retried_for_ever() -> None:
    from aiokafka.errors import MessageSizeTooLargeError

    guard, parked = _guard(attempts=2)

    async def handle(values: list[bytes]) -> Mapping[int, str]:
        if b"huge" in values:
            raise MessageSizeTooLargeError("the balances of this one exceed the topic's limit")
        return {}

    await deliver_batch(guard, Batch(("a", b"1"), ("b", b"huge")), handle)  # type: ignore[arg-type]
    assert [value for value, _ in parked] == [b"huge"]
