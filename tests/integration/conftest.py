"""Fixtures of the integration tests: a service restarted with extra settings, then restored; registration's
Redis, and its per-address login failures forgotten around a test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from redis.asyncio import Redis

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


@pytest.fixture
async def reg_redis(platform: Platform) -> AsyncIterator[Redis]:
    redis = Redis.from_url(platform.redis_url("registration"))
    try:
        yield redis
    finally:
        await redis.aclose()


async def forget_address_failures(redis: Redis) -> None:
    keys = [key async for key in redis.scan_iter(match="reg:fail:addr:*")]
    if keys:
        await redis.delete(*keys)


@pytest.fixture
async def fresh_client_address(reg_redis: Redis) -> AsyncIterator[None]:
    """Every request of the suite reaches registration from nginx's one address: the per-address login
    failures of a test are forgotten before and after it (as if each test were another client)."""
    await forget_address_failures(reg_redis)
    yield
    await forget_address_failures(reg_redis)
