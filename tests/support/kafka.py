"""Reading and writing the real broker from tests."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


@dataclass
class Record:
    topic: str
    key: str | None
    value: bytes
    headers: dict[str, str]
    offset: int

    def json(self) -> Any:
        return json.loads(self.value)


async def read_topic(
    bootstrap: str, topic: str, *, until: Callable[[list[Record]], bool] | None = None, timeout: float = 30.0
) -> list[Record]:
    """Read a topic from the beginning (no group) until ``until(records)`` holds or timeout."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[Record] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            if until is not None and until(records):
                return records
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if until is None:
                    return records
                raise AssertionError(f"condition not met on {topic} within {timeout}s; got {len(records)} records")
            batch = await consumer.getmany(timeout_ms=int(min(remaining, 0.5) * 1000))
            for recs in batch.values():
                for r in recs:
                    records.append(
                        Record(
                            r.topic,
                            r.key.decode() if r.key else None,
                            r.value or b"",
                            {k: v.decode() for k, v in (r.headers or ())},
                            r.offset,
                        )
                    )
            if until is None and not batch:
                return records
    finally:
        await consumer.stop()


async def publish_raw(
    bootstrap: str, topic: str, value: bytes, *, key: str | None = None, headers: dict[str, str] | None = None
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic,
            value,
            key=key.encode() if key else None,
            headers=[(k, v.encode()) for k, v in (headers or {}).items()],
        )
    finally:
        await producer.stop()


async def eventually(check: Callable[[], Any], *, timeout: float = 30.0, interval: float = 0.2) -> Any:
    """Poll an (async or sync) check until it returns a truthy value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")
