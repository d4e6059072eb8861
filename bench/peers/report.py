"""The side-by-side table: medians over the rounds, each side normalised by its own measured hash cost."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.peers.load import PhaseResult
from bench.peers.measure import HashCost


@dataclass
class SideFigures:
    name: str
    hash_params: str
    start_s: float
    idle_rss: int = 0
    rss_after_load: int = 0
    logins: list[PhaseResult] = field(default_factory=list)
    creations: list[PhaseResult] = field(default_factory=list)
    hashes: list[HashCost] = field(default_factory=list)

    @property
    def hash_bound(self) -> float:
        # A bound is the most the cores can hash: the best of the run's measurements. The median let
        # measurements taken while others loaded the machine shrink it (49.9/s on 2026-11-30 where the
        # same cores hash ~98/s when quiet), flattering the "÷ hash bound" ratios.
        return max(h.per_second for h in self.hashes)

    @property
    def hash_cpu_ms(self) -> float:
        return statistics.median(h.cpu_ms for h in self.hashes)


def median(results: list[PhaseResult], value: Callable[[PhaseResult], float]) -> float:
    return statistics.median(value(r) for r in results) if results else float("nan")


def spread(results: list[PhaseResult], value: Callable[[PhaseResult], float]) -> str:
    values = [value(r) for r in results]
    return f"{min(values):.1f}–{max(values):.1f}" if values else "–"


def table(ours: SideFigures, peer: SideFigures, cores: int) -> str:
    rows: list[tuple[str, str, str, str]] = []

    def row(label: str, a: float, b: float, fmt: str = "{:.1f}", ratio: bool = True) -> None:
        rows.append((label, fmt.format(a), fmt.format(b), f"{a / b:.2f}" if ratio and b else ""))

    rows.append(("password hash", ours.hash_params, peer.hash_params, ""))
    row("CPU of one hash, ms (argon2-cffi, this run)", ours.hash_cpu_ms, peer.hash_cpu_ms)
    row(f"hash bound: hashes/s on {cores} threads (best of the run)", ours.hash_bound, peer.hash_bound)
    for label, pick in (("password logins", "logins"), ("account creations", "creations")):
        a: list[PhaseResult] = getattr(ours, pick)
        b: list[PhaseResult] = getattr(peer, pick)
        rate_a, rate_b = median(a, lambda r: r.per_second), median(b, lambda r: r.per_second)
        row(f"{label}/s (median of {len(a)} rounds)", rate_a, rate_b)
        rows.append(("  range over rounds", spread(a, lambda r: r.per_second), spread(b, lambda r: r.per_second), ""))
        row("  ÷ hash bound", rate_a / ours.hash_bound, rate_b / peer.hash_bound, "{:.2f}")
        row("  p50 latency, ms", median(a, lambda r: r.p50_ms), median(b, lambda r: r.p50_ms), "{:.0f}")
        row(
            "  p99 latency, ms",
            median(a, lambda r: r.percentile_ms(0.99)),
            median(b, lambda r: r.percentile_ms(0.99)),
            "{:.0f}",
        )
        row(
            "  server CPU per operation, ms", median(a, lambda r: r.cpu_ms_per_op), median(b, lambda r: r.cpu_ms_per_op)
        )
        row(
            "  of which not the hash, ms",
            median(a, lambda r: r.cpu_ms_per_op) - ours.hash_cpu_ms,
            median(b, lambda r: r.cpu_ms_per_op) - peer.hash_cpu_ms,
        )
        # The same ratio as "÷ hash bound" but from CPU time, so it holds on a machine shared with others:
        # on dedicated cores, operations/s = cores ÷ CPU per operation and the bound = cores ÷ CPU per hash.
        row(
            "  hash CPU ÷ server CPU per operation",
            ours.hash_cpu_ms / median(a, lambda r: r.cpu_ms_per_op),
            peer.hash_cpu_ms / median(b, lambda r: r.cpu_ms_per_op),
            "{:.2f}",
        )
        refused_a: Counter[str] = sum((r.refused for r in a), Counter())
        refused_b: Counter[str] = sum((r.refused for r in b), Counter())
        rows.append(("  refused or failed (all rounds)", _counts(refused_a), _counts(refused_b), ""))
    row("idle memory after start (RSS, MiB)", ours.idle_rss / 2**20, peer.idle_rss / 2**20, "{:.0f}")
    row("memory after the load (RSS, MiB)", ours.rss_after_load / 2**20, peer.rss_after_load / 2**20, "{:.0f}")
    row("start-up to ready, s", ours.start_s, peer.start_s)
    width = max(len(r[0]) for r in rows)
    cols = [max(len(r[i]) for r in rows) for i in (1, 2)]
    head = f"{'':{width}}  {ours.name:>{cols[0]}}  {peer.name:>{cols[1]}}  ours/peer"
    body = [f"{r[0]:{width}}  {r[1]:>{cols[0]}}  {r[2]:>{cols[1]}}  {r[3]:>9}" for r in rows]
    return "\n".join([head, "-" * len(head), *body])


def goals(ours: SideFigures, peer: SideFigures) -> str:
    """Issue 16's two goals, read from this run."""
    signups = median(ours.creations, lambda r: r.per_second)
    by_cpu = ours.hash_cpu_ms / median(ours.creations, lambda r: r.cpu_ms_per_op)
    logins = median(ours.logins, lambda r: r.per_second) / median(peer.logins, lambda r: r.per_second)
    return (
        f"goal sign-ups ≥ 0.8 of the hash bound: {signups / ours.hash_bound:.2f} measured, {by_cpu:.2f} from CPU "
        f"time ({'met' if min(signups / ours.hash_bound, by_cpu) >= 0.8 else 'not met'}); goal logins ≥ 1.3× "
        f"{peer.name}'s: {logins:.2f}× ({'met' if logins >= 1.3 else 'not met'})"
    )


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{k}×{v}" for k, v in sorted(counter.items())) or "0"


def cpu_breakdown(side: SideFigures) -> str:
    """Server CPU per operation per process (median over rounds), e.g. registration, captcha, Kafka."""
    lines = []
    for label, results in (("login", side.logins), ("account creation", side.creations)):
        if not results:
            continue
        per_op = {n: median(results, lambda r, n=n: r.cpu_ms_per_op_of(n)) for n in results[0].server_cpu}  # type: ignore[misc]
        parts = ", ".join(f"{n} {ms:.1f}" for n, ms in sorted(per_op.items(), key=lambda item: -item[1]))
        client = median(results, lambda r: r.client_cpu / r.ok * 1000 if r.ok else float("nan"))
        lines.append(f"  {side.name} CPU ms per {label}: {parts} (load generator {client:.1f})")
    return "\n".join(lines)


def as_json(side: SideFigures) -> dict[str, Any]:
    def phase(r: PhaseResult) -> dict[str, Any]:
        return {
            "per_second": r.per_second,
            "ok": r.ok,
            "wall": r.wall,
            "p50_ms": r.p50_ms,
            "p99_ms": r.percentile_ms(0.99),
            "server_cpu": r.server_cpu,
            "client_cpu": r.client_cpu,
            "refused": dict(r.refused),
        }

    return {
        "name": side.name,
        "hash_params": side.hash_params,
        "start_s": side.start_s,
        "idle_rss": side.idle_rss,
        "rss_after_load": side.rss_after_load,
        "hashes": [{"per_second": h.per_second, "cpu_ms": h.cpu_ms, "threads": h.threads} for h in side.hashes],
        "logins": [phase(r) for r in side.logins],
        "creations": [phase(r) for r in side.creations],
    }
