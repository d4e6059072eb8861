"""Our platform and Keycloak side by side, the same load generator against both (issue 16).

    .venv/bin/python bench/peers/run.py [--quick] [--profile]      # or: make bench-peers

From a fresh clone: downloads Keycloak's server distribution from Maven Central (cached in var/cache),
starts it with Java 21+ from /usr/lib/jvm (dev-file database; realm, client and users through its admin
REST API), starts our stack as the test suite does (free ports, a per-address sign-up limit), then:
warm-up of each side until its CPU per operation settles (a JVM compiles for minutes on a busy machine),
then rounds that alternate which side goes first; each side gets password logins
then account creations for the same number of seconds at the same concurrency, from clients spread over
several loopback source addresses. Prints the medians over the rounds, each side normalised by the cost
of its own password hash measured in the same run (argon2-cffi, on as many threads as the machine's
cores, which both servers share). Everything runs under `nice`: the machine is shared.

Account creation: ours is `POST /api/v1/registrations` answered 202 (validated, password hashed, request
stored and its event written to Kafka in one transaction); Keycloak's is the admin REST API's user creation
with a password (validated, hashed, stored), the one JSON call of Keycloak that creates a user with a
password (its self-registration is an HTML form flow of two requests with a rendered page).
`--profile` then records py-spy flame graphs of registration, captcha and mailer under sign-ups alone
(bench/profiles/) and prints registration's non-hash costs per function.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import platform
import shutil
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.peers import ROOT, stack
from bench.peers import keycloak as kc
from bench.peers.load import SourcePool, run_phase, source_addresses
from bench.peers.measure import Argon2Params, measure_hash, rss_total
from bench.peers.ours import OurPlatform
from bench.peers.profile import Profile, flame_graph, start_recording
from bench.peers.report import SideFigures, as_json, cpu_breakdown, goals, table
from services.registration.adapters.argon2_hasher import (
    OWASP_MEMORY_COST_KIB,
    OWASP_PARALLELISM,
    OWASP_TIME_COST,
)

OUR_PARAMS = Argon2Params("ours (OWASP)", OWASP_MEMORY_COST_KIB, OWASP_TIME_COST, OWASP_PARALLELISM)
PROFILED = ("registration", "captcha", "mailer")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 round of 5 s, 5 s of warm-up")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=20, help="per side, per operation, per round")
    parser.add_argument("--warmup", type=float, default=20, help="seconds of one warm-up window, per operation")
    parser.add_argument(
        "--warmup-windows", type=int, default=8, help="at most; warm-up ends when CPU per operation moves ≤ 10 %%"
    )
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--addresses", type=int, default=64, help="loopback source addresses of the clients")
    parser.add_argument("--login-accounts", type=int, default=32)
    parser.add_argument("--hash-seconds", type=float, default=3, help="hash-cost measurement per round")
    parser.add_argument("--profile", type=int, nargs="?", const=30, default=0, metavar="SECONDS")
    parser.add_argument("--keycloak-version", default=kc.VERSION)
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds, args.warmup, args.warmup_windows = 1, 5, 5, 1
        args.hash_seconds, args.login_accounts = 1, 8
    return args


def signup_limit(args: argparse.Namespace, bound: float) -> int:
    """The per-address limit our registration runs with: the production default (30 per 10 minutes) or,
    if the run's sign-ups could reach more than that per address, enough for them (the limit stays on and
    is checked on every request; a refusal would show in the table)."""
    planned = (args.warmup * args.warmup_windows + args.rounds * args.seconds + args.profile) * bound * 1.5
    return max(30, math.ceil(float(planned) / int(args.addresses)))


async def measure(args: argparse.Namespace, ours: OurPlatform, peer: kc.Keycloak) -> tuple[SideFigures, SideFigures]:
    cores = os.cpu_count() or 1
    fig = {
        ours.name: SideFigures(ours.name, str(OUR_PARAMS), ours.infra_start_s + ours.services_start_s),
        peer.name: SideFigures(peer.name, str(kc.PARAMS), peer.start_s),
    }
    await asyncio.sleep(10)  # idle: what each side holds once started and settled
    fig[ours.name].idle_rss = rss_total(ours.processes().values())
    fig[peer.name].idle_rss = rss_total(peer.processes().values())
    stack.log(f"preparing {args.login_accounts} active accounts on each side")
    await ours.prepare_logins(args.login_accounts)
    await asyncio.to_thread(peer.prepare, args.login_accounts)
    addresses = source_addresses(args.addresses)
    pools = {s.name: SourcePool(s.base_url, addresses) for s in (ours, peer)}
    sequence = itertools.count()
    storage_before, accepted_signups = ours.storage_bytes(), 0
    try:

        async def phases(side: OurPlatform | kc.Keycloak, seconds: float, keep: bool) -> list[float]:
            """Logins then account creations on ``side``; returns their CPU ms per operation."""
            nonlocal accepted_signups
            costs = []
            for operation, op, status in (
                ("login", side.log_in, side.login_status),
                ("creation", side.create_account, side.create_status),
            ):
                result = await run_phase(
                    side.name,
                    operation,
                    op,
                    status,
                    pools[side.name],
                    seconds=seconds,
                    concurrency=args.concurrency,
                    sequence=sequence,
                    processes=side.processes(),
                )
                stack.log(
                    f"{side.name} {operation}: {result.per_second:.1f}/s, p50 {result.p50_ms:.0f} ms, "
                    f"{result.cpu_ms_per_op:.1f} CPU ms/op, refused {dict(result.refused)}"
                )
                costs.append(result.cpu_ms_per_op)
                if side is ours and operation == "creation":
                    accepted_signups += result.ok
                if keep:
                    target = fig[side.name].logins if operation == "login" else fig[side.name].creations
                    target.append(result)
            return costs

        # Warm until the CPU per operation settles: a JVM spends its first minutes compiling (C2), more
        # so on a busy machine, and a Python process fills its caches and pools.
        for side in (peer, ours):
            previous: list[float] = []
            for window in range(args.warmup_windows):
                stack.log(f"{side.name} warm-up {window + 1}/{args.warmup_windows}: {args.warmup:.0f} s per operation")
                costs = await phases(side, args.warmup, keep=False)
                if previous and all(abs(c - p) <= 0.1 * p for c, p in zip(costs, previous, strict=True)):
                    break
                previous = costs
        for round_no in range(args.rounds):
            stack.log(f"round {round_no + 1}/{args.rounds}")
            for params, name in ((OUR_PARAMS, ours.name), (kc.PARAMS, peer.name)):
                fig[name].hashes.append(await asyncio.to_thread(measure_hash, params, cores, args.hash_seconds))
            for side in (ours, peer) if round_no % 2 == 0 else (peer, ours):
                await phases(side, args.seconds, keep=True)
        await asyncio.sleep(10)
        fig[ours.name].rss_after_load = rss_total(ours.processes().values())
        fig[peer.name].rss_after_load = rss_total(peer.processes().values())
        redis_after, kafka_after = ours.storage_bytes()
        print(
            f"ours, stored per accepted sign-up ({accepted_signups}): Redis "
            f"{(redis_after - storage_before[0]) / accepted_signups:.0f} bytes, Kafka segments "
            f"{(kafka_after - storage_before[1]) / accepted_signups:.0f} bytes (one replica)",
            flush=True,
        )
        if args.profile:
            await profile(args, ours, pools[ours.name], sequence, fig[ours.name])
    finally:
        for pool in pools.values():
            await pool.aclose()
    return fig[ours.name], fig[peer.name]


async def profile(
    args: argparse.Namespace, ours: OurPlatform, pool: SourcePool, sequence: itertools.count[int], fig: SideFigures
) -> None:
    out = ROOT / "bench" / "profiles"
    stack.log(f"profiling {', '.join(PROFILED)} under sign-ups for {args.profile} s (py-spy)")
    procs = ours.processes()
    samplers = [start_recording(procs[name], out / f"{name}-signups", args.profile) for name in PROFILED]
    result = await run_phase(
        ours.name,
        "creation",
        ours.create_account,
        ours.create_status,
        pool,
        seconds=args.profile - 1,
        concurrency=args.concurrency,
        sequence=sequence,
        processes=procs,
    )
    for sampler in samplers:
        await asyncio.to_thread(sampler.wait)
    print(f"\nProfiled sign-ups: {result.per_second:.1f}/s (samplers running), flame graphs in {out}")
    unprofiled = {n: statistics.median(r.cpu_ms_per_op_of(n) for r in fig.creations) for n in PROFILED}
    for name in PROFILED:
        collapsed = out / f"{name}-signups.txt"
        if collapsed.exists():
            flame_graph(collapsed, f"{name} under sign-ups")
            print(f"{name}: {unprofiled[name]:.1f} CPU ms per accepted sign-up without the samplers")
            print(Profile.read(collapsed).report(unprofiled[name]))


def main() -> None:
    args = parse()
    if os.nice(0) < 5:
        os.nice(10)  # the servers inherit it: the machine is shared with other developers' tests
    cores = os.cpu_count() or 1
    # From CPU time, not from a rate: what the cores could hash if the machine were ours alone.
    bound_guess = cores * 1000 / measure_hash(OUR_PARAMS, 1, 1).cpu_ms
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    var = ROOT / "var" / f"bench-peers-{os.getpid()}"
    ours = OurPlatform(var / "ours", signups_per_address=signup_limit(args, bound_guess))
    peer = kc.Keycloak(var / "keycloak", version=args.keycloak_version)
    print(
        f"{stamp}: {platform.machine()}, {cores} cores, load average {os.getloadavg()[0]:.2f} "
        f"{os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}, Python {platform.python_version()}; "
        f"concurrency {args.concurrency}, {args.addresses} source addresses, "
        f"sign-up limit {ours.signups_per_address} per address per 10 min",
        flush=True,
    )
    try:
        peer.start()  # first: on a fresh clone this downloads and builds Keycloak
        ours.start()
        figures = asyncio.run(measure(args, ours, peer))
    finally:
        try:
            ours.stop()
        finally:
            peer.stop()
    shutil.rmtree(var, ignore_errors=True)  # kept after a failure: the servers' logs are there
    print(f"\nload average after the run {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print(table(*figures, cores))
    print(cpu_breakdown(figures[0]))
    print(cpu_breakdown(figures[1]))
    print(goals(*figures))
    results = ROOT / "var" / f"bench-peers-{stamp}.json"
    results.write_text(json.dumps({"args": vars(args), "sides": [as_json(f) for f in figures]}, indent=1))
    print(f"raw figures: {results.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
