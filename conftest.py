"""Fixtures every test folder may use (``tests/`` and each service's ``tests/``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # ``tests`` is not an installed package
from tests.support.redis_server import private_redis


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real Redis of the suite's own (started like the stack's), for the store contract tests; each
    test flushes what it needs."""
    with private_redis() as url:
        yield url


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """With ``-n 2 --dist loadgroup`` (``make test``), everything that runs against the suite's shared stack
    stays on one worker, the fault suite (its own stack) runs on the other, next to the unit tests."""
    for item in items:
        if "platform" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("stack"))
        elif "tests/faults/" in item.nodeid:
            item.add_marker(pytest.mark.xdist_group("faults"))
