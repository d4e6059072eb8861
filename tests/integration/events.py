"""Publishing real events (payload + CloudEvents headers) and reading them back, for the integration tests."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts.base import EventData
from contracts.envelope import Envelope
from contracts.registration import AccountActivated, SecurityCheckRequested
from contracts.topics import TopicSpec, physical_topics
from tests.conftest import Platform
from tests.support.kafka import Record, publish_raw, read_topic


def new_request_id(tag: str) -> str:
    return f"it-{tag}-{secrets.token_urlsafe(12)}"


async def publish_event(
    platform: Platform,
    topic: TopicSpec,
    data: EventData,
    *,
    key: str,
    correlation_id: str,
    event_id: str | None = None,
) -> Envelope:
    """Publish ``data`` on ``topic`` as its producer would: JSON value, binary-mode CloudEvents headers."""
    envelope = Envelope.for_event(data, producer=topic.producer, correlation_id=correlation_id, event_id=event_id)
    await publish_raw(
        platform.kafka, topic.name, data.model_dump_json().encode(), key=key, headers=envelope.to_headers()
    )
    return envelope


def security_check_requested(request_id: str) -> SecurityCheckRequested:
    expires_at = datetime.now(UTC) + timedelta(days=7)
    return SecurityCheckRequested(request_id=request_id, expires_at=expires_at, channel="api")


def account_activated(request_id: str, holder_id: str) -> AccountActivated:
    return AccountActivated(
        holder_id=holder_id, request_id=request_id, birth_year_month="1990-05", activated_at=datetime.now(UTC)
    )


async def records_for(
    platform: Platform,
    topic: TopicSpec | str,
    key: str,
    *,
    count: int = 1,
    where: Callable[[Record], bool] = lambda _r: True,
    timeout: float = 30.0,
) -> list[Record]:
    """Every record of ``topic`` under ``key`` (at least ``count`` of them, waiting up to ``timeout``)."""
    name = topic if isinstance(topic, str) else topic.name

    def mine(records: list[Record]) -> list[Record]:
        return [r for r in records if r.key == key and where(r)]

    await read_topic(platform.kafka, name, until=lambda rs: len(mine(rs)) >= count, timeout=timeout)
    # Then everything up to the topic's current end, so that a record beyond the expected count shows too.
    return mine(await read_all(platform, name))


async def read_all(platform: Platform, topic: str) -> list[Record]:
    """Every record of ``topic`` from its first retained offset to its end as of now (no group)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=platform.kafka, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        # Topics are created from the catalog, which states their partition counts (as eventing.replay does).
        [count] = [t.partitions for t in physical_topics() if t.name == topic]
        parts = [TopicPartition(topic, p) for p in range(count)]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        out: list[Record] = []
        while [tp for tp in parts if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(*parts, timeout_ms=500)
            for tp, recs in batch.items():
                out.extend(
                    Record(
                        r.topic,
                        r.key.decode() if r.key else None,
                        r.value or b"",
                        {k: v.decode() for k, v in (r.headers or ())},
                        r.offset,
                    )
                    for r in recs
                    if r.offset < ends[tp]
                )
        return out
    finally:
        await consumer.stop()
