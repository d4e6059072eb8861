"""The fault-injection run behind tests/faults and bench/fault_bench.py (issue 11).

A stack of its own (Kafka, Redis, nginx, an SMTP server the run controls, the four services under the
back-off supervisor of deploy/local/supervisor.py), then patient holders' journeys at a fixed concurrency
while faults are injected one after the other. Each phase lets its share of journeys start, injects its
fault while they are in flight, waits until the platform says it is ready again, and moves on. Then every
unfinished holder is checked once more (can they log in?), the mails are counted, and a table is printed.

Settings (environment): MCF_FAULT_JOURNEYS (60), MCF_FAULT_CONCURRENCY (6), MCF_FAULT_SMTP_DOWN_S (30;
the issue says a minute: set 60 for that), MCF_FAULT_LINK_PATIENCE_S (60).
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import time
from dataclasses import dataclass

import redis
from redis.asyncio import Redis

from tests.conftest import ROOT, TEST_ENV
from tests.support.fault_report import FaultReport, Phase, duplicate_mails
from tests.support.journey import Holder, nir_key
from tests.support.patient_holder import Holders, Journey, Patience
from tests.support.smtp_server import ControlledSmtpServer

# isort: split
# deploy/local/launcher.py, stack.py and supervisor.py, on the path tests.conftest sets
import launcher as local_services
import stack
from supervisor import Supervisor

READY_TIMEOUT_S = 120


@dataclass(frozen=True)
class FaultSettings:
    journeys: int = 60
    concurrency: int = 6
    smtp_down_s: float = 30
    link_patience_s: float = 60
    lead_in_s: float = 3  # journeys of a phase get going before its fault
    dwell_s: float = 4  # calm after the platform is ready again, before the next phase

    @classmethod
    def from_env(cls, **defaults: float) -> FaultSettings:
        base = cls(**defaults)  # type: ignore[arg-type]

        def env(name: str, default: float) -> float:
            return float(os.environ.get(f"MCF_FAULT_{name}", default))

        return cls(
            journeys=int(env("JOURNEYS", base.journeys)),
            concurrency=int(env("CONCURRENCY", base.concurrency)),
            smtp_down_s=env("SMTP_DOWN_S", base.smtp_down_s),
            link_patience_s=env("LINK_PATIENCE_S", base.link_patience_s),
        )


class FaultStack:
    """The platform the faults are injected into, started by the project's own scripts on free ports."""

    def __init__(self, tag: str) -> None:
        self.var = ROOT / "var" / f"faults-{tag}-{os.getpid()}"
        self.cache = ROOT / "var" / "cache"
        self.state: stack.StackState | None = None
        self.smtp: ControlledSmtpServer | None = None
        self.supervisor: Supervisor | None = None
        self.keep_logs = False
        self.mailer_kills: list[float] = []  # monotonic instants (the SMTP server stamps mails the same way)

    def __enter__(self) -> FaultStack:
        shutil.rmtree(self.var, ignore_errors=True)
        self.state = stack.up(self.var, stack.Ports.free(), with_maildev=False, with_nginx=True, cache=self.cache)
        self.smtp = ControlledSmtpServer(self.state.ports.smtp)
        self.smtp.start()
        local_services.start(self.state, extra_env=TEST_ENV)
        self.supervisor = Supervisor(self.state, extra_env=TEST_ENV)
        self.supervisor.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()
        if self.state is not None:
            local_services.stop(self.state)
        if self.smtp is not None:
            self.smtp.stop()
        stack.down(self.var)
        if self.keep_logs:
            stack.log(f"fault run: logs kept in {self.var / 'logs'}")
        else:
            shutil.rmtree(self.var, ignore_errors=True)

    @property
    def st(self) -> stack.StackState:
        assert self.state is not None
        return self.state

    @property
    def gateway(self) -> str:
        return f"http://{stack.LOOPBACK}:{self.st.ports.gateway}"

    def redis_url(self, service: str) -> str:
        return f"redis://{stack.LOOPBACK}:{self.st.ports.redis}/{local_services.REDIS_DB[service]}"

    # --- waiting for the platform ---------------------------------------------------------------------
    async def all_ready(self, timeout: float = READY_TIMEOUT_S) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            ready = await asyncio.gather(
                *(asyncio.to_thread(local_services.ready, self.st, n) for n in local_services.SERVICES)
            )
            if all(ready):
                return time.monotonic() - started
            await asyncio.sleep(0.5)
        raise TimeoutError(f"the platform was not ready again within {timeout:.0f} s")

    # --- the faults -----------------------------------------------------------------------------------
    async def crash(self, name: str) -> str:
        assert self.supervisor is not None
        if name == "mailer":
            self.mailer_kills.append(time.monotonic())
        old = self.supervisor.kill(name, signal.SIGKILL)
        started = time.monotonic()
        while not (self.supervisor.watched[name].pid != old and self.supervisor.is_ready(name)):
            if time.monotonic() - started > READY_TIMEOUT_S:
                raise TimeoutError(f"{name} not ready again within {READY_TIMEOUT_S} s of its crash")
            await asyncio.sleep(0.2)
        return f"{name} restarted by the supervisor, ready {time.monotonic() - started:.1f} s after SIGKILL"

    async def crash_kafka(self) -> str:
        pid = self.st.pids["kafka"]
        os.killpg(pid, signal.SIGKILL)
        started = time.monotonic()
        # A JVM's threads outlive its main thread for a moment, listening socket included: wait until
        # the port is closed, or the new broker would be taken for ready (or fail to bind).
        while stack.alive(pid) or stack.port_open(self.st.ports.kafka):
            await asyncio.sleep(0.1)
        await asyncio.to_thread(stack.start_kafka, self.st, self.cache)
        broker = time.monotonic() - started
        await self.all_ready()
        return f"broker back in {broker:.1f} s, every service ready {time.monotonic() - started:.1f} s after SIGKILL"

    async def flush(self, holders: Holders, *services: str) -> str:
        # Timed for the worst moment: a holder about to pass the check, so its events cross the wipe.
        await self._someone_mid_check(holders)
        started = time.monotonic()
        for name in services:
            client = redis.Redis.from_url(self.redis_url(name))
            try:
                await asyncio.to_thread(client.flushdb)
            finally:
                client.close()
        await asyncio.sleep(1)  # the services notice on their next look
        await self.all_ready()
        dbs = ", ".join(f"{n} (db {local_services.REDIS_DB[n]})" for n in services)
        return f"FLUSHDB {dbs}; every service ready {time.monotonic() - started:.1f} s later"

    @staticmethod
    async def _someone_mid_check(holders: Holders, patience_s: float = 20) -> None:
        waited = time.monotonic()
        while holders.in_check == 0 and time.monotonic() - waited < patience_s:
            await asyncio.sleep(0.05)

    async def wipe_captcha_mid_check(self, holders: Holders) -> str:
        await self._someone_mid_check(holders)
        mid_check = holders.in_check
        client = redis.Redis.from_url(self.redis_url("captcha"))
        try:
            await asyncio.to_thread(client.flushdb)
        finally:
            client.close()
        return f"captcha's Redis flushed with {mid_check} holder(s) mid-check"

    async def smtp_outage(self, seconds: float) -> str:
        assert self.smtp is not None
        self.smtp.stop()
        await asyncio.sleep(seconds)
        self.smtp.start()
        return f"SMTP server refused connections for {seconds:.0f} s"

    def phases(self, settings: FaultSettings, holders: Holders) -> list[Phase]:
        return [
            Phase("no fault", None),
            Phase("mailer SIGKILL", lambda: self.crash("mailer")),
            Phase("Kafka SIGKILL", self.crash_kafka),
            Phase("registration SIGKILL", lambda: self.crash("registration")),
            Phase("Redis flush reg.+mailer", lambda: self.flush(holders, "registration", "mailer")),
            Phase("rights SIGKILL", lambda: self.crash("rights")),
            Phase("captcha Redis wipe", lambda: self.wipe_captcha_mid_check(holders)),
            # Last: the mails held meanwhile go out while no new phase needs the journeys' slots.
            Phase(f"SMTP down {settings.smtp_down_s:.0f} s", lambda: self.smtp_outage(settings.smtp_down_s)),
        ]


# --- the run ------------------------------------------------------------------------------------------
def distinct_holders(n: int, rng: random.Random) -> list[Holder]:
    """``n`` made-up holders with distinct NIRs (a repeated NIR would be a second sign-up of one person)."""
    seen: set[str] = set()
    holders: list[Holder] = []
    while len(holders) < n:
        sex, year, month = rng.choice("12"), rng.randint(1960, 2004), rng.randint(1, 12)
        nir = f"{sex}{year % 100:02d}{month:02d}75{rng.randint(101, 120):03d}{rng.randint(1, 999):03d}"
        if nir not in seen:
            seen.add(nir)
            holders.append(Holder(nir, nir_key(nir), f"fault{len(holders)}.{nir}@example.org"))
    return holders


async def run_faults(fs: FaultStack, settings: FaultSettings) -> FaultReport:
    assert fs.smtp is not None
    captcha_redis = Redis.from_url(fs.redis_url("captcha"))
    holders = Holders(
        fs.gateway,
        fs.smtp,
        captcha_redis,
        Patience(mail_s=Patience.mail_s + settings.smtp_down_s, link_s=settings.link_patience_s),
    )
    started = time.monotonic()
    phases = fs.phases(settings, holders)
    people = distinct_holders(settings.journeys, random.Random())
    slots = asyncio.Semaphore(settings.concurrency)

    async def one(n: int, holder: Holder) -> tuple[int, Journey]:
        async with slots:
            return n, await holders.run(n, holder)

    tasks: list[asyncio.Task[tuple[int, Journey]]] = []
    share, extra = divmod(settings.journeys, len(phases))
    try:
        for index, phase in enumerate(phases):
            holders.phase = phase.name
            phase_started = time.monotonic()
            quota = share + (1 if index < extra else 0)
            for _ in range(quota):
                n = len(tasks)
                tasks.append(asyncio.create_task(one(n, people[n])))
                await asyncio.sleep(settings.lead_in_s / max(1, quota))
            if phase.inject is not None:
                phase.note = await phase.inject()
            await asyncio.sleep(settings.dwell_s)
            phase.seconds = time.monotonic() - phase_started
        done = await asyncio.gather(*tasks)
        holders.phase = "after"
        await fs.all_ready()
        exists = await asyncio.gather(*(holders.account_exists(n, journey) for n, journey in done))
        for (_n, journey), account in zip(done, exists, strict=True):
            journey.account_exists = account
        await asyncio.sleep(3)  # a duplicate mail would be on its way by now
        journeys = [j for _n, j in sorted(done, key=lambda d: d[0])]
        duplicates, details = duplicate_mails(fs.smtp, journeys, fs.mailer_kills)
        return FaultReport(phases, journeys, duplicates, holders, time.monotonic() - started, details)
    finally:
        for task in tasks:
            task.cancel()
        await captcha_redis.aclose()
