"""Mailer throughput: mails per second through a real SMTP server on loopback.

Run from the repository root:  .venv/bin/python bench/mailer_bench.py [--seconds 5] [--redis redis://…/15]

What is measured, all with the service's own code (``compose``, ``SmtpMailer``, ``MailSender``):

1. ``compose`` alone: templates rendered (Jinja, French, text + HTML) into a multipart message;
2. ``SmtpMailer.send`` of pre-composed confirmation mails to an aiosmtpd server that accepts and drops
   every message, run in a **separate process** (so server and client do not share a GIL), for several
   pool sizes, with twice as many concurrent callers as pooled sessions; p50/p99 are per-send latencies;
3. with ``--redis``: the full queue — jobs enqueued in Redis, claimed by ``MailSender`` workers, composed,
   sent, completed (events are published to a null publisher: Kafka is not measured here). The Redis
   database given is flushed first: point it at a scratch one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from contracts.links import link_token
from services.mailer.adapters.smtp import SmtpMailer, SmtpSettings
from services.mailer.adapters.templates import JinjaTemplateRenderer
from services.mailer.domain.links import ConfirmationLink
from services.mailer.domain.mail import ConfirmationMail, compose
from services.mailer.domain.policies import RecipientCap, RetryPolicy
from services.mailer.domain.settings import MailSettings

SETTINGS = MailSettings(public_base_url="https://moncompteformation.example")
LINK_KEY = os.urandom(32)  # the links' tokens are derived from it and the mail id (contracts.links)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_sink(port: int) -> subprocess.Popen[bytes]:
    """aiosmtpd's Sink handler (accepts and drops) in a child process, on loopback."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Sink"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("SMTP sink did not start")


def confirmation(renderer: JinjaTemplateRenderer, i: int) -> EmailMessage:
    now = datetime.now(UTC)
    token = link_token(LINK_KEY, f"confirmation:bench-{i}:first")
    link = ConfirmationLink.build(SETTINGS, token, now, now + timedelta(hours=24))
    mail = ConfirmationMail(to=f"titulaire.{i}@example.org", first_name="Chloé", link=link)
    return compose(mail, settings=SETTINGS, renderer=renderer, event_id=str(uuid.uuid4()), now=now).message


@dataclass
class Row:
    name: str
    mails: int
    seconds: float
    p50_ms: float | None = None
    p99_ms: float | None = None

    @property
    def rate(self) -> float:
        return self.mails / self.seconds


def pct(samples: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(sorted(samples), n=100, method="inclusive")
    return q[49] * 1000, q[98] * 1000


def bench_compose(renderer: JinjaTemplateRenderer, seconds: float) -> Row:
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        confirmation(renderer, n)
        n += 1
    return Row("compose only (confirmation, text + HTML)", n, time.perf_counter() - start)


async def bench_smtp(port: int, messages: list[EmailMessage], pool: int, seconds: float) -> Row:
    mailer = SmtpMailer(SmtpSettings(host="127.0.0.1", port=port, pool_size=pool, timeout=10))
    latencies: list[float] = []
    sent = 0
    stop_at = time.perf_counter() + seconds

    async def caller(offset: int) -> None:
        nonlocal sent
        i = offset
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            await mailer.send(messages[i % len(messages)])
            latencies.append(time.perf_counter() - started)
            sent += 1
            i += 2 * pool

    await mailer.send(messages[0])  # open one session before the clock starts
    start = time.perf_counter()
    await asyncio.gather(*(caller(k) for k in range(2 * pool)))
    elapsed = time.perf_counter() - start
    await mailer.close()
    p50, p99 = pct(latencies)
    return Row(f"SmtpMailer.send, pool {pool}, {2 * pool} callers", sent, elapsed, p50, p99)


class NullPublisher:
    async def publish(self, *_args: Any, **_kwargs: Any) -> object:
        return None


async def bench_queue(port: int, redis_url: str, renderer: JinjaTemplateRenderer, n: int, workers: int) -> Row:
    from redis.asyncio import Redis

    from services.mailer.adapters.redis_state import MailerState
    from services.mailer.domain.jobs import MailJob
    from services.mailer.use_cases.sending import MailSender

    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    # No Kafka here: the journal (one produce per queued and per sent mail) is left out of this figure.
    async def no_journal(_record: object) -> None:
        return None

    state = MailerState(redis, no_journal)
    now = datetime.now(UTC)
    for i in range(n):
        await state.enqueue(
            MailJob(
                job_id=f"confirmation:bench-{i}:first",
                kind="confirmation",
                to=f"titulaire.{i}@example.org",
                first_name="Chloé",
                cause_event_id=str(uuid.uuid4()),
                correlation_id=f"bench-{i}",
                subject_id=f"bench-{i}",
                link_issued_at=now.isoformat(),
                link_expires_at=(now + timedelta(hours=24)).isoformat(),
            ),
            now,
        )
    smtp = SmtpMailer(SmtpSettings(host="127.0.0.1", port=port, pool_size=2, timeout=10))
    sender = MailSender(
        state,
        smtp,
        NullPublisher(),
        LINK_KEY,  # the sender derives each link's token while composing, as in the service
        renderer,
        SETTINGS,
        RetryPolicy(base_delay=timedelta(seconds=0.1), max_delay=timedelta(seconds=1)),
        RecipientCap(max_mails=10**9),
        idle_s=0.01,
    )
    start = time.perf_counter()
    running = asyncio.create_task(sender.run(workers))
    while await state.queued():  # noqa: ASYNC110 - polling Redis, not a local condition
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - start
    sender.stop()
    await running
    await smtp.close()
    sent = sum([1 for i in range(n) if await state.was_sent(f"confirmation:bench-{i}:first")])
    await redis.flushdb()
    await redis.aclose()
    return Row(f"full queue: Redis + MailSender ({workers} workers, pool 2)", sent, elapsed)


def table(rows: list[Row]) -> str:
    header = ("path", "mails", "seconds", "mails/s", "p50 ms", "p99 ms")
    cells = [
        (
            r.name,
            str(r.mails),
            f"{r.seconds:.2f}",
            f"{r.rate:,.0f}",
            "-" if r.p50_ms is None else f"{r.p50_ms:.2f}",
            "-" if r.p99_ms is None else f"{r.p99_ms:.2f}",
        )
        for r in rows
    ]
    widths = [max(len(c[k]) for c in [header, *cells]) for k in range(len(header))]

    def fmt(c: tuple[str, ...]) -> str:
        return "  ".join(v.ljust(w) if k == 0 else v.rjust(w) for k, (v, w) in enumerate(zip(c, widths, strict=True)))

    lines = [fmt(header), "-" * len(fmt(header)), *(fmt(c) for c in cells)]
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> list[Row]:
    renderer = JinjaTemplateRenderer()
    rows = [bench_compose(renderer, min(args.seconds, 2.0))]
    messages = [confirmation(renderer, i) for i in range(200)]
    port = free_port()
    sink = start_sink(port)
    try:
        for pool in args.pools:
            rows.append(await bench_smtp(port, messages, pool, args.seconds))
        if args.redis:
            rows.append(await bench_queue(port, args.redis, renderer, args.queue_mails, args.workers))
    finally:
        sink.terminate()
        sink.wait(5)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each SMTP run")
    parser.add_argument("--pools", type=int, nargs="+", default=[1, 2, 4], help="SMTP pool sizes to try")
    parser.add_argument("--redis", help="Redis URL of a scratch database, to measure the full queue")
    parser.add_argument("--queue-mails", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4, help="MailSender workers (the service's default)")
    args = parser.parse_args()
    rows = asyncio.run(run(args))
    print(
        f"mailer benchmark — {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} logical CPUs; SMTP: aiosmtpd Sink in a child process on 127.0.0.1\n"
    )
    print(table(rows))


if __name__ == "__main__":
    main()
