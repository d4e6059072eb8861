"""Our platform as the test suite runs it: Kafka, Redis and nginx from deploy/local/stack.py on free ports,
the four services from deploy/local/launcher.py, an SMTP server the bench controls (tests/support)."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import redis

from bench.peers import ROOT, launcher, stack
from bench.peers.load import Answer, Client
from tests.support.journey import Holder, activate_holder, nir_key
from tests.support.smtp_server import ControlledSmtpServer


def bench_holder(sequence: int, tag: str) -> Holder:
    """A made-up holder whose NIR is unique within one run (``sequence`` < 2.4 M): month, order number and
    commune vary fastest; never a real person's number (department 75, communes 101-120 as in the tests)."""
    month = 1 + sequence % 12
    order = 1 + (sequence // 12) % 999
    commune = 101 + (sequence // (12 * 999)) % 20
    year = 1960 + (sequence // (12 * 999 * 20)) % 40
    nir = f"{1 + sequence % 2}{year % 100:02d}{month:02d}75{commune:03d}{order:03d}"
    return Holder(nir, nir_key(nir), f"{tag}{sequence}@example.org")


@dataclass
class OurPlatform:
    var: Path
    signups_per_address: int
    name: str = "ours"
    state: stack.StackState | None = None
    smtp: ControlledSmtpServer | None = None
    login_holders: list[Holder] = field(default_factory=list)
    infra_start_s: float = 0.0
    services_start_s: float = 0.0

    @property
    def base_url(self) -> str:
        assert self.state is not None
        return f"http://{stack.LOOPBACK}:{self.state.ports.gateway}"

    def start(self, extra_env: dict[str, dict[str, str]] | None = None) -> None:
        shutil.rmtree(self.var, ignore_errors=True)
        started = time.monotonic()
        self.state = stack.up(
            self.var, stack.Ports.free(), with_maildev=False, with_nginx=True, cache=ROOT / "var" / "cache"
        )
        self.infra_start_s = time.monotonic() - started
        self.smtp = ControlledSmtpServer(self.state.ports.smtp)
        self.smtp.start()
        env = {name: {"MCF_LOG_LEVEL": "WARNING"} for name in launcher.SERVICES}
        # The limit stays on: the bench spreads its clients over enough addresses to stay under it.
        env["registration"]["MCF_SIGNUPS_PER_ADDRESS"] = str(self.signups_per_address)
        for name, more in (extra_env or {}).items():
            env[name].update(more)
        started = time.monotonic()
        launcher.start(self.state, extra_env=env)
        self.services_start_s = time.monotonic() - started

    def stop(self) -> None:
        if self.state is not None:
            launcher.stop(self.state)
        stack.down(self.var)  # whatever stack.up had started, even if it failed half-way
        if self.smtp is not None:
            self.smtp.stop()
        shutil.rmtree(self.var, ignore_errors=True)

    def processes(self) -> dict[str, int]:
        """Every server process of the platform (the broker and Redis included: sign-ups use them)."""
        assert self.state is not None
        wanted = (*launcher.SERVICES, "kafka", "redis", "nginx")
        return {name: self.state.pids[name] for name in wanted if name in self.state.pids}

    def storage_bytes(self) -> tuple[int, int]:
        """Redis's used memory (all databases) and the bytes of the topics' log segments (one replica,
        before any compaction; Kafka's own __ topics left out)."""
        assert self.state is not None
        client = redis.Redis(host=stack.LOOPBACK, port=self.state.ports.redis)
        try:
            used = int(client.info("memory")["used_memory"])
        finally:
            client.close()
        logs = Path(self.state.var) / "kafka" / "data"
        segments = sum(f.stat().st_size for f in logs.glob("*/*.log") if not f.parent.name.startswith("__"))
        return used, segments

    async def prepare_logins(self, count: int) -> None:
        """Active accounts to log in with, made by the whole journey (sign-up, check, mail, link)."""
        assert self.state is not None and self.smtp is not None
        captcha_redis = f"redis://{stack.LOOPBACK}:{self.state.ports.redis}/{launcher.REDIS_DB['captcha']}"
        holders = [bench_holder(2_000_000 + i, "login") for i in range(count)]
        sem = asyncio.Semaphore(4)
        async with httpx.AsyncClient(base_url=self.base_url, timeout=60) as http:

            async def activate(holder: Holder) -> None:
                async with sem:
                    await activate_holder(http, holder, captcha_redis, self.smtp)

            await asyncio.gather(*(activate(h) for h in holders))
        self.login_holders = holders

    async def create_account(self, http: Client, sequence: int) -> Answer:
        return await http.post("/api/v1/registrations", json=bench_holder(sequence, "signup").form())

    async def log_in(self, http: Client, sequence: int) -> Answer:
        holder = self.login_holders[sequence % len(self.login_holders)]
        return await http.post("/api/v1/sessions", json={"nir": holder.nir, "password": holder.password})

    # What each answer means for the table: sign-up accepted (202), session opened (201).
    create_status = 202
    login_status = 201

    @classmethod
    def for_bench(cls, name: str) -> OurPlatform:
        """A platform for one of the one-stack bench scripts, in var/NAME-PID, run at nice 10 (with this
        process): the per-address sign-up limit lifted to what a bench run cannot reach."""
        if os.nice(0) < 5:
            os.nice(10)
        return cls(ROOT / "var" / f"{name}-{os.getpid()}", signups_per_address=100_000)
