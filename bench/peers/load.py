"""The one load generator both sides get: closed-loop async clients, spread over several loopback source
addresses (127.0.0.2, 127.0.0.3…) so that per-address limits stay on and see many addresses, as in life."""

from __future__ import annotations

import asyncio
import itertools
import resource
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import httpx

from bench.peers.http1 import Http1Client, HttpError
from bench.peers.measure import cpu_by_process


class Answer(Protocol):
    @property
    def status_code(self) -> int: ...


class Client(Protocol):
    """What an operation sends with: the light client (``http1``) or httpx, which the bench used first."""

    async def post(
        self, url: str, /, *, data: Mapping[str, str] | None = None, json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer: ...  # fmt: skip


# One operation: given a client (bound to one source address) and a sequence number, send one request.
Operation = Callable[[Client, int], Awaitable[Answer]]
ClientKind = Literal["light", "httpx"]


def source_addresses(count: int) -> list[str]:
    """127.0.0.2 … : the whole 127/8 is loopback on Linux, so a client can bind any of them."""
    return [f"127.0.{(i + 2) // 256}.{(i + 2) % 256}" for i in range(count)]


class SourcePool:
    """One HTTP client per source address; requests take them in turn. The light client by default:
    httpx spent about 2 ms of CPU per request on the cores the servers share (``clients.py``)."""

    def __init__(self, base_url: str, addresses: list[str], timeout: float = 60, kind: ClientKind = "light") -> None:
        self.clients: list[Http1Client | httpx.AsyncClient] = [
            Http1Client(base_url, address, timeout, max_connections=4)
            if kind == "light"
            else httpx.AsyncClient(
                base_url=base_url,
                timeout=timeout,
                transport=httpx.AsyncHTTPTransport(local_address=address),
                limits=httpx.Limits(max_connections=4, max_keepalive_connections=2),
            )
            for address in addresses
        ]
        self._turn = itertools.count()

    def next(self) -> Http1Client | httpx.AsyncClient:
        return self.clients[next(self._turn) % len(self.clients)]

    async def aclose(self) -> None:
        await asyncio.gather(*(c.aclose() for c in self.clients))


@dataclass
class PhaseResult:
    side: str
    operation: str
    ok: int
    wall: float
    latencies: list[float]
    refused: Counter[str] = field(default_factory=Counter)
    server_cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per server process
    client_cpu: float = 0.0  # the load generator's own CPU seconds (it shares the cores)

    @property
    def per_second(self) -> float:
        return self.ok / self.wall if self.wall else 0.0

    def percentile_ms(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else float("nan")

    @property
    def cpu_ms_per_op(self) -> float:
        return sum(self.server_cpu.values()) / self.ok * 1000 if self.ok else float("nan")

    def cpu_ms_per_op_of(self, process: str) -> float:
        return self.server_cpu.get(process, 0.0) / self.ok * 1000 if self.ok else float("nan")


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run_phase(
    side: str,
    operation: str,
    op: Operation,
    expected_status: int,
    pool: SourcePool,
    *,
    seconds: float,
    concurrency: int,
    sequence: itertools.count[int],
    processes: dict[str, int],
) -> PhaseResult:
    """``concurrency`` clients, each sending its next request as soon as the previous one is answered, for
    ``seconds``; only answers with ``expected_status`` count, the others are tallied by status."""
    result = PhaseResult(side, operation, 0, 0.0, [])
    deadline = time.monotonic() + seconds

    async def client_loop() -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                resp = await op(pool.next(), next(sequence))
            except (HttpError, httpx.HTTPError) as exc:
                result.refused[type(exc).__name__] += 1
                continue
            if resp.status_code == expected_status:
                result.ok += 1
                result.latencies.append(time.perf_counter() - started)
            else:
                result.refused[str(resp.status_code)] += 1

    cpu_before, client_before = cpu_by_process(processes), _self_cpu()
    started = time.monotonic()
    await asyncio.gather(*(client_loop() for _ in range(concurrency)))
    result.wall = time.monotonic() - started
    cpu_after = cpu_by_process(processes)
    result.server_cpu = {name: cpu_after[name] - cpu_before[name] for name in processes}
    result.client_cpu = _self_cpu() - client_before
    return result


def summary(rounds: list[PhaseResult]) -> str:
    """The rounds of one phase in a line: median rate (and each round's), p50, servers' CPU per operation."""
    return (
        f"{statistics.median(r.per_second for r in rounds):.1f}/s "
        f"(rounds {', '.join(f'{r.per_second:.1f}' for r in rounds)}), "
        f"p50 {statistics.median(r.p50_ms for r in rounds):.0f} ms, "
        f"CPU/op {statistics.median(r.cpu_ms_per_op for r in rounds):.1f} ms"
    )
