"""Publishing events with their envelope, one at a time or several in one Kafka transaction."""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from contracts.base import EventData
from contracts.envelope import Envelope
from contracts.topics import TopicSpec
from eventing.settings import ConnectionSettings

_NAMESPACE = uuid.UUID("5b7f6f8e-3c1a-4f0e-9d64-0c2f3e0d9a11")


def derived_event_id(cause_event_id: str, what: str) -> str:
    """An event id derived from the event that caused it.

    A redelivered cause then yields the same id, so downstream de-duplication absorbs the repeat.
    """
    return str(uuid.uuid5(_NAMESPACE, f"{cause_event_id}/{what}"))


@dataclass(frozen=True)
class OutgoingEvent:
    """An event ready to be written: topic, key, JSON value and envelope headers."""

    topic: str
    key: bytes
    value: bytes
    headers: dict[str, str]
    envelope: Envelope


class EventPublisher:
    def __init__(self, broker: KafkaBroker, producer: str) -> None:
        self._broker = broker
        self._producer = producer

    def event(
        self,
        topic: TopicSpec,
        data: EventData,
        *,
        key: str,
        correlation_id: str,
        event_id: str | None = None,
        occurred_at: datetime | None = None,
    ) -> OutgoingEvent:
        if topic.payload is not None and not isinstance(data, topic.payload):
            raise TypeError(f"{type(data).__name__} does not belong on {topic.name}")
        envelope = Envelope.for_event(
            data,
            producer=self._producer,
            correlation_id=correlation_id,
            event_id=event_id,
            occurred_at=occurred_at,
        )
        return OutgoingEvent(topic.name, key.encode(), data.model_dump_json().encode(), envelope.to_headers(), envelope)

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
        out = self.event(
            topic, data, key=key, correlation_id=correlation_id, event_id=event_id, occurred_at=occurred_at
        )
        await self._broker.publish(out.value, topic=out.topic, key=out.key, headers=out.headers)
        return out.envelope


@dataclass
class _Pending:
    events: tuple[OutgoingEvent, ...]
    done: asyncio.Future[list[int]]


class GroupCommit:
    """Writes that arrive while a transaction is in flight go out together in the next one.

    One Kafka transaction costs the broker a round of coordinator requests and a commit marker on every
    partition it touched, whatever it carries: under concurrent sign-ups most of the broker's CPU per
    sign-up was that overhead. Each writer still learns its own records' offsets, and each state change
    still lands with its events or not at all (a failed transaction fails every write it carried). A
    lone writer waits for nobody: batching happens only while a transaction is already running.
    """

    def __init__(self, commit: Callable[[list[OutgoingEvent]], Awaitable[list[int]]]) -> None:
        self._commit = commit
        self._queue: list[_Pending] = []
        self._lock = asyncio.Lock()  # a producer runs one transaction at a time

    async def write(self, *events: OutgoingEvent) -> list[int]:
        mine = _Pending(events, asyncio.get_running_loop().create_future())
        self._queue.append(mine)
        async with self._lock:
            if not mine.done.done():  # nobody took it along: lead the next transaction
                batch, self._queue = self._queue, []
                await self._lead(batch)
        return await mine.done

    async def _lead(self, batch: list[_Pending]) -> None:
        try:
            offsets = await self._commit([e for pending in batch for e in pending.events])
        except BaseException as exc:  # cancelled too: every write of the batch learns it failed
            for pending in batch:
                if not pending.done.done():
                    pending.done.set_exception(_own_copy(exc))
            raise
        start = 0
        for pending in batch:
            pending.done.set_result(offsets[start : start + len(pending.events)])
            start += len(pending.events)


def _own_copy(exc: BaseException) -> Exception:
    """The failure for one waiting writer: of the same type (a caller maps Kafka errors to its French 503),
    but its own object. One exception raised in several tasks would collect their tracebacks and chain to
    itself."""
    if not isinstance(exc, Exception):
        return RuntimeError("the transaction was cancelled")
    try:
        return copy.copy(exc)
    except Exception:
        return RuntimeError(f"the transaction failed: {exc!r}")


class TransactionalWriter:
    """Writes a state change and the events it causes atomically (one Kafka transaction).

    Consumers read ``read_committed``: either every record of a transaction is seen, or none is. The
    transactional id is this process's stable name, so a restarted process fences its previous life and
    aborts the transaction it left open at once, instead of holding readers back until it times out.
    """

    def __init__(self, bootstrap_servers: str, service: str, *, transaction_timeout_ms: int = 15_000) -> None:
        self.transactional_id = f"{service}:{ConnectionSettings().instance_id}"
        self._bootstrap = bootstrap_servers
        self._client_id = f"{service}-tx"
        self._timeout_ms = transaction_timeout_ms
        self._producer: AIOKafkaProducer | None = None
        self._group = GroupCommit(self._transaction)

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(  # created here: aiokafka binds it to the running loop
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            transactional_id=self.transactional_id,
            transaction_timeout_ms=self._timeout_ms,
            enable_idempotence=True,
            acks="all",
            **ConnectionSettings().client_kwargs(),
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()

    async def write(self, *events: OutgoingEvent) -> list[int]:
        """Write ``events`` in one transaction (shared with concurrent writes: :class:`GroupCommit`);
        returns each record's offset (a version for its key)."""
        return await self._group.write(*events)

    async def _transaction(self, events: list[OutgoingEvent]) -> list[int]:
        producer = self._producer
        if producer is None:
            raise RuntimeError("the transactional writer is not started")
        async with producer.transaction():
            sent = [
                await producer.send(
                    e.topic, e.value, key=e.key, headers=[(k, v.encode()) for k, v in e.headers.items()]
                )
                for e in events
            ]
            metadata = [await future for future in sent]
        return [m.offset for m in metadata]
