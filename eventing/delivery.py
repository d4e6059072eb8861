"""Consumer-side delivery rules, as a FastStream middleware.

Subscribers use ``AckPolicy.NACK_ON_ERROR``: the offset is committed only when the middleware returns,
that is after the effect, after a parked poison message, or after a duplicate was skipped. Only an
infrastructure failure of the runtime itself (the dead-letter publish failed) escapes as an exception,
and then the message is rewound and redelivered rather than lost.

Nothing is committed unapplied: while the service rebuilds its state (``StateGate`` closed) every
subscriber waits before touching the message, and an event the service cannot apply *yet*
(``RetryLater``: it names something not known yet) is held with back-off for ``RetryPolicy.hold_s``
instead of the five quick attempts a failing dependency gets; what is still not applicable then is
parked with the reason, for an operator to replay, never dropped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from faststream import BaseMiddleware
from faststream.kafka import KafkaBroker
from faststream.message import StreamMessage
from prometheus_client import Counter
from pydantic import ValidationError

from contracts.envelope import EnvelopeError
from eventing.errors import PoisonMessage, RetryLater

log = logging.getLogger("eventing.delivery")
T = TypeVar("T")

EVENTS_HANDLED = Counter("events_handled_total", "Events handled", ["topic", "group", "outcome"])


class ProcessedEvents(Protocol):
    """Remembers which events a consumer group has fully handled (the de-duplication keys)."""

    async def seen(self, group: str, event_id: str) -> bool: ...

    async def remember(self, group: str, event_id: str, *, if_present: str | None = None) -> bool:
        """Remember the event as handled; with ``if_present``, only if that key (the working state's
        marker) still exists, checked in the same round trip. Whether it was remembered."""
        ...

    async def seen_among(self, group: str, event_ids: Collection[str]) -> set[str]:
        """Those of ``event_ids`` already handled, in one round trip (a batch's de-duplication)."""
        ...

    async def remember_all(self, group: str, event_ids: Collection[str], *, if_present: str | None = None) -> bool:
        """``remember`` for every id, in one round trip: all of them, or (marker gone) none."""
        ...


@dataclass
class RetryPolicy:
    attempts: int = 5
    first_delay_s: float = 0.2
    max_delay_s: float = 5.0
    # How long an event that cannot be applied *yet* is held before it is parked. Below the consumer's
    # max.poll.interval (5 min), so the hold never costs the partition its group membership.
    hold_s: float = 240.0

    def delay(self, attempt: int) -> float:
        # Full jitter keeps a fleet of consumers from hammering a recovering dependency in step.
        ceiling = min(self.max_delay_s, self.first_delay_s * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not security

    def after_failure(self, error: Exception, attempt: int, held_s: float) -> tuple[str, float] | str:
        """After a failed attempt: ("held" or "retried", the delay before the next one), or the reason to
        give up with. An event that cannot be applied *yet* is held up to ``hold_s``; any other failure
        gets ``attempts`` tries."""
        if isinstance(error, RetryLater):
            if held_s < self.hold_s:
                return "held", self.delay(attempt)
            return f"not applicable after {held_s:.0f} s: {error}"
        if attempt < self.attempts:
            return "retried", self.delay(attempt)
        return f"gave up after {attempt} attempts: {type(error).__name__}: {error}"


POISON_ERRORS = (PoisonMessage, ValidationError, EnvelopeError, json.JSONDecodeError, UnicodeDecodeError)


def poison_reason(error: Exception) -> str:
    return error.reason if isinstance(error, PoisonMessage) else f"invalid message: {error}"


class StateGate:
    """Open while the service's working state (Redis) is complete; closed while it is rebuilt.

    Subscribers wait at a closed gate before touching a message, so no event is applied to (or judged
    against) a half-rebuilt state; readiness and the HTTP routes say "not ready" meanwhile. A
    service's runtime starts closed: it opens once the first state check is done.
    """

    def __init__(self, *, is_open: bool = True) -> None:
        self._open = asyncio.Event()
        if is_open:
            self._open.set()

    @property
    def is_open(self) -> bool:
        return self._open.is_set()

    def open(self) -> None:
        self._open.set()

    def close(self) -> None:
        self._open.clear()

    async def wait(self) -> None:
        await self._open.wait()


@dataclass
class DeliveryGuard:
    """Per-service delivery settings and state, shared by its subscribers."""

    broker: KafkaBroker
    processed: ProcessedEvents
    groups: dict[str, str] = field(default_factory=dict)  # topic -> consumer group
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    gate: StateGate = field(default_factory=StateGate)
    # Whether the working state is whole (e.g. its "rebuilt" marker is there); set by ServiceRuntime.
    intact: Callable[[], Awaitable[bool]] | None = None
    # That marker's key, when the state is whole while it exists: checked in the same round trip as the
    # handled event is remembered (``ProcessedEvents.remember``) instead of one more.
    state_marker: str | None = None

    def middleware(self, msg: Any, /, **kwargs: Any) -> BaseMiddleware:
        return _DeliveryMiddleware(msg, guard=self, **kwargs)

    async def park(self, msg: StreamMessage[Any], group: str, reason: str, error: BaseException) -> None:
        headers = {k: v for k, v in msg.headers.items() if isinstance(v, str)}
        await self.park_record(msg.raw_message, headers, group, reason, error)

    async def park_record(
        self, raw: Any, headers: Mapping[str, str], group: str, reason: str, error: BaseException
    ) -> None:
        """Publish the record ``raw`` (a ConsumerRecord) as-is on its topic's dead-letter topic, with why."""
        headers = dict(headers)
        headers.update(
            {
                "dlq_reason": reason[:1000],
                "dlq_error_type": type(error).__name__,
                "dlq_original_topic": raw.topic,
                "dlq_original_partition": str(raw.partition),
                "dlq_original_offset": str(raw.offset),
                "dlq_consumer_group": group,
                "dlq_failed_at": datetime.now(UTC).isoformat(),
            }
        )
        await self.broker.publish(raw.value, topic=f"{raw.topic}.dlq", key=raw.key, headers=headers)

    async def infra(self, call: Awaitable[T]) -> T:
        """Redis or Kafka failing under the runtime itself: the message will be rewound and redelivered;
        wait first, so that a dependency that is down is not hammered in a hot loop."""
        try:
            return await call
        except Exception:
            log.warning("delivery runtime dependency failed; the message will be redelivered", exc_info=True)
            await self.sleep(self.retry.max_delay_s)
            raise


class _DeliveryMiddleware(BaseMiddleware):
    def __init__(self, msg: Any, /, *, guard: DeliveryGuard, **kwargs: Any) -> None:
        super().__init__(msg, **kwargs)
        self._guard = guard

    async def consume_scope(self, call_next: Callable[..., Awaitable[Any]], msg: StreamMessage[Any]) -> Any:
        if isinstance(msg.raw_message, tuple):  # a fetch at a time: its rules are in eventing.batches
            return await call_next(msg)
        guard = self._guard
        topic = msg.raw_message.topic
        group = guard.groups.get(topic, "?")
        event_id = msg.headers.get("ce_id")
        # A dead letter republished as-is (its dlq_* headers kept) is an operator's deliberate retry.
        replayed = "dlq_reason" in msg.headers
        await guard.gate.wait()  # the de-duplication keys live in the state being rebuilt, too
        if event_id and not replayed and await self._infra(guard.processed.seen(group, event_id)):
            EVENTS_HANDLED.labels(topic, group, "duplicate").inc()
            return None
        attempt, held_since = 0, time.monotonic()
        while True:
            attempt += 1
            await guard.gate.wait()
            started = time.perf_counter()
            try:
                result = await call_next(msg)
            except POISON_ERRORS as exc:
                reason = poison_reason(exc)
                log.warning("parking poison message from %s@%s: %s", topic, msg.raw_message.offset, reason)
                await self._infra(guard.park(msg, group, reason, exc))
                EVENTS_HANDLED.labels(topic, group, "dead_lettered").inc()
                break
            except Exception as exc:
                if not guard.gate.is_open:  # the state vanished under the handler: judge it again once rebuilt
                    attempt -= 1
                    continue
                step = guard.retry.after_failure(exc, attempt, time.monotonic() - held_since)
                if isinstance(step, str):
                    log.error("parking message from %s@%s: %s", topic, msg.raw_message.offset, step)
                    await self._infra(guard.park(msg, group, step, exc))
                    EVENTS_HANDLED.labels(topic, group, "dead_lettered").inc()
                    break
                outcome, delay = step
                log.info("%s %s@%s for %.2fs: %r", outcome, topic, msg.raw_message.offset, delay, exc)
                EVENTS_HANDLED.labels(topic, group, outcome).inc()
                await guard.sleep(delay)
                continue
            else:
                if not await self._infra(self._remember_if_intact(group, event_id)):
                    # Wiped while the handler ran: it may have judged an empty state ("no contacts yet").
                    # Handled again once rebuilt (handlers are idempotent), never committed on that guess.
                    log.info("state wiped under %s@%s: handled again once rebuilt", topic, msg.raw_message.offset)
                    guard.gate.close()
                    attempt -= 1
                    continue
                log.debug(
                    "handled %s@%s in %.1f ms",
                    topic,
                    msg.raw_message.offset,
                    (time.perf_counter() - started) * 1000,
                )
                EVENTS_HANDLED.labels(topic, group, "handled").inc()
                return result
        if event_id:
            await self._infra(guard.processed.remember(group, event_id))
        return None

    async def _remember_if_intact(self, group: str, event_id: str | None) -> bool:
        """After the effect: remember the event as processed, unless the working state was wiped while the
        handler ran (then nothing is remembered, and False)."""
        guard = self._guard
        if event_id and guard.state_marker is not None:
            return await guard.processed.remember(group, event_id, if_present=guard.state_marker)
        if guard.intact is not None and not await guard.intact():
            return False
        if event_id:
            await guard.processed.remember(group, event_id)
        return True

    async def _infra(self, call: Awaitable[T]) -> T:
        return await self._guard.infra(call)
