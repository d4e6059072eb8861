"""The delivery runtime's de-duplication keys in memory, for unit and use-case tests.

It stands for :class:`eventing.redis_store.RedisProcessedEvents` and passes the same contract test
(``tests/unit/test_batches.py``), the state marker included: ``markers`` holds the keys that exist.
"""

from __future__ import annotations

from collections.abc import Collection


class MemoryProcessedEvents:
    def __init__(self) -> None:
        self.ids: set[tuple[str, str]] = set()
        self.markers: set[str] = set()
        self.round_trips = 0  # what a test can count: one per call, as with Redis

    async def seen(self, group: str, event_id: str) -> bool:
        return bool(await self.seen_among(group, [event_id]))

    async def remember(self, group: str, event_id: str, *, if_present: str | None = None) -> bool:
        return await self.remember_all(group, [event_id], if_present=if_present)

    async def seen_among(self, group: str, event_ids: Collection[str]) -> set[str]:
        self.round_trips += 1
        return {event_id for event_id in event_ids if (group, event_id) in self.ids}

    async def remember_all(self, group: str, event_ids: Collection[str], *, if_present: str | None = None) -> bool:
        self.round_trips += 1
        if if_present is not None and if_present not in self.markers:
            return False
        self.ids.update((group, event_id) for event_id in event_ids)
        return True
