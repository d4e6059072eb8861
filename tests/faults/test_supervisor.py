"""``make run`` (deploy/local/run.py) keeps the platform up when one service crashes: the supervisor starts
it again after a back-off that doubles while it keeps crashing, as Kubernetes does, and says so."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable

import httpx
import pytest

from tests.conftest import TEST_ENV, Platform

# isort: split
# deploy/local/launcher.py and supervisor.py, on the path tests.conftest sets
import launcher as local_services
from supervisor import BackOff, Supervisor

pytestmark = pytest.mark.integration


def test_the_back_off_doubles_up_to_its_cap() -> None:
    backoff = BackOff(first_s=1, max_s=30)
    assert [backoff.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


async def _until(condition: Callable[[], bool], timeout: float) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, "not within the time"
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def test_a_crashed_service_comes_back_and_the_others_keep_running(platform: Platform) -> None:
    others = {n: platform.state.pids[n] for n in local_services.SERVICES if n != "rights"}
    said: list[str] = []
    supervisor = Supervisor(platform.state, extra_env=TEST_ENV, say=said.append, backoff=BackOff(stable_s=120))
    supervisor.start(every_s=0.1)
    try:
        first = supervisor.kill("rights")
        await _until(lambda: supervisor.watched["rights"].pid != first and supervisor.is_ready("rights"), 60)
        async with httpx.AsyncClient(base_url=platform.gateway, timeout=10) as http:
            # Back behind the gateway: a request without a session is refused by rights itself.
            resp = await http.get("/api/v1/me/rights")
            assert resp.status_code == 401, resp.text
        # Crashing again soon after, it waits twice as long before the next start.
        second = supervisor.kill("rights")
        await _until(lambda: supervisor.watched["rights"].pid != second and supervisor.is_ready("rights"), 60)
    finally:
        supervisor.stop()
    crash = r"rights stopped unexpectedly \((killed by SIGKILL|exit status unknown)\); restarting in {} s"
    assert re.match(crash.format(1) + r" \(crash 1 in a row\)", said[0]), said
    assert said[1].startswith("rights restarted (pid") and said[2].startswith("rights ready again"), said
    assert re.match(crash.format(2) + r" \(crash 2 in a row\)", said[3]), said
    assert said[4].startswith("rights restarted") and said[5].startswith("rights ready again"), said
    assert {n: platform.state.pids[n] for n in others} == others
    assert all(local_services.ready(platform.state, n) for n in local_services.SERVICES)
