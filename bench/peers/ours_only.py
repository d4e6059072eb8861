"""Our platform alone, for measuring one change at a time (issue 16): CPU per sign-up and per login, per
process, from /proc; no Keycloak, so a run takes about two minutes.

    .venv/bin/python bench/peers/ours_only.py [--rounds 3] [--seconds 20] [--env registration:NAME=VALUE]

Same stack, load generator and clients as ``run.py`` (``OurPlatform``, ``run_phase``). Besides the CPU per
operation it prints each process's CPU per second while idle, measured before the load, and the
*marginal* CPU per operation (the phase's CPU minus what the same seconds idle cost): that figure does not
depend on the rate reached, so it compares runs on a machine shared with other people's work, where rates
do not.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.peers import ROOT, stack
from bench.peers.load import PhaseResult, SourcePool, run_phase, source_addresses
from bench.peers.measure import cpu_by_process, measure_hash
from bench.peers.ours import OurPlatform
from bench.peers.run import OUR_PARAMS


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20, help="per operation, per round")
    parser.add_argument("--warmup", type=float, default=15)
    parser.add_argument("--idle", type=float, default=10, help="seconds of idle measured before the load")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--addresses", type=int, default=64)
    parser.add_argument(
        "--env", action="append", default=[], metavar="SERVICE:NAME=VALUE", help="extra environment of a service"
    )
    return parser.parse_args()


def extra_env(pairs: list[str]) -> dict[str, dict[str, str]]:
    env: dict[str, dict[str, str]] = {}
    for pair in pairs:
        service, _, assignment = pair.partition(":")
        name, _, value = assignment.partition("=")
        env.setdefault(service, {})[name] = value
    return env


def report(label: str, results: list[PhaseResult], idle_per_s: dict[str, float]) -> None:
    names = list(results[0].server_cpu)
    rate = statistics.median(r.per_second for r in results)
    total = statistics.median(r.cpu_ms_per_op for r in results)

    def marginal(r: PhaseResult, name: str) -> float:
        return (r.server_cpu[name] - idle_per_s[name] * r.wall) / r.ok * 1000

    per = {n: statistics.median(r.cpu_ms_per_op_of(n) for r in results) for n in names}
    marg = {n: statistics.median(marginal(r, n) for r in results) for n in names}
    total_marg = statistics.median(sum(marginal(r, n) for n in names) for r in results)
    refused = sum((r.refused for r in results), start=type(results[0].refused)())
    print(
        f"{label}: {rate:.1f}/s (rounds {', '.join(f'{r.per_second:.1f}' for r in results)}), "
        f"p50 {statistics.median(r.p50_ms for r in results):.0f} ms, refused {dict(refused)}"
    )
    print(f"  CPU ms per op: total {total:.1f}; " + ", ".join(f"{n} {per[n]:.2f}" for n in names))
    print(f"  marginal (idle removed): total {total_marg:.1f}; " + ", ".join(f"{n} {marg[n]:.2f}" for n in names))


async def measure(args: argparse.Namespace, ours: OurPlatform) -> None:
    await asyncio.sleep(5)
    procs = ours.processes()
    before, started = cpu_by_process(procs), time.monotonic()
    await asyncio.sleep(args.idle)
    after, wall = cpu_by_process(procs), time.monotonic() - started
    idle_per_s = {n: (after[n] - before[n]) / wall for n in procs}
    print("idle CPU ms per second: " + ", ".join(f"{n} {v * 1000:.1f}" for n, v in idle_per_s.items()), flush=True)
    await ours.prepare_logins(8)
    pool = SourcePool(ours.base_url, source_addresses(args.addresses))
    sequence = itertools.count()
    results: dict[str, list[PhaseResult]] = {"sign-up": [], "login": []}
    try:
        for round_no in range(-1, args.rounds):
            for operation, op, status in (
                ("sign-up", ours.create_account, ours.create_status),
                ("login", ours.log_in, ours.login_status),
            ):
                result = await run_phase(
                    ours.name,
                    operation,
                    op,
                    status,
                    pool,
                    seconds=args.warmup if round_no < 0 else args.seconds,
                    concurrency=args.concurrency,
                    sequence=sequence,
                    processes=procs,
                )
                stack.log(f"{'warm-up' if round_no < 0 else f'round {round_no + 1}'} {operation}: "
                          f"{result.per_second:.1f}/s, {result.cpu_ms_per_op:.1f} CPU ms/op")
                if round_no >= 0:
                    results[operation].append(result)
    finally:
        await pool.aclose()
    hash_cost = measure_hash(OUR_PARAMS, 1, 2)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; one hash {hash_cost.cpu_ms:.1f} ms CPU")
    for operation, rs in results.items():
        report(operation, rs, idle_per_s)


def main() -> None:
    args = parse()
    if os.nice(0) < 5:
        os.nice(10)
    ours = OurPlatform(ROOT / "var" / f"bench-ours-{os.getpid()}", signups_per_address=100_000)
    env = extra_env(args.env)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; extra env {env}", flush=True)
    try:
        ours.start(extra_env=env)
        asyncio.run(measure(args, ours))
    finally:
        ours.stop()


if __name__ == "__main__":
    main()
