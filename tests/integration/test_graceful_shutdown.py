"""Each real service process stops cleanly on SIGTERM, within the Kubernetes grace period, and comes back.

(That the message in hand is finished and committed once is proven with a process built the same way in
test_delivery.py, where the handler's timing can be controlled.)"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.conftest import TEST_ENV, Platform, local_services, stack

pytestmark = pytest.mark.integration
GRACE_PERIOD_S = 30  # deploy/k8s terminationGracePeriodSeconds


@pytest.mark.parametrize("service", ["registration", "captcha", "mailer", "rights"])
def test_sigterm_stops_the_service_within_the_grace_period(platform: Platform, service: str) -> None:
    pid = platform.state.pids[service]
    log = Path(platform.state.var) / "logs" / f"{service}.log"
    os.killpg(pid, signal.SIGTERM)
    started = time.monotonic()
    while stack.alive(pid):
        assert time.monotonic() - started < GRACE_PERIOD_S, f"{service} still running after SIGTERM"
        time.sleep(0.05)
    took = time.monotonic() - started
    text = log.read_text()
    assert f"{service} stopped" in text, "the broker was stopped cleanly (consumers left their group)"
    assert "Traceback" not in text.split("Shutting down")[-1]
    local_services.start(platform.state, (service,), extra_env=TEST_ENV)
    assert took < GRACE_PERIOD_S
