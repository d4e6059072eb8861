"""Sign-ups through the real platform: HTTP → registration (argon2id) → Kafka → captcha → Kafka → registration.

    .venv/bin/python bench/journey_bench.py [--signups 200] [--concurrency 8]

Starts its own stack with the project's scripts (Kafka from Maven jars, Redis, nginx, the four services,
an SMTP server on loopback) on free ports, then measures:
- accepted sign-ups per second through the gateway (each one hashes a password with argon2id),
- the latency of POST /api/v1/registrations (p50/p99),
- the event round trip until the request's security check is visible in its status (p50/p99),
- full journeys (sign-up → captcha passed → confirmation mail received → link followed → active).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy" / "local"))
sys.path.insert(0, str(ROOT))

import launcher  # noqa: E402
import stack  # noqa: E402

from tests.support.journey import Holder, activate_holder, current_challenge  # noqa: E402
from tests.support.smtp_server import ControlledSmtpServer  # noqa: E402


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def run(args: argparse.Namespace, state: stack.StackState, smtp: ControlledSmtpServer) -> None:
    base = f"http://{stack.LOOPBACK}:{state.ports.gateway}"
    limits = httpx.Limits(max_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        holders = [Holder.new(f"bench{i}") for i in range(args.signups)]
        post_latency: list[float] = []
        ids: list[str] = []
        sem = asyncio.Semaphore(args.concurrency)

        async def one(h: Holder) -> None:
            async with sem:
                started = time.perf_counter()
                resp = await http.post("/api/v1/registrations", json=h.form())
                post_latency.append(time.perf_counter() - started)
                assert resp.status_code == 202, resp.text
                ids.append(resp.json()["request_id"])

        wall = time.perf_counter()
        await asyncio.gather(*(one(h) for h in holders))
        wall = time.perf_counter() - wall

        round_trip: list[float] = []
        for i in range(30):
            started = time.perf_counter()
            resp = await http.post("/api/v1/registrations", json=Holder.new(f"rt{i}").form())
            assert resp.status_code == 202, resp.text
            await current_challenge(http, resp.json()["request_id"], timeout=60)
            round_trip.append(time.perf_counter() - started)

        journeys: list[float] = []
        for i in range(args.journeys):
            h = Holder.new(f"journey{i}")
            started = time.perf_counter()
            await activate_holder(http, h, f"redis://{stack.LOOPBACK}:{state.ports.redis}/1", smtp)
            journeys.append(time.perf_counter() - started)

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; stack and bench share them")
    print(f"sign-ups accepted: {len(ids)} in {wall:.1f} s = {len(ids) / wall:.1f}/s (concurrency {args.concurrency})")
    print(
        f"POST /api/v1/registrations: p50 {statistics.median(post_latency) * 1000:.0f} ms, "
        f"p99 {pct(post_latency, 0.99):.0f} ms"
    )
    if round_trip:
        print(
            f"sign-up → challenge visible in status (HTTP + 2 Kafka hops): p50 "
            f"{statistics.median(round_trip) * 1000:.0f} ms, p99 {pct(round_trip, 0.99):.0f} ms (n={len(round_trip)})"
        )
    if journeys:
        print(
            f"full journey to an active account (4 Kafka hops, 1 mail): p50 "
            f"{statistics.median(journeys) * 1000:.0f} ms, max {max(journeys) * 1000:.0f} ms (n={len(journeys)})"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--signups", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--journeys", type=int, default=10)
    args = parser.parse_args()
    var = ROOT / "var" / f"bench-{os.getpid()}"
    state = stack.up(var, stack.Ports.free(), with_maildev=False, with_nginx=True, cache=ROOT / "var" / "cache")
    smtp = ControlledSmtpServer(state.ports.smtp)
    smtp.start()
    try:
        env = {n: {"MCF_LOG_LEVEL": "WARNING"} for n in launcher.SERVICES}
        env["registration"]["MCF_SIGNUPS_PER_ADDRESS"] = "1000000"  # one load generator, one address
        launcher.start(state, extra_env=env)
        asyncio.run(run(args, state, smtp))
    finally:
        launcher.stop(state)
        smtp.stop()
        stack.down(var)
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    main()
