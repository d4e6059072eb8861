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
from collections.abc import Awaitable, Callable
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


_POISON = (PoisonMessage, ValidationError, EnvelopeError, json.JSONDecodeError, UnicodeDecodeError)


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
        raw = msg.raw_message
        headers = {k: v for k, v in msg.headers.items() if isinstance(v, str)}
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


class _DeliveryMiddleware(BaseMiddleware):
    def __init__(self, msg: Any, /, *, guard: DeliveryGuard, **kwargs: Any) -> None:
        super().__init__(msg, **kwargs)
        self._guard = guard

    async def consume_scope(self, call_next: Callable[..., Awaitable[Any]], msg: StreamMessage[Any]) -> Any:
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
            except _POISON as exc:
                reason = exc.reason if isinstance(exc, PoisonMessage) else f"invalid message: {exc}"
                log.warning("parking poison message from %s@%s: %s", topic, msg.raw_message.offset, reason)
                await self._infra(guard.park(msg, group, reason, exc))
                EVENTS_HANDLED.labels(topic, group, "dead_lettered").inc()
                break
            except Exception as exc:
                if not guard.gate.is_open:  # the state vanished under the handler: judge it again once rebuilt
                    attempt -= 1
                    continue
                held = time.monotonic() - held_since
                if isinstance(exc, RetryLater) and held < guard.retry.hold_s:
                    outcome, delay = "held", guard.retry.delay(attempt)
                elif not isinstance(exc, RetryLater) and attempt < guard.retry.attempts:
                    outcome, delay = "retried", guard.retry.delay(attempt)
                else:
                    reason = (
                        f"not applicable after {held:.0f} s: {exc}"
                        if isinstance(exc, RetryLater)
                        else f"gave up after {attempt} attempts: {type(exc).__name__}: {exc}"
                    )
                    log.error("parking message from %s@%s: %s", topic, msg.raw_message.offset, reason)
                    await self._infra(guard.park(msg, group, reason, exc))
                    EVENTS_HANDLED.labels(topic, group, "dead_lettered").inc()
                    break
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
        """Redis or Kafka failing under the runtime itself: the message will be rewound and redelivered;
        wait first, so that a dependency that is down is not hammered in a hot loop."""
        try:
            return await call
        except Exception:
            log.warning("delivery runtime dependency failed; the message will be redelivered", exc_info=True)
            await self._guard.sleep(self._guard.retry.max_delay_s)
            raise
