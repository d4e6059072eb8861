"""What an operator's probes and Prometheus see on each service."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Platform

pytestmark = pytest.mark.integration
SERVICES = ("registration", "captcha", "mailer", "rights")


@pytest.mark.parametrize("service", SERVICES)
async def test_probes_and_metrics(platform: Platform, service: str) -> None:
    async with httpx.AsyncClient(base_url=platform.url(service), timeout=10) as http:
        assert (await http.get("/healthz")).status_code == 200
        ready = await http.get("/readyz")
        assert ready.status_code == 200 and ready.json() == {"status": "ready"}
        metrics = (await http.get("/metrics")).text
    assert "http_requests_total{" in metrics and 'route="/readyz"' in metrics
    # Every consumer reports its lag per assigned partition once it has joined its group.
    assert "kafka_consumer_lag{" in metrics
    assert "events_handled_total" in metrics
