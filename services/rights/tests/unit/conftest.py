"""Helpers for the rights unit tests: run the simulator's code path on partner-contract JSON."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from services.rights.app.cli import render, simulate

Simulate = Callable[..., dict[str, Any]]


def run_simulator(
    events: list[dict[str, Any]],
    *,
    birth: str = "1985-03",
    as_of: str | None = None,
    keep_going: bool = False,
    history: bool = False,
) -> dict[str, Any]:
    """What ``cpf-rights simulate`` prints for these events (same functions, no subprocess)."""
    document = {"holder": {"birth": birth}, "events": events}
    simulation = simulate(document, as_of=date.fromisoformat(as_of) if as_of else None, keep_going=keep_going)
    return render(simulation, with_history=history)


@pytest.fixture
def sim() -> Simulate:
    return run_simulator


def full_years(first: int, last: int, hours: int | str = 1607) -> list[dict[str, Any]]:
    return [{"type": "work_year", "year": year, "hours": hours} for year in range(first, last + 1)]
