"""Shared fixtures for the mailer's unit tests (and, for the queue's contract test, a real Redis)."""

from __future__ import annotations

import importlib
import socket
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.mailer.adapters.templates import JinjaTemplateRenderer
from services.mailer.domain import MailSettings

BASE_URL = "https://moncompteformation.test"
NOW = datetime(2025, 3, 1, 13, 5, tzinfo=UTC)  # 14 h 05 in Paris (UTC+1 in winter)
LOCAL_STACK = Path(__file__).resolve().parents[4] / "deploy" / "local"


@pytest.fixture
def settings() -> MailSettings:
    return MailSettings(
        public_base_url=BASE_URL + "/",
        from_address="ne-pas-repondre@moncompteformation.test",
        from_display_name="Mon Compte Formation",
    )


@pytest.fixture(scope="session")
def renderer() -> JinjaTemplateRenderer:
    return JinjaTemplateRenderer()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    """A throw-away redis-server on a free loopback port, started by the local stack's own script
    (``deploy/local/stack.py``, as ``make run`` and the integration suite do); its URL."""
    sys.path.insert(0, str(LOCAL_STACK))
    stack = importlib.import_module("stack")
    with socket.socket() as s:
        s.bind((stack.LOOPBACK, 0))
        port = int(s.getsockname()[1])
    with tempfile.TemporaryDirectory(prefix="mailer-redis-") as var:
        state = stack.StackState(var=var, ports=stack.Ports(redis=port))
        stack.start_redis(state)
        try:
            yield f"redis://{stack.LOOPBACK}:{port}/0"
        finally:
            stack.stop_pid(state.pids["redis"], "redis", grace=5)
