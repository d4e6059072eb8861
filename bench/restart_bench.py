"""How long a service killed without warning takes to be ready again (issue 11: "back in seconds").

    .venv/bin/python bench/restart_bench.py [--rounds 3] [--wipe]

Starts the stack with the project's scripts on free ports, lets each service settle, then for each one:
SIGKILL (no goodbye to its consumer groups, a transaction possibly left open), start it again, and time
until its ``/readyz`` answers 200 (consumers back in their groups, Kafka and Redis answering, working
state complete). ``--wipe`` also flushes the service's Redis database before the start, so the time
includes the rebuild from the topics. Figures are printed as a ratio to the 10 s bound.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import sys
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy" / "local"))
sys.path.insert(0, str(ROOT))

import launcher  # noqa: E402
import stack  # noqa: E402

from tests.support.smtp_server import ControlledSmtpServer  # noqa: E402

BOUND_S = 10.0


def restart_once(state: stack.StackState, name: str, wipe: bool) -> float:
    pid = state.pids[name]
    os.killpg(pid, signal.SIGKILL)
    while stack.alive(pid):
        time.sleep(0.02)
    if wipe:
        url = f"redis://{stack.LOOPBACK}:{state.ports.redis}/{launcher.REDIS_DB[name]}"
        redis.Redis.from_url(url).flushdb()
    started = time.monotonic()
    launcher.start(state, (name,), extra_env={name: {"MCF_LOG_LEVEL": "WARNING"}}, timeout=120)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--wipe", action="store_true")
    args = parser.parse_args()
    var = ROOT / "var" / f"bench-restart-{os.getpid()}"
    state = stack.up(var, stack.Ports.free(), with_maildev=False, with_nginx=True, cache=ROOT / "var" / "cache")
    smtp = ControlledSmtpServer(state.ports.smtp)
    smtp.start()
    try:
        launcher.start(state, extra_env={n: {"MCF_LOG_LEVEL": "WARNING"} for n in launcher.SERVICES})
        time.sleep(5)
        print(f"{'service':<13} {'median':>8} {'worst':>8} {'worst / 10 s bound':>19}")
        for name in launcher.SERVICES:
            times = [restart_once(state, name, args.wipe) for _ in range(args.rounds)]
            worst = max(times)
            print(f"{name:<13} {statistics.median(times):>7.1f}s {worst:>7.1f}s {worst / BOUND_S:>19.2f}")
    finally:
        launcher.stop(state)
        smtp.stop()
        stack.down(var)
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
