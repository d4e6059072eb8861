"""In-memory store and publisher for the rights service's use-case tests (the real ones are Redis and
Kafka, exercised in tests/integration/test_rights.py)."""

from __future__ import annotations

from typing import Any

from contracts.base import EventData
from contracts.rights import BalancesProjected
from contracts.topics import TopicSpec
from services.rights.adapters.redis_ledger import HolderRecord

NIR = "1850375123456"
KEY = f"{97 - int(NIR) % 97:02d}"


class MemoryStore:
    def __init__(self) -> None:
        self.holders: dict[str, HolderRecord] = {}
        self.bodies: dict[str, dict[str, dict[str, Any]]] = {}

    async def holder(self, holder_id: str) -> HolderRecord | None:
        return self.holders.get(holder_id)

    async def save_holder(self, record: HolderRecord) -> None:
        self.holders[record.holder_id] = record

    async def declarations(self, holder_id: str) -> dict[str, dict[str, Any]]:
        return dict(self.bodies.get(holder_id, {}))

    async def declaration_count(self, holder_id: str) -> int:
        return len(self.bodies.get(holder_id, {}))

    async def add_declaration(self, holder_id: str, event_id: str, body: dict[str, Any]) -> None:
        self.bodies.setdefault(holder_id, {})[event_id] = body

    async def mark_rebuilt(self) -> None:
        return None


class MemoryPublisher:
    def __init__(self) -> None:
        self.published: list[BalancesProjected] = []

    async def publish(self, topic: TopicSpec, data: EventData, *, key: str, correlation_id: str) -> object:
        assert isinstance(data, BalancesProjected)
        self.published.append(data)
        return None
