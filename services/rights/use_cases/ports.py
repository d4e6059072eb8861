"""What the rights use cases need from the outside, as ``typing.Protocol`` ports.

The adapters implement them (``adapters.redis_ledger.RightsStore``, ``adapters.kafka_replay``,
``adapters.session_tokens``, ``eventing.publishing.EventPublisher``); the use-case tests use in-memory
fakes (``tests/unit/fakes.py``), and one contract test runs against both the fake and Redis
(``tests/store/test_store_contract.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from contracts.base import EventData
from contracts.topics import TopicSpec


@dataclass(frozen=True)
class HolderRecord:
    """A holder the service knows: pseudonymous id, birth month (YYYY-MM), activated or not."""

    holder_id: str
    birth: str  # YYYY-MM
    active: bool
    activated_at: str | None = None


class HolderStore(Protocol):
    """Each holder's record and received declarations (their contract form, without the NIR). The
    declarations only grow: a declaration stored once stays, so their count tells two states apart."""

    async def holder(self, holder_id: str) -> HolderRecord | None: ...
    async def save_holder(self, record: HolderRecord) -> None: ...
    async def declarations(self, holder_id: str) -> dict[str, dict[str, Any]]: ...
    async def declaration_count(self, holder_id: str) -> int: ...
    async def add_declarations(self, holder_id: str, bodies: Mapping[str, dict[str, Any]]) -> None:
        """Keep these declarations (by event_id) of one holder, all in one write."""
        ...

    async def needs_rebuild(self) -> bool: ...
    async def mark_rebuilt(self) -> None: ...


class Publisher(Protocol):
    """Publishes an event on a catalog topic (``eventing.publishing.EventPublisher``)."""

    async def publish(self, topic: TopicSpec, data: EventData, *, key: str, correlation_id: str) -> object: ...


class Clock(Protocol):
    """Today's date (balances are read as of today)."""

    def __call__(self) -> date: ...


class TopicReplay(Protocol):
    """Feeds every record value a topic holds now to ``handle``, in order within each partition."""

    async def __call__(self, topic: TopicSpec, handle: Callable[[bytes], Awaitable[None]]) -> None: ...


class SessionVerifier(Protocol):
    """The holder a session token was issued to, or None if it is not valid (expired, forged...)."""

    def holder_of(self, token: str) -> str | None: ...
