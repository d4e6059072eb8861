"""The ``TopicReplay`` port over Kafka: read a topic from its first retained offset to its current end."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiokafka import ConsumerRecord

from contracts.topics import TopicSpec
from eventing.replay import replay
from services.rights.use_cases.ports import TopicReplay


def kafka_topic_replay(bootstrap: str) -> TopicReplay:
    async def replay_topic(topic: TopicSpec, handle: Callable[[bytes], Awaitable[None]]) -> None:
        async def each(record: ConsumerRecord[bytes, bytes]) -> None:
            await handle(record.value or b"")

        await replay(bootstrap, topic, each)

    return replay_topic
