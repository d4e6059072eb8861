"""Publishing events with their envelope."""

from __future__ import annotations

import uuid
from datetime import datetime

from faststream.kafka import KafkaBroker

from contracts.base import EventData
from contracts.envelope import Envelope
from contracts.topics import TopicSpec

_NAMESPACE = uuid.UUID("5b7f6f8e-3c1a-4f0e-9d64-0c2f3e0d9a11")


def derived_event_id(cause_event_id: str, what: str) -> str:
    """An event id derived from the event that caused it.

    A redelivered cause then yields the same id, so downstream de-duplication absorbs the repeat.
    """
    return str(uuid.uuid5(_NAMESPACE, f"{cause_event_id}/{what}"))


class EventPublisher:
    def __init__(self, broker: KafkaBroker, producer: str) -> None:
        self._broker = broker
        self._producer = producer

    async def publish(
        self,
        topic: TopicSpec,
        data: EventData,
        *,
        key: str,
        correlation_id: str,
        event_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> Envelope:
        if topic.payload is not None and not isinstance(data, topic.payload):
            raise TypeError(f"{type(data).__name__} does not belong on {topic.name}")
        envelope = Envelope.for_event(
            data,
            producer=self._producer,
            correlation_id=correlation_id,
            event_id=event_id,
            occurred_at=occurred_at,
        )
        await self._broker.publish(
            data.model_dump_json().encode(),
            topic=topic.name,
            key=key.encode(),
            headers=envelope.to_headers(),
        )
        return envelope
