"""Delivery rules for a subscriber that takes its messages a fetch at a time.

The rules of :mod:`eventing.delivery`, for a batch whose handler gains from seeing many messages together
(the rights service records each holder's declarations of a fetch in one pass, where one at a time a
shuffled history rewinds at every late event):

- **the gate**: nothing is touched while the working state is rebuilt;
- **de-duplication**: the batch's event ids (the ``ce_id`` header) are looked up in one round trip; a
  message already handled, or repeating an id seen earlier in the same batch, is skipped — not a dead
  letter republished by an operator (its ``dlq_*`` headers kept), a deliberate retry;
- **the effect**: the handler gets the others' values, in order, and returns those it refuses
  (position → reason); each refused message is parked alone on the dead-letter topic with its reason,
  and the others' effects stand;
- **a failing handler**: the whole batch is tried again with back-off, or held while it raises
  ``RetryLater``. When that budget is spent, each message is tried once alone. A dependency down (a
  connection, a timeout, a broker error Kafka says to retry: :func:`dependency_down`) is no message's
  fault: the batch is rewound and redelivered, and nothing is parked. Any other failure belongs to the
  messages that fail alone: they are parked with the reason, and the others' effects stand;
- **after the effect**: every id is remembered in one round trip, and only while the working state is
  still whole; if it was wiped meanwhile, the batch is judged again once rebuilt (a refused message may
  then be parked twice: the dead-letter topic is at-least-once, like every topic);
- **the offsets**: FastStream commits after this returns, so past every message of the fetch once each
  is applied, parked or skipped; an error of the runtime itself rewinds each partition to the batch's
  first message (``KafkaAckableMessage.nack``) and the batch comes again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from aiokafka.errors import KafkaError, KafkaTimeoutError
from faststream.kafka import KafkaBroker, KafkaMessage
from pydantic import PlainValidator
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from contracts.topics import TopicSpec
from eventing.consuming import subscriber_options
from eventing.delivery import EVENTS_HANDLED, POISON_ERRORS, DeliveryGuard, poison_reason
from eventing.errors import PoisonMessage

log = logging.getLogger("eventing.batches")


def dependency_down(error: BaseException) -> bool:
    """A failure of a dependency (a connection, a timeout, a broker Kafka says to retry), not of the
    messages: never parked. A refusal that is one message's own (a Redis script error, a record too
    large) is not one: that message is parked, not retried for ever."""
    if isinstance(error, OSError | RedisConnectionError | RedisTimeoutError | KafkaTimeoutError):
        return True
    return isinstance(error, KafkaError) and bool(error.retriable)


# The handler of a batch: the messages' values in order -> the refused ones (position -> reason).
BatchHandler = Callable[[list[bytes]], Awaitable[Mapping[int, str]]]

MAX_RECORDS = 500  # per fetch: a batch is handled well within the consumer's max.poll.interval
BATCH_WAIT_MS = 50  # how long an idle fetch waits for a first message (a batch never waits to fill up)


@dataclass(frozen=True)
class _Delivered:
    record: Any  # the ConsumerRecord
    headers: Mapping[str, str]

    @property
    def event_id(self) -> str | None:
        return self.headers.get("ce_id")

    @property
    def where(self) -> str:
        return f"{self.record.topic}@{self.record.partition}:{self.record.offset}"


async def deliver_batch(guard: DeliveryGuard, message: KafkaMessage, handle: BatchHandler) -> None:
    """Apply the batch rules above to one fetch (``message.raw_message``: its records, in order)."""
    records: tuple[Any, ...] = message.raw_message
    if not records:
        return
    batch = [_Delivered(r, h) for r, h in zip(records, message.batch_headers, strict=True)]
    group = guard.groups.get(records[0].topic, "?")
    await guard.gate.wait()  # the de-duplication keys live in the state being rebuilt, too
    todo = await _not_handled_yet(guard, group, batch)
    if todo:
        await _apply(guard, group, todo, handle)


async def _not_handled_yet(guard: DeliveryGuard, group: str, batch: list[_Delivered]) -> list[_Delivered]:
    # A dead letter republished as-is (its dlq_* headers kept) is an operator's deliberate retry.
    checked = {d.event_id for d in batch if d.event_id and "dlq_reason" not in d.headers}
    handled = await guard.infra(guard.processed.seen_among(group, checked)) if checked else set()
    todo, in_batch = [], set()
    for delivered in batch:
        event_id = delivered.event_id
        replayed = "dlq_reason" in delivered.headers  # (never skipped as handled: see above)
        if (event_id in handled and not replayed) or (event_id and event_id in in_batch):
            EVENTS_HANDLED.labels(delivered.record.topic, group, "duplicate").inc()
            continue
        if event_id:
            in_batch.add(event_id)
        todo.append(delivered)
    return todo


async def _apply(guard: DeliveryGuard, group: str, batch: list[_Delivered], handle: BatchHandler) -> None:
    attempt, held_since = 0, time.monotonic()
    topic = batch[0].record.topic
    while True:
        attempt += 1
        await guard.gate.wait()
        try:
            refused = await handle([d.record.value or b"" for d in batch])
        except POISON_ERRORS as exc:
            await _narrow_down(guard, group, batch, handle, why=poison_reason(exc), error=exc)
            return
        except Exception as exc:
            if not guard.gate.is_open:  # the state vanished under the handler: judge it again once rebuilt
                attempt -= 1
                continue
            step = guard.retry.after_failure(exc, attempt, time.monotonic() - held_since)
            if isinstance(step, str):
                await _narrow_down(guard, group, batch, handle, why=step, error=exc)
                return
            outcome, delay = step
            log.info("%s a batch of %d from %s for %.2fs: %r", outcome, len(batch), topic, delay, exc)
            EVENTS_HANDLED.labels(topic, group, outcome).inc(len(batch))
            await guard.sleep(delay)
            continue
        for position, reason in refused.items():
            await _park(guard, group, batch[position], reason, PoisonMessage(reason), remember=False)
        ids = [d.event_id for d in batch if d.event_id]
        if not await guard.infra(_remember_if_intact(guard, group, ids)):
            # Wiped while the handler ran: it may have judged an empty state. Judged again once rebuilt.
            log.info("state wiped under a batch of %d from %s: handled again once rebuilt", len(batch), topic)
            guard.gate.close()
            attempt -= 1
            continue
        EVENTS_HANDLED.labels(topic, group, "handled").inc(len(batch) - len(refused))
        return


async def _narrow_down(
    guard: DeliveryGuard, group: str, batch: list[_Delivered], handle: BatchHandler, *, why: str, error: Exception
) -> None:
    """The batch failed as a whole: each message is tried once alone (a lone message is not tried again).
    A dependency down is no message's fault: the batch is rewound and comes again (those that passed alone
    are marked, and skipped then). Any other failure is the failing messages' own: they are parked."""
    failed: list[tuple[_Delivered, Exception]] = [(batch[0], error)] if len(batch) == 1 else []
    for delivered in batch if len(batch) > 1 else ():
        await guard.gate.wait()
        try:
            refused = await handle([delivered.record.value or b""])
        except Exception as exc:
            if not guard.gate.is_open:  # the state vanished under it: no fault of the message's
                raise _StateWiped from exc
            failed.append((delivered, exc))
            if dependency_down(exc):
                break  # (the others would wait for it too, each up to its timeout)
            continue
        for reason in refused.values():
            await _park(guard, group, delivered, reason, PoisonMessage(reason), remember=False)
        ids = [delivered.event_id] if delivered.event_id else []
        if not await guard.infra(_remember_if_intact(guard, group, ids)):
            guard.gate.close()
            raise _StateWiped
    down = next((exc for _, exc in failed if dependency_down(exc)), None)
    if down is not None:
        log.warning("a dependency is down under a batch from %s (%s): read again later", batch[0].where, why)
        await guard.sleep(guard.retry.max_delay_s)
        raise down
    for delivered, failure in failed:
        if isinstance(failure, PoisonMessage):
            reason = failure.reason
        elif len(batch) == 1:
            reason = why
        else:
            reason = f"{why}; alone: {type(failure).__name__}: {failure}"
        log.error("parking message from %s: %s", delivered.where, reason)
        await _park(guard, group, delivered, reason, failure)


class _StateWiped(RuntimeError):
    """The working state was wiped while a batch was narrowed down: the batch comes again once rebuilt
    (those already handled alone are marked, and skipped then)."""

    def __init__(self) -> None:
        super().__init__("the working state was wiped under a batch: it is read again once rebuilt")


async def _park(
    guard: DeliveryGuard, group: str, delivered: _Delivered, reason: str, error: BaseException, *, remember: bool = True
) -> None:
    await guard.infra(guard.park_record(delivered.record, delivered.headers, group, reason, error))
    EVENTS_HANDLED.labels(delivered.record.topic, group, "dead_lettered").inc()
    if remember and delivered.event_id:
        await guard.infra(guard.processed.remember(group, delivered.event_id))


async def _remember_if_intact(guard: DeliveryGuard, group: str, event_ids: Sequence[str]) -> bool:
    if guard.state_marker is not None:
        return await guard.processed.remember_all(group, event_ids, if_present=guard.state_marker)
    if guard.intact is not None and not await guard.intact():
        return False
    if event_ids:
        await guard.processed.remember_all(group, event_ids)
    return True


def _as_is(values: Any) -> Any:
    return values


async def _record_values(message: Any, _original: Any = None) -> list[bytes]:
    """The fetch's values, undecoded: the handler reads each strictly and refuses the bad ones alone."""
    return [record.value or b"" for record in message.raw_message]


def subscribe_batch(
    broker: KafkaBroker, guard: DeliveryGuard, topic: TopicSpec, *, group_id: str, payload: Any
) -> Callable[[BatchHandler], BatchHandler]:
    """A subscriber like :func:`eventing.consuming.subscribe` (earliest, committed reads, static member,
    commit after the effect) that hands ``handle`` up to ``MAX_RECORDS`` messages of one fetch at a time.

    ``payload`` is one message's model: the AsyncAPI document shows it for each message (a batch is how
    this service reads, not what a partner writes)."""
    guard.groups[topic.name] = group_id
    # Validated as the raw values; documented as one message each.
    values = Annotated[list[bytes], PlainValidator(_as_is, json_schema_input_type=payload)]

    def register(handle: BatchHandler) -> BatchHandler:
        async def consume(body: Any, message: KafkaMessage) -> None:
            await deliver_batch(guard, message, handle)

        consume.__annotations__ = {"body": values, "message": KafkaMessage, "return": None}
        consume.__name__ = consume.__qualname__ = handle.__name__
        broker.subscriber(
            topic.name,
            batch=True,
            max_records=MAX_RECORDS,
            batch_timeout_ms=BATCH_WAIT_MS,
            decoder=_record_values,
            **subscriber_options(topic, group_id),
        )(consume)
        return handle

    return register
