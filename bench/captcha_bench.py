"""Captcha throughput: challenges issued per second per core, and render latencies.

Run from the repository root:  .venv/bin/python bench/captcha_bench.py [--seconds 5] [--audio 30]

Single-threaded on purpose: the figure is "per core"; the service scales it with render workers
(threads, since Pillow releases the GIL in its C work, or processes). "Issued" means what the service
does for one challenge on the image path: domain issuing plus rendering every picture of the
challenge; the audio clip is rendered only when someone asks for it, so it is measured apart (its cost
is mostly in the espeak-ng and sox child processes, wall-clock time is reported).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import secrets
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

from services.captcha.adapters.audio import render_audio
from services.captcha.adapters.pictures import PictogramRenderer
from services.captcha.adapters.text_image import render_text_challenge
from services.captcha.domain import VOCABULARY, ChallengeKind, ChallengeSettings, issue_challenge


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return q[49] * 1000, q[98] * 1000, ordered[-1] * 1000


def _time_each(n: int, fn: Callable[[int], object]) -> list[float]:
    samples = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        samples.append(time.perf_counter() - start)
    return samples


def _rate(seconds: float, step: Callable[[], object]) -> tuple[float, int]:
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        step()
        done += 1
    return done / elapsed, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each throughput run")
    parser.add_argument("--pictures", type=int, default=500, help="single-picture renders to time")
    parser.add_argument("--audio", type=int, default=30, help="audio clips to time (per format)")
    parser.add_argument("--choices", type=int, default=5, choices=(5, 6))
    args = parser.parse_args()

    rng = secrets.SystemRandom()
    settings = ChallengeSettings(choice_count=args.choices)
    now = datetime.now(UTC)

    start = time.perf_counter()
    renderer = PictogramRenderer()
    renderer.prewarm()
    prewarm_ms = (time.perf_counter() - start) * 1000

    rows: list[tuple[str, str, str, str, str]] = []

    def latency(name: str, samples: list[float]) -> None:
        p50, p99, worst = _percentiles(samples)
        rows.append((name, str(len(samples)), f"{p50:.1f}", f"{p99:.1f}", f"{worst:.1f}"))

    seeds = [rng.getrandbits(64) for _ in range(args.pictures)]
    latency(
        "picture (PNG 128x128)",
        _time_each(args.pictures, lambda i: renderer.render(VOCABULARY[i % len(VOCABULARY)].emoji, seeds[i])),
    )
    webp = PictogramRenderer(image_format="WEBP")
    webp.prewarm()
    latency(
        "picture (WebP 128x128)",
        _time_each(args.pictures // 2, lambda i: webp.render(VOCABULARY[i % len(VOCABULARY)].emoji, seeds[i])),
    )
    text_settings = ChallengeSettings(kind=ChallengeKind.TEXT)
    texts = [
        issue_challenge("bench", random.Random(i), now, text_settings).expected.characters or "" for i in range(200)
    ]
    latency("text image (PNG 240x80)", _time_each(200, lambda i: render_text_challenge(texts[i].upper(), i)))
    latency(
        "audio WAV (word said twice)",
        _time_each(args.audio, lambda i: render_audio(VOCABULARY[i % len(VOCABULARY)].word, i)),
    )
    latency(
        "audio OGG (word said twice)",
        _time_each(
            max(2, args.audio // 3),
            lambda i: render_audio(VOCABULARY[i % len(VOCABULARY)].word, i, audio_format="ogg"),
        ),
    )

    def issue_only() -> object:
        return issue_challenge("bench-request", rng, now, settings)

    def issue_and_render() -> object:
        ch = issue_challenge("bench-request", rng, now, settings)
        return [renderer.render(c.pictogram.emoji, c.choice_id) for c in ch.choices]

    domain_rate, _ = _rate(min(args.seconds, 2.0), issue_only)
    full_rate, full_n = _rate(args.seconds, issue_and_render)

    print(
        f"captcha benchmark — {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs, 1 thread"
    )
    print(f"glyph cache prewarm: {len(VOCABULARY)} glyphs in {prewarm_ms:.0f} ms\n")
    header = ("render", "n", "p50 ms", "p99 ms", "max ms")
    widths = [max(len(r[k]) for r in [*rows, header]) for k in range(5)]
    line = "  ".join(h.ljust(w) if k == 0 else h.rjust(w) for k, (h, w) in enumerate(zip(header, widths, strict=True)))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(c.ljust(w) if k == 0 else c.rjust(w) for k, (c, w) in enumerate(zip(r, widths, strict=True))))
    print()
    full_label = f"challenges issued / s / core (domain + {args.choices} pictures)"
    print(f"{'challenges issued / s / core (domain only)':<58} {domain_rate:>10,.0f}")
    print(f"{full_label:<58} {full_rate:>10,.1f}   ({full_n} in {args.seconds:.0f} s)")


if __name__ == "__main__":
    main()
