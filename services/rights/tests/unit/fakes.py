"""In-memory fakes of the rights ports for the use-case tests: the store (held to the same contract as
the Redis adapter by tests/store/test_store_contract.py), the publisher and the topic replay (the real
ones are Redis and Kafka, exercised in tests/integration/test_rights.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from contracts.base import EventData
from contracts.envelope import Envelope
from contracts.rights import BalancesProjected
from contracts.topics import TopicSpec
from services.rights.use_cases.ports import HolderRecord

NIR = "1850375123456"
KEY = f"{97 - int(NIR) % 97:02d}"


class MemoryStore:
    def __init__(self) -> None:
        self.holders: dict[str, HolderRecord] = {}
        self.bodies: dict[str, dict[str, dict[str, Any]]] = {}
        self.rebuilt = False

    async def holder(self, holder_id: str) -> HolderRecord | None:
        return self.holders.get(holder_id)

    async def save_holder(self, record: HolderRecord) -> None:
        self.holders[record.holder_id] = record

    async def declarations(self, holder_id: str) -> dict[str, dict[str, Any]]:
        return dict(self.bodies.get(holder_id, {}))

    async def declaration_count(self, holder_id: str) -> int:
        return len(self.bodies.get(holder_id, {}))

    async def add_declarations(self, holder_id: str, bodies: Mapping[str, dict[str, Any]]) -> None:
        self.bodies.setdefault(holder_id, {}).update(bodies)

    async def needs_rebuild(self) -> bool:
        return not self.rebuilt

    async def mark_rebuilt(self) -> None:
        self.rebuilt = True


class MemoryPublisher:
    """Keeps what is published, with the envelope the Kafka publisher would write (validated as it is)."""

    def __init__(self) -> None:
        self.published: list[BalancesProjected] = []
        self.envelopes: list[Envelope] = []

    async def publish(self, topic: TopicSpec, data: EventData, *, key: str, correlation_id: str) -> object:
        assert isinstance(data, BalancesProjected)
        self.envelopes.append(Envelope.for_event(data, producer="rights", correlation_id=correlation_id))
        self.published.append(data)
        return None


class MemoryTopics:
    """The topics as lists of record values: ``replay`` feeds them back in order (a ``TopicReplay``)."""

    def __init__(self) -> None:
        self.records: dict[str, list[bytes]] = {}

    def append(self, topic: TopicSpec, value: bytes) -> None:
        self.records.setdefault(topic.name, []).append(value)

    async def replay(self, topic: TopicSpec, handle: Callable[[bytes], Awaitable[None]]) -> None:
        for value in self.records.get(topic.name, []):
            await handle(value)
