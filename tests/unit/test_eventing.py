"""The delivery runtime's own rules, without a broker: back-off bounds, and no hot loop when a
dependency of the runtime itself (Redis, Kafka) fails."""

from __future__ import annotations

from typing import Any

import pytest

from eventing.delivery import DeliveryGuard, RetryPolicy


def test_back_off_grows_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(attempts=5, first_delay_s=0.2, max_delay_s=5.0)
    for attempt, ceiling in ((1, 0.2), (2, 0.4), (3, 0.8), (6, 5.0), (30, 5.0)):
        delays = [policy.delay(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered: a fleet does not retry in step


class BrokenRedis:
    async def seen(self, group: str, event_id: str) -> bool:
        raise ConnectionError("redis is down")

    async def remember(self, group: str, event_id: str) -> None:
        raise ConnectionError("redis is down")


async def test_a_failing_runtime_dependency_waits_before_the_message_is_redelivered() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    guard = DeliveryGuard(broker=None, processed=BrokenRedis(), retry=RetryPolicy(max_delay_s=5.0), sleep=sleep)  # type: ignore[arg-type]
    middleware: Any = guard.middleware(None, context=None)
    with pytest.raises(ConnectionError):
        await middleware._infra(guard.processed.seen("g", "e1"))
    assert slept == [5.0]
