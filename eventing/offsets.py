"""Offsets committed in batches, still only after the effect.

FastStream commits a subscriber's offsets (``consumer.commit()``, no arguments) once the delivery
middleware has returned, that is once the message's effect is done. Committed one by one, that was an
OffsetCommit request per message (the consumer waiting for its answer), each writing the position of
every partition of the consumer (six) to ``__consumer_offsets``. Here that call only records
the positions; they go to Kafka together, ``interval_s`` later at most, and before the consumer stops or
a rebalance takes its partitions away. Each recorded position is one past a message whose effect is done
(a consumer handles its messages one at a time), so nothing is ever committed unapplied. A crash loses at
most ``interval_s`` of commits: those messages come again and the delivery middleware skips them as
already processed (``eventing.delivery``), as it does after any redelivery.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker

log = logging.getLogger("eventing.offsets")

COMMIT_INTERVAL_S = 0.5


class BatchCommitConsumer(AIOKafkaConsumer):  # type: ignore[misc]  # aiokafka is untyped
    def __init__(self, *args: Any, commit_interval_s: float = COMMIT_INTERVAL_S, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._interval_s = commit_interval_s
        self._handled: dict[TopicPartition, int] = {}  # positions after handled messages, not committed yet
        self._committed: dict[TopicPartition, int] = {}
        self._flush_soon: asyncio.Task[None] | None = None

    async def commit(self, offsets: Any = None) -> None:
        """Without ``offsets`` (FastStream's acknowledgement): record the consumed positions, committed
        within ``interval_s``; with ``offsets``: commit them now, as aiokafka does."""
        if offsets is not None:
            await super().commit(offsets)
            return
        assignment = self._subscription.subscription and self._subscription.subscription.assignment
        if assignment is None:
            return  # no partitions any more: a rebalance took them, and flushed first
        for tp, position in assignment.all_consumed_offsets().items():
            if self._committed.get(tp) != position.offset:
                self._handled[tp] = position.offset
        if self._handled and (self._flush_soon is None or self._flush_soon.done()):
            self._flush_soon = asyncio.create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(self._interval_s)
        if not self._closed:  # stopping flushed already
            await self.flush()

    async def flush(self) -> None:
        """Commit the recorded positions of the partitions still assigned to this consumer."""
        handled, self._handled = self._handled, {}
        assigned = self.assignment()
        # Never backwards: two flushes can overlap (the timer's and a rebalance's or a stop's), and one
        # that failed must not put back a position older than what the other committed since.
        offsets = {
            tp: offset
            for tp, offset in handled.items()
            if tp in assigned and offset > self._committed.get(tp, -1)
        }
        if not offsets:
            return
        try:
            await super().commit(offsets)
        except KafkaError as exc:
            # Kept for the next flush; if the partitions moved meanwhile, their new owner gets those
            # messages again and skips them as processed.
            log.warning("offsets not committed yet (%s): retried", type(exc).__name__)
            for tp, offset in offsets.items():
                self._handled[tp] = max(offset, self._handled.get(tp, -1))
            if self._flush_soon is None or self._flush_soon.done() or self._flush_soon is asyncio.current_task():
                self._flush_soon = asyncio.create_task(self._flush_later())
        else:
            for tp, offset in offsets.items():
                self._committed[tp] = max(offset, self._committed.get(tp, -1))

    async def stop(self) -> None:
        """Called by FastStream once the message in hand is finished: its offset goes out before leaving."""
        if self._flush_soon is not None and not self._flush_soon.done():
            self._flush_soon.cancel()
        if not self._closed:
            await self.flush()
        await super().stop()

    def subscribe(self, topics: Any = (), pattern: Any = None, listener: Any = None) -> None:
        super().subscribe(topics=topics, pattern=pattern, listener=_FlushBeforeRevoke(self, listener))


class _FlushBeforeRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, consumer: BatchCommitConsumer, then: ConsumerRebalanceListener | None) -> None:
        self._consumer = consumer
        self._then = then

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self._consumer.flush()
        if self._then is not None:
            await self._then.on_partitions_revoked(revoked)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        if self._then is not None:
            await self._then.on_partitions_assigned(assigned)


def batch_commits(broker: KafkaBroker, interval_s: float = COMMIT_INTERVAL_S) -> None:
    """Make ``broker``'s subscribers build :class:`BatchCommitConsumer`s; call between ``broker.connect()``
    (which sets the consumer factory) and ``broker.start()`` (which starts the subscribers)."""
    config = broker.config.broker_config
    built: Callable[..., Any] = config.builder
    keywords = built.keywords if isinstance(built, partial) else {}
    config.builder = partial(BatchCommitConsumer, commit_interval_s=interval_s, **keywords)
