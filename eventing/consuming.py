"""Declaring subscribers with the platform's delivery rules, and reading the envelope in a handler."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from faststream import AckPolicy, Depends
from faststream.kafka import KafkaBroker, KafkaMessage

from contracts.envelope import Envelope
from contracts.topics import TopicSpec
from eventing.delivery import DeliveryGuard
from eventing.settings import ConnectionSettings


async def _current_envelope(message: KafkaMessage) -> Envelope:  # async: FastStream runs a sync one in a thread
    return Envelope.from_headers(message.headers)


CurrentEnvelope = Annotated[Envelope, Depends(_current_envelope)]


def subscribe(
    broker: KafkaBroker, guard: DeliveryGuard, topic: TopicSpec, *, group_id: str
) -> Callable[[Callable[..., Any]], Any]:
    """A subscriber that commits after the effect and starts a new group at the earliest offset.

    Every group starts at ``earliest``: a new consumer (or a projection rebuilt from scratch) must see
    the whole retained history, never only what arrives after it joined. It reads only committed
    transactions (a state change and the events it causes are written in one), and joins as a static
    member named after this process, so a restart does not wait for the group to rebalance.
    """
    guard.groups[topic.name] = group_id
    options = subscriber_options(topic, group_id)
    subscriber: Callable[[Callable[..., Any]], Any] = broker.subscriber(topic.name, **options)
    return subscriber


def subscriber_options(topic: TopicSpec, group_id: str) -> dict[str, Any]:
    """How every subscriber of the platform reads (``subscribe``, ``eventing.batches.subscribe_batch``)."""
    settings = ConnectionSettings()
    return {
        "group_id": group_id,
        "auto_offset_reset": "earliest",
        "isolation_level": "read_committed",
        "group_instance_id": f"{settings.instance_id}:{topic.name}",
        # Each subscriber of a service joins the service's group in turn, and every join is a rebalance
        # that the others only learn of at their next heartbeat: frequent heartbeats keep a start short.
        "heartbeat_interval_ms": settings.heartbeat_interval_ms,
        "fetch_max_wait_ms": settings.fetch_max_wait_ms,
        "ack_policy": AckPolicy.NACK_ON_ERROR,
        "parser": lenient_headers,
        "title": f"{group_id}:{topic.name}",
        "description": topic.description,
    }


async def lenient_headers(message: Any, original: Callable[[Any], Awaitable[Any]]) -> Any:
    """FastStream's parser, given headers it can decode. It decodes every header value as UTF-8 before any
    middleware runs, and a failure there is neither acknowledged nor rewound: the next acknowledgement
    commits past the message (a whole fetch, for a batch subscriber). A null or non-UTF-8 value is read
    as text instead (replacement characters), so the delivery rules judge the message like any other."""
    if isinstance(message, tuple):
        return await original(tuple(_readable(record) for record in message))
    return await original(_readable(message))


def _readable(record: Any) -> Any:
    if all(isinstance(value, bytes) and value.isascii() for _, value in record.headers):
        return record  # (the usual case: nothing to copy)
    headers = [(name, (value or b"").decode(errors="replace").encode()) for name, value in record.headers]
    return dataclasses.replace(record, headers=headers)


def declare_publisher(broker: KafkaBroker, topic: TopicSpec) -> None:
    """Make a produced topic appear, with its payload schema, in the service's AsyncAPI document."""
    broker.publisher(
        topic.name,
        schema=topic.payload,
        title=f"{topic.producer}:{topic.name}",
        description=topic.description,
    )
