"""A minimal service built exactly like ours (ServiceRuntime + subscribe + uvicorn runner), whose handler
records what it does in Redis. Integration tests start it as a process, crash it or send it SIGTERM.

Environment: MCF_KAFKA_BOOTSTRAP_SERVERS, MCF_REDIS_URL, MCF_HTTP_PORT, PROBE_TOPIC, PROBE_SLOW_S (time a
message takes), PROBE_CRASH_AFTER_EFFECT ("1": die after the effect, before the commit).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from fastapi import FastAPI
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.topics import Audience, TopicSpec
from eventing.consuming import subscribe
from eventing.service import ServiceRuntime


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MCF_", extra="ignore")
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    redis_url: str = "redis://127.0.0.1:6379/9"
    http_host: str = "127.0.0.1"
    http_port: int = 8199


def probe_topic(name: str) -> TopicSpec:
    return TopicSpec(name=name, payload=None, key="n", producer="tests", consumers=("probe",), personal_data="none",
                     audience=Audience.INTERNAL, partitions=1)


def create_app() -> FastAPI:
    settings = Settings()
    rt = ServiceRuntime.create("probe", kafka_bootstrap=settings.kafka_bootstrap_servers, redis_url=settings.redis_url)
    topic = probe_topic(os.environ["PROBE_TOPIC"])
    slow = float(os.environ.get("PROBE_SLOW_S", "0"))
    crash = os.environ.get("PROBE_CRASH_AFTER_EFFECT") == "1"

    @subscribe(rt.broker, rt.guard, topic, group_id="probe")
    async def handle(body: dict[str, Any]) -> None:
        if body.get("poison"):
            raise ValueError("not a number")  # a transient-looking error: retried, then parked
        if await rt.redis.exists("probe:broken"):
            raise ConnectionError("a dependency is down")
        await rt.redis.rpush("probe:started", str(body["n"]))
        await asyncio.sleep(slow)
        await rt.redis.rpush("probe:effects", str(body["n"]))
        if crash:
            os._exit(3)  # after the effect, before the offset is committed

    rt.no_state()  # the probe's effects list is not rebuilt: consume and answer from the start
    app = FastAPI(lifespan=rt.lifespan)
    rt.add_operational_routes(app)
    return app


if __name__ == "__main__":
    from eventing.runner import run

    run("probe", "tests.support.probe_service:create_app", "tests.support.probe_service:Settings")
