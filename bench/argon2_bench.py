"""Password hashing at OWASP argon2id parameters (m=19 MiB, t=2, p=1): the cost of a sign-up or a login.

    .venv/bin/python bench/argon2_bench.py [--seconds 5]

Prints hashes and verifies per second on one core, and the latency distribution. One hash is a
sign-up's or a password reset's main CPU cost; one verify is a login's.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

from services.registration.adapters.argon2_hasher import Argon2PasswordHasher


def measure(fn: object, seconds: float) -> list[float]:
    assert callable(fn)
    samples: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    hasher = Argon2PasswordHasher()
    stored = hasher.hash("Tr0mpette-Bleue")
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"{'operation':<12}{'per s/core':>12}{'p50 ms':>10}{'p99 ms':>10}{'n':>6}")
    for name, fn in (
        ("hash", lambda: hasher.hash("Tr0mpette-Bleue")),
        ("verify", lambda: hasher.verify(stored, "Tr0mpette-Bleue")),
    ):
        samples = measure(fn, args.seconds)
        print(
            f"{name:<12}{len(samples) / sum(samples):>12.1f}{statistics.median(samples) * 1000:>10.1f}"
            f"{pct(samples, 0.99):>10.1f}{len(samples):>6}"
        )


if __name__ == "__main__":
    main()
