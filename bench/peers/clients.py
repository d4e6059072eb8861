"""The load generator's own CPU (issue 16): httpx against the light client (``http1.py``), alternating on one
stack of our platform, the same operations, bodies and 64 source addresses.

    .venv/bin/python bench/peers/clients.py [--rounds 3] [--seconds 15]

The load generator runs on the cores the servers share: what it spends per request is taken from both
sides of ``run.py`` alike. Prints per client and operation the rate, p50, the generator's CPU per
operation and the servers' CPU per operation.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.peers import stack
from bench.peers.load import ClientKind, PhaseResult, SourcePool, run_phase, source_addresses, summary
from bench.peers.ours import OurPlatform

KINDS: tuple[ClientKind, ...] = ("httpx", "light")


async def measure(args: argparse.Namespace, ours: OurPlatform) -> None:
    await ours.prepare_logins(8)
    procs = ours.processes()
    pools = {kind: SourcePool(ours.base_url, source_addresses(64), kind=kind) for kind in KINDS}
    sequence = itertools.count()
    results: dict[tuple[ClientKind, str], list[PhaseResult]] = {(k, o): [] for k in KINDS for o in ("sign-up", "login")}

    async def phase(kind: ClientKind, operation: str, seconds: float, keep: bool) -> None:
        op, status = (
            (ours.create_account, ours.create_status) if operation == "sign-up" else (ours.log_in, ours.login_status)
        )
        r = await run_phase(
            kind, operation, op, status, pools[kind], seconds=seconds, concurrency=8, sequence=sequence,
            processes=procs,
        )  # fmt: skip
        stack.log(
            f"{kind} {operation}: {r.per_second:.1f}/s, client {r.client_cpu / r.ok * 1000:.2f} CPU ms/op, "
            f"servers {r.cpu_ms_per_op:.1f} {dict(r.refused)}"
        )
        if keep:
            results[(kind, operation)].append(r)

    try:
        for kind in KINDS:
            await phase(kind, "sign-up", 10, keep=False)
            await phase(kind, "login", 10, keep=False)
        for round_no in range(args.rounds):
            for kind in KINDS if round_no % 2 == 0 else KINDS[::-1]:
                await phase(kind, "sign-up", args.seconds, keep=True)
                await phase(kind, "login", args.seconds, keep=True)
    finally:
        for pool in pools.values():
            await pool.aclose()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for operation in ("sign-up", "login"):
        for kind in KINDS:
            rs = results[(kind, operation)]
            client = statistics.median(r.client_cpu / r.ok * 1000 for r in rs)
            print(f"{operation}, {kind}: {summary(rs)}; load generator CPU/op {client:.2f} ms", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    ours = OurPlatform.for_bench("clients")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    try:
        ours.start()
        asyncio.run(measure(args, ours))
    finally:
        ours.stop()


if __name__ == "__main__":
    main()
