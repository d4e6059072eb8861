"""Two copies of our platform on this machine, loaded in turn: what a change costs or saves (issue 16).

    git archive BASE | tar -x -C /tmp/base      # the "before": any revision, exported
    .venv/bin/python bench/peers/ab.py --tree-a /tmp/base [--python-a OTHER_VENV/bin/python] [--rounds 4]

A runs from ``--tree-a`` (its own deploy/local/stack.py and launcher.py; its services with ``--python-a``,
e.g. a venv without a dependency the change added, such as uvloop, which uvicorn would pick up by itself),
B from this checkout. Both start, are measured idle together, then get sign-ups and logins in turn, the
order alternating each round, so that other people's load on a shared machine falls on both alike. Prints,
per side and operation, the CPU per operation of each process and the *marginal* figure (the idle CPU of
the same seconds removed, so that a side's rate does not change its cost). ``--env-a``/``--env-b
SERVICE:NAME=VALUE`` set a service's environment (``registration:MCF_COMMIT_INTERVAL_MS=0`` on one side
measures a setting); without ``--tree-a`` both sides run this checkout.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import itertools
import os
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import bench.peers.ours as ours_module
from bench.peers import ROOT, launcher, stack
from bench.peers.load import PhaseResult, SourcePool, run_phase, source_addresses
from bench.peers.measure import cpu_by_process, measure_hash
from bench.peers.ours import OurPlatform
from bench.peers.ours_only import extra_env
from bench.peers.run import OUR_PARAMS


def modules_of(tree: Path, python: str) -> tuple[ModuleType, ModuleType]:
    """``tree``'s own stack and launcher modules, its services started with ``python`` from ``tree``."""
    ours = {name: sys.modules.pop(name) for name in ("stack", "launcher")}
    sys.path.insert(0, str(tree / "deploy" / "local"))
    try:
        their_stack, their_launcher = importlib.import_module("stack"), importlib.import_module("launcher")
    finally:
        sys.path.pop(0)
        sys.modules.update(ours)

    def spawn(state: Any, name: str, extra: dict[str, str] | None = None) -> int:
        env = their_launcher.service_env(state, name, extra)
        log = Path(state.var) / "logs" / f"{name}.log"
        pid: int = their_stack.spawn([python, "-m", f"services.{name}.app"], log, env=env, cwd=tree)
        state.pids[name] = pid
        return pid

    their_launcher.spawn = spawn
    return their_stack, their_launcher


class Side(OurPlatform):
    """Our platform started and stopped with given stack and launcher modules."""

    modules: tuple[ModuleType, ModuleType] = (stack, launcher)

    def _with_modules(self, action: Any, *args: Any) -> None:
        ours_module.stack, ours_module.launcher = self.modules
        try:
            action(*args)
        finally:
            ours_module.stack, ours_module.launcher = stack, launcher

    def start(self, extra_env: dict[str, dict[str, str]] | None = None) -> None:
        self._with_modules(super().start, extra_env)

    def stop(self) -> None:
        self._with_modules(super().stop)


def print_side(operation: str, side: str, results: list[PhaseResult], idle: dict[str, float]) -> None:
    names = list(results[0].server_cpu)

    def marginal(r: PhaseResult, name: str) -> float:
        return (r.server_cpu[name] - idle[name] * r.wall) / r.ok * 1000

    per = {n: statistics.median(r.cpu_ms_per_op_of(n) for r in results) for n in names}
    marg = {n: statistics.median(marginal(r, n) for r in results) for n in names}
    total = statistics.median(r.cpu_ms_per_op for r in results)
    total_marg = statistics.median(sum(marginal(r, n) for n in names) for r in results)
    rate = statistics.median(r.per_second for r in results)
    by_process = ", ".join(f"{n} {per[n]:.2f}" for n in names)
    print(f"{operation} {side}: {rate:.1f}/s; CPU/op {total:.1f} ({by_process})")
    print(f"   marginal {total_marg:.1f} (" + ", ".join(f"{n} {marg[n]:.2f}" for n in names) + ")")
    print("   rounds, CPU/op: " + ", ".join(f"{r.cpu_ms_per_op:.1f}" for r in results), flush=True)


async def measure(args: argparse.Namespace, sides: list[Side]) -> None:
    await asyncio.sleep(5)
    procs = {s.name: s.processes() for s in sides}
    before = {s.name: cpu_by_process(procs[s.name]) for s in sides}
    started = time.monotonic()
    await asyncio.sleep(args.idle)
    wall = time.monotonic() - started
    idle = {
        s.name: {n: (cpu - before[s.name][n]) / wall for n, cpu in cpu_by_process(procs[s.name]).items()}
        for s in sides
    }
    for s in sides:
        print(f"{s.name} idle CPU ms/s: " + ", ".join(f"{n} {v * 1000:.1f}" for n, v in idle[s.name].items()))
        await s.prepare_logins(8)
    pools = {s.name: SourcePool(s.base_url, source_addresses(args.addresses)) for s in sides}
    sequence = itertools.count()
    results: dict[tuple[str, str], list[PhaseResult]] = {(s.name, o): [] for s in sides for o in ("sign-up", "login")}

    async def phase(side: Side, operation: str, seconds: float, keep: bool) -> None:
        op, status = (
            (side.create_account, side.create_status) if operation == "sign-up" else (side.log_in, side.login_status)
        )
        r = await run_phase(
            side.name, operation, op, status, pools[side.name], seconds=seconds, concurrency=args.concurrency,
            sequence=sequence, processes=procs[side.name],
        )  # fmt: skip
        stack.log(f"{side.name} {operation}: {r.per_second:.1f}/s, {r.cpu_ms_per_op:.1f} CPU ms/op {dict(r.refused)}")
        if keep:
            results[(side.name, operation)].append(r)

    try:
        for s in sides:
            await phase(s, "sign-up", args.warmup, keep=False)
            await phase(s, "login", args.warmup, keep=False)
        for round_no in range(args.rounds):
            order = sides if round_no % 2 == 0 else sides[::-1]
            for s in order:
                await phase(s, "sign-up", args.seconds, keep=True)
            for s in order[::-1]:
                await phase(s, "login", args.seconds, keep=True)
    finally:
        for pool in pools.values():
            await pool.aclose()
    one_hash = measure_hash(OUR_PARAMS, 1, 2)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; one hash {one_hash.cpu_ms:.1f} ms CPU")
    for operation in ("sign-up", "login"):
        for s in sides:
            print_side(operation, s.name, results[(s.name, operation)], idle[s.name])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree-a", type=Path, help="side A's source tree (default: this checkout)")
    parser.add_argument("--python-a", default=sys.executable, help="side A's interpreter (its venv)")
    parser.add_argument("--env-a", action="append", default=[], metavar="SERVICE:NAME=VALUE")
    parser.add_argument("--env-b", action="append", default=[], metavar="SERVICE:NAME=VALUE")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15, help="per side, per operation, per round")
    parser.add_argument("--warmup", type=float, default=20)
    parser.add_argument("--idle", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--addresses", type=int, default=64)
    args = parser.parse_args()
    if os.nice(0) < 5:
        os.nice(10)
    a = Side(ROOT / "var" / f"ab-a-{os.getpid()}", signups_per_address=100_000, name="A")
    if args.tree_a:
        a.modules = modules_of(args.tree_a.resolve(), args.python_a)
    b = Side(ROOT / "var" / f"ab-b-{os.getpid()}", signups_per_address=100_000, name="B")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    try:
        a.start(extra_env(args.env_a))
        b.start(extra_env(args.env_b))
        asyncio.run(measure(args, [a, b]))
    finally:
        for side in (a, b):
            side.stop()


if __name__ == "__main__":
    main()
