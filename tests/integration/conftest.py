"""Fixtures of the integration tests: a service restarted with extra settings, then restored."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.conftest import TEST_ENV, Platform, local_services  # type: ignore[attr-defined]  # deploy/local/launcher.py

Restart = Callable[..., None]


@pytest.fixture
def restart_with(platform: Platform) -> Iterator[Restart]:
    """``restart_with("captcha", MCF_CAPTCHA_TTL_S="3")``: that service runs with those settings until the
    end of the test, then is restarted with the suite's own."""
    changed: set[str] = set()

    def restart(name: str, **env: str) -> None:
        local_services.stop(platform.state, (name,))
        local_services.start(platform.state, (name,), extra_env={name: {**TEST_ENV.get(name, {}), **env}})
        changed.add(name)

    yield restart
    if changed:
        platform.restart(*sorted(changed))
