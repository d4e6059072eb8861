"""What a sign-up and a login cost Kafka in requests (issue 16): produce, transaction, fetch, heartbeat, offset
commit..., from the broker's own counters (``kafka.network`` RequestMetrics over JMX, switched on in the
running broker with ``jcmd``; ``KafkaRequests.java``).

    .venv/bin/python bench/peers/kafka_requests.py [--seconds 20] [--idle 15] [--env SERVICE:NAME=VALUE]

Our platform alone (as ``ours_only.py``): the broker's requests per second while idle, then per accepted
sign-up and per login with the idle requests of the same seconds removed (a few seconds of settling after
each phase are included, for the events the operations caused downstream).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.peers import ROOT, stack
from bench.peers.keycloak import free_port
from bench.peers.load import SourcePool, run_phase, source_addresses
from bench.peers.ours import OurPlatform
from bench.peers.ours_only import extra_env

READER = Path(__file__).with_name("KafkaRequests.java")
# Counters that are a part of another (Fetch's, by consumers and by followers): shown, not added to the total.
# (AddPartitionsToTxnVerification is a request of its own: the broker asking its transaction coordinator whether
# a transactional produce's partition was added, once per such produce.)
SUBSETS = {"FetchConsumer", "FetchFollower"}
SETTLE_S = 5.0


def total(counts: dict[str, float]) -> float:
    return sum(v for k, v in counts.items() if k not in SUBSETS)


def open_jmx(kafka_pid: int) -> int:
    port = free_port()
    agent = f"jmxremote.port={port} jmxremote.rmi.port={port} jmxremote.authenticate=false jmxremote.ssl=false"
    subprocess.run(["jcmd", str(kafka_pid), "ManagementAgent.start", *agent.split()], check=True, capture_output=True)
    return port


def requests_so_far(port: int) -> Counter[str]:
    out = subprocess.run(["java", str(READER), str(port)], check=True, capture_output=True, text=True).stdout
    counts: Counter[str] = Counter()
    for line in out.splitlines():
        kind, count = line.split()
        counts[kind] += int(count)  # one counter per request version: summed
    return counts


async def measure(args: argparse.Namespace, ours: OurPlatform) -> None:
    await asyncio.sleep(5)
    port = open_jmx(ours.processes()["kafka"])
    await ours.prepare_logins(8)
    await asyncio.sleep(SETTLE_S)
    start, t0 = requests_so_far(port), time.monotonic()
    await asyncio.sleep(args.idle)
    idle_end, t1 = requests_so_far(port), time.monotonic()
    idle = {k: (idle_end[k] - start[k]) / (t1 - t0) for k in idle_end}
    pool = SourcePool(ours.base_url, source_addresses(args.addresses))
    sequence = itertools.count()
    per_op: dict[str, dict[str, float]] = {}
    try:
        for operation, op, status in (
            ("sign-up", ours.create_account, ours.create_status),
            ("login", ours.log_in, ours.login_status),
        ):
            before, began = requests_so_far(port), time.monotonic()
            result = await run_phase(
                "ours",
                operation,
                op,
                status,
                pool,
                seconds=args.seconds,
                concurrency=args.concurrency,
                sequence=sequence,
                processes={},
            )
            await asyncio.sleep(SETTLE_S)
            after, wall = requests_so_far(port), time.monotonic() - began
            per_op[operation] = {k: (after[k] - before[k] - idle.get(k, 0.0) * wall) / result.ok for k in after}
            stack.log(f"{operation}: {result.ok} in {args.seconds:.0f} s ({result.per_second:.1f}/s)")
    finally:
        await pool.aclose()
    kinds = sorted(
        k for k in idle_end if idle.get(k, 0) > 0.005 or any(abs(p.get(k, 0)) > 0.005 for p in per_op.values())
    )
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'request':<24}{'idle /s':>9}{'per sign-up':>13}{'per login':>11}")
    for k in kinds:
        print(f"{k:<24}{idle.get(k, 0):>9.2f}{per_op['sign-up'].get(k, 0):>13.2f}{per_op['login'].get(k, 0):>11.2f}")
    print(f"{'total':<24}{total(idle):>9.2f}{total(per_op['sign-up']):>13.2f}{total(per_op['login']):>11.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--idle", type=float, default=15)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--addresses", type=int, default=64)
    parser.add_argument("--env", action="append", default=[], metavar="SERVICE:NAME=VALUE")
    args = parser.parse_args()
    if os.nice(0) < 5:
        os.nice(10)
    ours = OurPlatform(ROOT / "var" / f"bench-kafka-{os.getpid()}", signups_per_address=100_000)
    try:
        ours.start(extra_env=extra_env(args.env))
        asyncio.run(measure(args, ours))
    finally:
        ours.stop()


if __name__ == "__main__":
    main()
