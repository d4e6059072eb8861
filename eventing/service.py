"""What every service process has: a broker with the delivery rules, Redis, health and metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiokafka.errors import KafkaError
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from faststream.kafka import KafkaBroker
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, generate_latest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from eventing.delivery import DeliveryGuard, RetryPolicy, StateGate
from eventing.http_front import FrontDoor
from eventing.http_limits import BodyLimit
from eventing.kafka import new_broker
from eventing.offsets import batch_commits
from eventing.publishing import EventPublisher, TransactionalWriter
from eventing.redis_store import RedisProcessedEvents
from eventing.settings import ConnectionSettings

log = logging.getLogger("eventing.service")

CONSUMER_LAG = Gauge("kafka_consumer_lag", "Messages not yet consumed", ["topic", "partition", "group"])
STATE_REBUILDS = Counter("state_rebuilds_total", "Working state rebuilt from the topics", ["service"])

# While the working state is rebuilt (seconds): the holder is asked to come back, never shown a wrong answer.
REBUILDING_RETRY_AFTER_S = 2
REBUILDING_MESSAGE = "Le service redémarre. Réessayez dans quelques secondes."
REBUILDING_PAGE = (
    '<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Service momentanément indisponible'
    "</title></head><body><main><h1>Service momentanément indisponible</h1><p>"
    f"{REBUILDING_MESSAGE}</p></main></body></html>"
)


def unavailable(request: Request) -> Response:
    """The French 503 a holder or a partner gets while the service cannot answer truthfully yet."""
    headers = {"Retry-After": str(REBUILDING_RETRY_AFTER_S)}
    if request.url.path.startswith("/api/"):
        body = {"errors": [{"field": "service", "code": "unavailable", "message": REBUILDING_MESSAGE}]}
        return JSONResponse(body, status_code=503, headers=headers)
    return HTMLResponse(REBUILDING_PAGE, status_code=503, headers=headers)


@dataclass
class ServiceRuntime:
    name: str
    broker: KafkaBroker
    redis: Redis
    guard: DeliveryGuard
    publisher: EventPublisher
    ready: bool = False
    kafka_bootstrap: str = ""
    writers: list[TransactionalWriter] = field(default_factory=list)
    _started: list[str] = field(default_factory=list)

    @classmethod
    def create(
        cls,
        name: str,
        *,
        kafka_bootstrap: str,
        redis_url: str,
        retry: RetryPolicy | None = None,
        graceful_timeout_s: float = 15.0,
    ) -> ServiceRuntime:
        broker = new_broker(kafka_bootstrap, client_id=name, graceful_timeout_s=graceful_timeout_s)
        redis = Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
        guard = DeliveryGuard(
            broker=broker,
            processed=RedisProcessedEvents(redis),
            retry=retry or RetryPolicy(),
            gate=StateGate(is_open=False),  # opened by the first ``keep_state`` (or at once: ``no_state``)
        )
        broker.add_middleware(guard.middleware)
        publisher = EventPublisher(broker, name)
        return cls(
            name=name, broker=broker, redis=redis, guard=guard, publisher=publisher, kafka_bootstrap=kafka_bootstrap
        )

    def transactional_writer(self) -> TransactionalWriter:
        """A writer of atomic state-and-events transactions, started and stopped with the runtime."""
        writer = TransactionalWriter(self.kafka_bootstrap, self.name)
        self.writers.append(writer)
        return writer

    @property
    def gate(self) -> StateGate:
        return self.guard.gate

    async def keep_state(
        self, is_empty: Callable[[], Awaitable[bool]], refill: Callable[[], Awaitable[object]]
    ) -> None:
        """Rebuild the working state from the topics when it is found empty (a first start, or a wiped
        Redis), with the gate closed meanwhile: subscribers hold their messages and HTTP answers 503."""
        if not await is_empty():
            self.gate.open()
            return
        self.gate.close()
        log.info("%s: working state empty; rebuilding it from the topics", self.name)
        started = time.perf_counter()
        result = await refill()
        STATE_REBUILDS.labels(self.name).inc()
        log.info("%s rebuilt from the topics in %.1f s: %s", self.name, time.perf_counter() - started, result)
        self.gate.open()

    def no_state(self) -> None:
        """For a service whose working state needs no rebuild: consume and answer from the start."""
        self.gate.open()

    async def watch_state(
        self,
        is_empty: Callable[[], Awaitable[bool]],
        refill: Callable[[], Awaitable[object]],
        every_s: float = 1.0,
        *,
        marker: str | None = None,
    ) -> None:
        """``keep_state`` now and then every ``every_s`` seconds, for the life of the process; and every
        handled event checks the state is still whole before it is committed. ``marker``: the Redis key
        whose presence ``is_empty`` checks, when it is one; then that check costs no round trip of its own
        (it is made with the event's de-duplication key, ``ProcessedEvents.remember``)."""

        async def intact() -> bool:
            return not await is_empty()

        self.guard.intact = intact
        self.guard.state_marker = marker
        await every(every_s, lambda: self.keep_state(is_empty, refill), first_now=True)

    async def start(self) -> None:
        for writer in self.writers:
            await writer.start()
        await self.broker.connect()
        if (interval_ms := ConnectionSettings().commit_interval_ms) > 0:
            batch_commits(self.broker, interval_ms / 1000)  # handled messages' offsets go out together
        await self.broker.start()
        self.ready = True
        log.info("%s started", self.name)

    async def stop(self) -> None:
        """SIGTERM path: stop fetching, let the message in hand finish and commit, leave the group."""
        self.ready = False
        await self.broker.stop()
        for writer in self.writers:
            await writer.stop()
        await self.redis.aclose()
        log.info("%s stopped", self.name)

    async def is_ready(self) -> bool:
        if not self.ready or not self.gate.is_open:
            return False
        # Every subscriber's consumer is running (it joins its group as it starts).
        if any(getattr(sub, "consumer", None) is None for sub in self.broker.subscribers):
            return False
        try:
            kafka_ok = await self.broker.ping(timeout=2)
            redis_ok = bool(await asyncio.wait_for(self.redis.ping(), 2))
        except Exception:  # any failure means "not ready", never a crash of the probe
            return False
        return kafka_ok and redis_ok

    @asynccontextmanager
    async def lifespan(self, _app: FastAPI) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()

    async def measure_lag(self) -> None:
        """Per assigned partition: the log end offset minus this consumer's position."""
        for sub in self.broker.subscribers:
            consumer = getattr(sub, "consumer", None)
            group = getattr(sub, "group_id", None) or "-"
            if consumer is None:
                continue
            for tp in consumer.assignment():
                end = consumer.highwater(tp)
                if end is None:
                    continue
                position = await consumer.position(tp)
                CONSUMER_LAG.labels(tp.topic, str(tp.partition), group).set(max(0, end - position))

    def add_operational_routes(self, app: FastAPI, max_body_bytes: int = 64 * 1024) -> None:
        app.add_middleware(BodyLimit, max_bytes=max_body_bytes)

        async def dependency_down(request: Request, exc: Exception) -> Response:
            # Kafka or Redis unreachable mid-request: nothing was half-done (a transaction commits or not),
            # so the holder is told, in French, to try again shortly; never a bare 500.
            log.warning("%s %s: a dependency is down (%s)", request.method, request.url.path, type(exc).__name__)
            return unavailable(request)

        for error in (KafkaError, RedisError):
            app.add_exception_handler(error, dependency_down)

        app.add_middleware(FrontDoor, is_open=lambda: self.gate.is_open, unavailable=unavailable)

        @app.get("/healthz", include_in_schema=False)
        async def healthz() -> dict[str, str]:
            # Liveness is process-local: a broker outage must not restart every pod at once.
            return {"status": "alive"}

        @app.get("/readyz", include_in_schema=False)
        async def readyz(response: Response) -> dict[str, str]:
            ok = await self.is_ready()
            response.status_code = 200 if ok else 503
            return {"status": "ready" if ok else "not ready"}

        @app.get("/metrics", include_in_schema=False)
        async def metrics() -> Response:
            try:
                await self.measure_lag()
            except Exception:  # lag is best effort; the other metrics must still be served
                log.debug("lag measurement failed", exc_info=True)
            return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def every(seconds: float, action: Callable[[], Awaitable[object]], *, first_now: bool = False) -> None:
    """Run ``action`` forever, ``seconds`` apart; a failure is logged and the next run tries again."""
    if not first_now:
        await asyncio.sleep(seconds)
    while True:
        try:
            await action()
        except Exception:
            log.exception("background task failed; it runs again in %.0f s", seconds)
        await asyncio.sleep(seconds)


@asynccontextmanager
async def in_background(*jobs: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """Run ``jobs`` for the duration of the block; cancel and await them when it ends."""
    tasks = [asyncio.create_task(job) for job in jobs]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
