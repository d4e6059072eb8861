"""A minimal service built exactly like ours (ServiceRuntime + subscribe + uvicorn runner), whose handler
records what it does in Redis. Integration tests start it as a process, crash it or send it SIGTERM.

Environment: MCF_KAFKA_BOOTSTRAP_SERVERS, MCF_REDIS_URL, MCF_HTTP_PORT, PROBE_TOPIC, PROBE_SLOW_S (time a
message takes), PROBE_CRASH_AFTER_EFFECT ("1": die after the effect, before the commit), PROBE_BATCH ("1": a
fetch at a time, ``eventing.batches``; each fetch's size is recorded, and a message that is not JSON or
carries ``"refuse"`` is refused alone, as the rights service refuses a declaration).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.topics import Audience, TopicSpec
from eventing.batches import subscribe_batch
from eventing.consuming import subscribe
from eventing.service import ServiceRuntime


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MCF_", extra="ignore")
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    redis_url: str = "redis://127.0.0.1:6379/9"
    http_host: str = "127.0.0.1"
    http_port: int = 8199


def probe_topic(name: str) -> TopicSpec:
    return TopicSpec(
        name=name,
        payload=None,
        key="n",
        producer="tests",
        consumers=("probe",),
        personal_data="none",
        audience=Audience.INTERNAL,
        partitions=1,
    )


def create_app() -> FastAPI:
    settings = Settings()
    rt = ServiceRuntime.create("probe", kafka_bootstrap=settings.kafka_bootstrap_servers, redis_url=settings.redis_url)
    topic = probe_topic(os.environ["PROBE_TOPIC"])
    slow = float(os.environ.get("PROBE_SLOW_S", "0"))
    crash = os.environ.get("PROBE_CRASH_AFTER_EFFECT") == "1"

    async def effect(bodies: list[dict[str, Any]]) -> None:
        if any(body.get("poison") for body in bodies):
            raise ValueError("not a number")  # a transient-looking error: retried, then parked
        if await rt.redis.exists("probe:broken"):  # e.g. a reference table missing: fixed, then replayed
            raise LookupError("a reference table is missing")
        if await rt.redis.exists("probe:down"):
            raise ConnectionError("a dependency is down")
        await rt.redis.rpush("probe:started", *(str(body["n"]) for body in bodies))
        await asyncio.sleep(slow)
        await rt.redis.rpush("probe:effects", *(str(body["n"]) for body in bodies))
        if crash:
            os._exit(3)  # after the effect, before the offset is committed

    if os.environ.get("PROBE_BATCH") == "1":

        @subscribe_batch(rt.broker, rt.guard, topic, group_id="probe", payload=dict[str, Any])
        async def handle_fetch(values: list[bytes]) -> Mapping[int, str]:
            await rt.redis.rpush("probe:fetches", str(len(values)))
            refused, bodies = {}, []
            for position, value in enumerate(values):
                try:
                    body = json.loads(value)
                except ValueError as exc:
                    refused[position] = f"invalid message: {exc}"
                    continue
                if body.get("refuse"):
                    refused[position] = f"refused: {body['refuse']}"
                else:
                    bodies.append(body)
            if bodies:
                await effect(bodies)
            return refused

    else:

        @subscribe(rt.broker, rt.guard, topic, group_id="probe")
        async def handle(body: dict[str, Any]) -> None:
            await effect([body])

    rt.no_state()  # the probe's effects list is not rebuilt: consume and answer from the start
    app = FastAPI(lifespan=rt.lifespan)
    rt.add_operational_routes(app)
    return app


if __name__ == "__main__":
    from eventing.runner import run

    run("probe", "tests.support.probe_service:create_app", "tests.support.probe_service:Settings")
