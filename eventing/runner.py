"""Process entry point shared by the services: uvicorn with a graceful SIGTERM."""

from __future__ import annotations

import importlib

import uvicorn

from eventing.logging_setup import configure
from eventing.settings import ConnectionSettings


def run(service: str, app_factory: str, settings_path: str) -> None:
    configure(service)
    module, _, name = settings_path.partition(":")
    settings = getattr(importlib.import_module(module), name)()
    uvicorn.run(
        app_factory,
        factory=True,
        host=settings.http_host,
        port=settings.http_port,
        # libuv's event loop and the C HTTP parser: the same asyncio API for aiokafka, redis and FastStream,
        # with less CPU per request and per message than the standard loop and h11 (bench/README.md).
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=ConnectionSettings().forwarded_allow_ips,
        # SIGTERM: stop accepting, finish requests, then the lifespan drains the consumers.
        timeout_graceful_shutdown=20,
    )
