"""A private Redis for the store contract tests: the same server the stack runs, started by the stack's
own script (``deploy/local/stack.py``) on a free port, with nothing else (no Kafka, no services)."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "deploy" / "local"))
import stack


@contextmanager
def private_redis() -> Iterator[str]:
    """The URL of a fresh Redis, stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="mcf-redis-") as var:
        state = stack.StackState(var=var, ports=stack.Ports.free())
        (Path(var) / "logs").mkdir()
        stack.start_redis(state)
        try:
            yield f"redis://{stack.LOOPBACK}:{state.ports.redis}/0"
        finally:
            stack.stop_pid(state.pids["redis"], "redis", grace=5)
