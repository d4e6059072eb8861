"""Reading a topic from its first retained offset to its current end (rebuilding a Redis projection)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from contracts.topics import TopicSpec
from eventing.settings import ConnectionSettings


async def replay(
    bootstrap: str,
    topic: TopicSpec,
    handle: Callable[[ConsumerRecord[bytes, bytes]], Awaitable[None]],
    *,
    since: datetime | None = None,
) -> int:
    """Feed every record of ``topic`` that exists now (or that was written ``since``) to ``handle``,
    partition by partition; no group."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",  # an aborted transaction's records never happened
        **ConnectionSettings().client_kwargs(),
    )
    await consumer.start()
    seen = 0
    try:
        # The catalog states the partition count; topics are created from it.
        parts = [TopicPartition(topic.name, p) for p in range(topic.partitions)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        if since is not None:
            found = await consumer.offsets_for_times({tp: int(since.timestamp() * 1000) for tp in parts})
            for tp, at in found.items():
                if at is None:  # nothing written since then: start at the end
                    await consumer.seek_to_end(tp)
                else:
                    consumer.seek(tp, at.offset)
        ends = await consumer.end_offsets(parts)
        remaining = {tp for tp in parts if ends[tp] > await consumer.position(tp)}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, records in batch.items():
                for record in records:
                    if record.offset < ends[tp]:
                        await handle(record)
                        seen += 1
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return seen


def skipping_invalid(
    handle: Callable[[ConsumerRecord[bytes, bytes]], Awaitable[None]],
) -> Callable[[ConsumerRecord[bytes, bytes]], Awaitable[None]]:
    """``handle``, skipping records that do not parse: they were parked when first consumed."""

    async def guarded(record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            await handle(record)
        except ValueError:
            pass

    return guarded
