"""What one more registration process brings (issue 16): one stack, a second registration process on a port
of its own (its own instance id, so its own consumers and transactional producer), and the gateway's
upstream switched between one and two of them, round after round.

    .venv/bin/python bench/peers/workers.py [--rounds 3] [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.peers import launcher, stack
from bench.peers.load import PhaseResult, SourcePool, run_phase, source_addresses, summary
from bench.peers.measure import measure_hash
from bench.peers.ours import OurPlatform
from bench.peers.run import OUR_PARAMS


def free_port() -> int:
    with socket.socket() as s:
        s.bind((stack.LOOPBACK, 0))
        return int(s.getsockname()[1])


def route_registration_to(state: stack.StackState, ports: list[int]) -> None:
    """Rewrite the gateway's registration upstream (each server twice, as the template does for retries)."""
    conf = Path(state.var) / "nginx" / "nginx.conf"
    servers = " ".join(f"server {stack.LOOPBACK}:{p} max_fails=0;" for p in ports for _ in range(2))
    upstream = f"upstream registration {{\n    {servers}\n"
    conf.write_text(re.sub(r"upstream registration \{\s*server[^\n]*\n", upstream, conf.read_text()))
    subprocess.run(["nginx", "-c", str(conf), "-p", str(conf.parent), "-s", "reload"], check=True)
    time.sleep(1.5)  # the old worker finishes its requests


def start_second(ours: OurPlatform) -> int:
    assert ours.state is not None
    port = free_port()
    env = launcher.service_env(ours.state, "registration")
    env.update(
        MCF_HTTP_PORT=str(port),
        MCF_INSTANCE_ID=f"{socket.gethostname()}-2",
        MCF_LOG_LEVEL="WARNING",
        MCF_SIGNUPS_PER_ADDRESS=str(ours.signups_per_address),
    )
    log = Path(ours.state.var) / "logs" / "registration-2.log"
    pid = stack.spawn([sys.executable, "-m", "services.registration.app"], log, env=env, cwd=stack.ROOT)
    ours.state.pids["registration-2"] = pid
    ours.state.save()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{stack.LOOPBACK}:{port}/readyz", timeout=2) as resp:
                if resp.status == 200:
                    return port
        except OSError:
            time.sleep(0.5)
    raise TimeoutError("the second registration process did not get ready")


async def measure(args: argparse.Namespace, ours: OurPlatform, second: int) -> None:
    assert ours.state is not None
    await ours.prepare_logins(8)
    procs = {**ours.processes(), "registration-2": ours.state.pids["registration-2"]}
    pool = SourcePool(ours.base_url, source_addresses(64))
    sequence = itertools.count()
    results: dict[tuple[int, str], list[PhaseResult]] = {(w, o): [] for w in (1, 2) for o in ("sign-up", "login")}
    layouts = {1: [ours.state.ports.registration], 2: [ours.state.ports.registration, second]}

    async def phase(workers: int, operation: str, seconds: float, keep: bool) -> None:
        op, status = (
            (ours.create_account, ours.create_status) if operation == "sign-up" else (ours.log_in, ours.login_status)
        )
        r = await run_phase(
            "ours", operation, op, status, pool, seconds=seconds, concurrency=8, sequence=sequence, processes=procs
        )
        stack.log(f"{workers} process(es) {operation}: {r.per_second:.1f}/s, {r.cpu_ms_per_op:.1f} CPU ms/op")
        if keep:
            results[(workers, operation)].append(r)

    try:
        for workers in (1, 2):
            route_registration_to(ours.state, layouts[workers])
            await phase(workers, "sign-up", 15, keep=False)
            await phase(workers, "login", 10, keep=False)
        for round_no in range(args.rounds):
            for workers in (1, 2) if round_no % 2 == 0 else (2, 1):
                route_registration_to(ours.state, layouts[workers])
                await phase(workers, "sign-up", args.seconds, keep=True)
                await phase(workers, "login", args.seconds, keep=True)
    finally:
        await pool.aclose()
    bound = measure_hash(OUR_PARAMS, 2, 3)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; hash bound {bound.per_second:.1f}/s")
    for operation in ("sign-up", "login"):
        for workers in (1, 2):
            rs = results[(workers, operation)]
            per = ", ".join(f"{n} {statistics.median(r.cpu_ms_per_op_of(n) for r in rs):.2f}" for n in procs)
            print(f"{operation}, {workers} registration process(es): {summary(rs)} ({per})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    ours = OurPlatform.for_bench("workers")
    try:
        ours.start()
        asyncio.run(measure(args, ours, start_second(ours)))
    finally:
        if ours.state is not None and (pid := ours.state.pids.pop("registration-2", None)):
            stack.stop_pid(pid, "registration-2", grace=25)
        ours.stop()


if __name__ == "__main__":
    main()
