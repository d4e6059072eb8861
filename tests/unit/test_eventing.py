"""The delivery runtime's own rules, without a broker: back-off bounds, and no hot loop when a
dependency of the runtime itself (Redis, Kafka) fails."""

from __future__ import annotations

from typing import Any

import pytest

from eventing.delivery import DeliveryGuard, RetryPolicy
from eventing.errors import RetryLater


def test_back_off_grows_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(attempts=5, first_delay_s=0.2, max_delay_s=5.0)
    for attempt, ceiling in ((1, 0.2), (2, 0.4), (3, 0.8), (6, 5.0), (30, 5.0)):
        delays = [policy.delay(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered: a fleet does not retry in step


class BrokenRedis:
    async def seen(self, group: str, event_id: str) -> bool:
        raise ConnectionError("redis is down")

    async def remember(self, group: str, event_id: str, *, if_present: str | None = None) -> bool:
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


# --- events that cannot be applied yet, and the state gate ------------------------------------------------


class Remembered:
    def __init__(self) -> None:
        self.ids: set[str] = set()

    async def seen(self, group: str, event_id: str) -> bool:
        return event_id in self.ids

    async def remember(self, group: str, event_id: str, *, if_present: str | None = None) -> bool:
        self.ids.add(event_id)
        return True


class Parked(Exception):
    pass


class FakeRaw:
    topic, partition, offset = "t", 0, 7


class FakeMessage:
    def __init__(self) -> None:
        self.headers = {"ce_id": "e1"}
        self.raw_message = FakeRaw()


def _guard(sleep: Any, policy: RetryPolicy) -> tuple[DeliveryGuard, list[str]]:
    parked: list[str] = []
    guard = DeliveryGuard(broker=None, processed=Remembered(), retry=policy, sleep=sleep)  # type: ignore[arg-type]

    async def park(msg: Any, group: str, reason: str, error: BaseException) -> None:
        parked.append(reason)

    guard.park = park  # type: ignore[method-assign]
    return guard, parked


async def test_an_event_naming_something_not_known_yet_is_held_past_the_retry_budget_then_applied() -> None:
    clock = {"t": 0.0}

    async def sleep(seconds: float) -> None:
        clock["t"] += seconds

    guard, parked = _guard(sleep, RetryPolicy(attempts=3, max_delay_s=1.0, hold_s=60.0))
    calls: list[int] = []

    async def handler(_msg: Any) -> str:
        calls.append(1)
        if len(calls) < 10:  # known only at the 10th look: far beyond the 3 attempts of a failing dependency
            raise RetryLater("request r1 not known yet")
        return "applied"

    middleware: Any = guard.middleware(None, context=None)
    import eventing.delivery as delivery

    real_monotonic = delivery.time.monotonic
    delivery.time.monotonic = lambda: clock["t"]  # type: ignore[assignment]
    try:
        assert await middleware.consume_scope(handler, FakeMessage()) == "applied"
    finally:
        delivery.time.monotonic = real_monotonic  # type: ignore[assignment]
    assert len(calls) == 10 and parked == []
    assert await guard.processed.seen("?", "e1")  # committed only once applied


async def test_an_event_never_applicable_is_parked_with_its_reason_after_the_hold_never_dropped() -> None:
    clock = {"t": 0.0}

    async def sleep(seconds: float) -> None:
        clock["t"] += seconds

    guard, parked = _guard(sleep, RetryPolicy(attempts=3, max_delay_s=5.0, hold_s=30.0))

    async def handler(_msg: Any) -> None:
        raise RetryLater("request r9 not known yet")

    import eventing.delivery as delivery

    real_monotonic = delivery.time.monotonic
    delivery.time.monotonic = lambda: clock["t"]  # type: ignore[assignment]
    try:
        await guard.middleware(None, context=None).consume_scope(handler, FakeMessage())  # type: ignore[arg-type]
    finally:
        delivery.time.monotonic = real_monotonic  # type: ignore[assignment]
    assert len(parked) == 1 and "not applicable after" in parked[0] and "r9" in parked[0]
    assert clock["t"] >= 30.0


async def test_nothing_is_handled_while_the_state_is_rebuilt() -> None:
    import asyncio

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(0)

    guard, _parked = _guard(sleep, RetryPolicy())
    guard.gate.close()
    handled: list[str] = []

    async def handler(_msg: Any) -> None:
        handled.append("x")

    task = asyncio.create_task(guard.middleware(None, context=None).consume_scope(handler, FakeMessage()))  # type: ignore[arg-type]
    for _ in range(20):
        await asyncio.sleep(0)
    assert handled == [] and not task.done()  # held at the gate: not handled, not committed
    guard.gate.open()
    await asyncio.wait_for(task, 1)
    assert handled == ["x"]


async def test_a_failure_caused_by_a_rebuild_starting_under_the_handler_costs_no_attempt() -> None:
    import asyncio

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(0)

    guard, parked = _guard(sleep, RetryPolicy(attempts=1))
    calls: list[int] = []

    async def handler(_msg: Any) -> str:
        calls.append(1)
        if len(calls) == 1:
            guard.gate.close()  # the wipe is noticed while this event was being judged
            asyncio.get_running_loop().call_later(0.01, guard.gate.open)
            raise KeyError("state vanished")
        return "applied"

    assert await guard.middleware(None, context=None).consume_scope(handler, FakeMessage()) == "applied"  # type: ignore[arg-type]
    assert parked == [] and len(calls) == 2


# --- what HTTP answers while the state is rebuilt, or a dependency is down ----------------------------------


def _app_with(gate_open: bool) -> Any:
    from aiokafka.errors import KafkaConnectionError
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from redis.exceptions import ConnectionError as RedisConnectionError

    from eventing.service import ServiceRuntime

    rt = ServiceRuntime.create("t", kafka_bootstrap="127.0.0.1:1", redis_url="redis://127.0.0.1:1/0")
    if gate_open:
        rt.no_state()
    app = FastAPI()
    rt.add_operational_routes(app)

    @app.post("/api/v1/things")
    async def write() -> None:
        raise KafkaConnectionError("broker down")

    @app.get("/page")
    async def page() -> None:
        raise RedisConnectionError("redis down")

    @app.get("/api/v1/fine")
    async def fine() -> dict[str, str]:
        return {"ok": "yes"}

    return TestClient(app, raise_server_exceptions=False)


def test_a_dependency_down_mid_request_gets_a_french_503_with_retry_after_never_a_bare_500() -> None:
    client = _app_with(gate_open=True)
    api = client.post("/api/v1/things")
    assert api.status_code == 503 and api.headers["retry-after"] == "2"
    assert api.json()["errors"][0]["code"] == "unavailable" and "Réessayez" in api.json()["errors"][0]["message"]
    page = client.get("/page")
    assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
    assert "Réessayez" in page.text and "Traceback" not in page.text
    assert client.get("/api/v1/fine").json() == {"ok": "yes"}


def test_while_the_state_is_rebuilt_every_route_but_the_probes_answers_503() -> None:
    client = _app_with(gate_open=False)
    resp = client.get("/api/v1/fine")
    assert resp.status_code == 503 and resp.headers["retry-after"] == "2"
    assert client.get("/healthz").status_code == 200  # liveness is not readiness


async def test_an_event_handled_while_the_state_was_wiped_is_handled_again_once_rebuilt() -> None:
    import asyncio

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(0)

    guard, parked = _guard(sleep, RetryPolicy())
    wiped = {"now": False}
    seen: list[bool] = []

    async def intact() -> bool:
        return not wiped["now"]

    guard.intact = intact

    async def handler(_msg: Any) -> str:
        seen.append(wiped["now"])
        if len(seen) == 1:  # Redis is flushed while this event is judged ("no contacts yet")
            wiped["now"] = True

            def rebuilt() -> None:
                wiped["now"] = False
                guard.gate.open()

            asyncio.get_running_loop().call_later(0.01, rebuilt)
        return "applied"

    result = await guard.middleware(None, context=None).consume_scope(handler, FakeMessage())  # type: ignore[arg-type]
    assert result == "applied" and seen == [False, False]  # judged again on the rebuilt state
    assert parked == [] and await guard.processed.seen("?", "e1")


async def test_a_handled_event_is_remembered_only_while_the_state_marker_is_there_in_one_round_trip(
    redis_url: str,
) -> None:
    from redis.asyncio import Redis

    from eventing.redis_store import RedisProcessedEvents

    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    processed = RedisProcessedEvents(redis, ttl_s=60)
    try:
        await redis.set("svc:rebuilt", b"1")
        assert await processed.remember("g", "e1", if_present="svc:rebuilt")
        assert await processed.seen("g", "e1") and 0 < await redis.ttl("processed:g:e1") <= 60

        await redis.flushdb()  # wiped while the next event was handled: nothing remembered on that guess
        assert not await processed.remember("g", "e2", if_present="svc:rebuilt")
        assert not await processed.seen("g", "e2")
        assert await processed.remember("g", "e2")  # no marker asked: remembered as before
        assert await processed.seen("g", "e2") and not await processed.seen("other-group", "e2")
    finally:
        await redis.aclose()


async def test_with_a_state_marker_the_wipe_is_seen_by_the_mark_itself_and_the_event_is_judged_again() -> None:
    import asyncio

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(0)

    class MarkedStore(Remembered):
        """Remembers only while the marker is there, as the Redis adapter's Lua call does."""

        def __init__(self) -> None:
            super().__init__()
            self.wiped = False

        async def remember(self, group: str, event_id: str, *, if_present: str | None = None) -> bool:
            if if_present is not None and self.wiped:
                return False
            return await super().remember(group, event_id)

    store = MarkedStore()
    guard, parked = _guard(sleep, RetryPolicy())
    guard.processed = store
    guard.state_marker = "svc:rebuilt"  # no separate intact() round trip: the mark checks it

    async def never_called() -> bool:
        raise AssertionError("the marker check replaces intact()")

    guard.intact = never_called
    seen: list[bool] = []

    async def handler(_msg: Any) -> str:
        seen.append(store.wiped)
        if len(seen) == 1:
            store.wiped = True

            def rebuilt() -> None:
                store.wiped = False
                guard.gate.open()

            asyncio.get_running_loop().call_later(0.01, rebuilt)
        return "applied"

    result = await guard.middleware(None, context=None).consume_scope(handler, FakeMessage())  # type: ignore[arg-type]
    assert result == "applied" and seen == [False, False]
    assert parked == [] and await store.seen("?", "e1")
