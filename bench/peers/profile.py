"""Where a service's CPU goes under load: py-spy (installed in the venv by `make setup`) attached to the
running process; a flame graph (SVG) to look at and the collapsed stacks, summarised here per function."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

PY_SPY = Path(sys.executable).with_name("py-spy")
# Frames that are the password hash itself: argon2-cffi and its CFFI binding.
HASH_FRAMES = ("argon2/", "_argon2_cffi_bindings", "argon2_hasher.py")


def start_recording(pid: int, out: Path, seconds: int, rate: int = 67) -> list[subprocess.Popen[bytes]]:
    """Two samplers on ``pid`` (without pausing it): ``out``.svg (flame graph) and ``out``.txt (collapsed)."""
    if not PY_SPY.exists():
        raise RuntimeError("py-spy is not in the venv: run `make setup`")
    out.parent.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [
                str(PY_SPY),
                "record",
                "--pid",
                str(pid),
                "--rate",
                str(rate),
                "--duration",
                str(seconds),
                "--nonblocking",
                "--format",
                fmt,
                "--output",
                str(out.with_suffix(suffix)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for fmt, suffix in (("flamegraph", ".svg"), ("raw", ".txt"))
    ]


@dataclass
class Profile:
    samples: int
    hash_samples: int
    inclusive: Counter[str]  # samples whose stack holds the function (each stack counted once)
    leaf: Counter[str]  # samples in which the function was running itself

    @classmethod
    def read(cls, collapsed: Path) -> Profile:
        samples = hash_samples = 0
        inclusive: Counter[str] = Counter()
        leaf: Counter[str] = Counter()
        for line in collapsed.read_text().splitlines():
            stack, _, count_text = line.rpartition(" ")
            if not stack:
                continue
            count = int(count_text)
            frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
            samples += count
            if any(marker in f for f in frames for marker in HASH_FRAMES):
                hash_samples += count
                continue
            for frame in set(frames):
                inclusive[frame] += count
            if frames:
                leaf[frames[-1]] += count
        return cls(samples, hash_samples, inclusive, leaf)

    def report(self, cpu_ms_per_op: float, top: int = 25) -> str:
        """The non-hash functions by share, in CPU ms per operation (the service's measured CPU per op split
        in proportion to the samples)."""
        per_sample = cpu_ms_per_op / self.samples if self.samples else 0.0
        lines = [
            f"  samples {self.samples}, of which password hash {self.hash_samples} "
            f"({self.hash_samples / max(self.samples, 1):.0%}) = {self.hash_samples * per_sample:.1f} ms/op; "
            f"the rest {(self.samples - self.hash_samples) * per_sample:.1f} ms/op",
            "  inclusive (non-hash stacks)                                               ms/op   share",
        ]
        for frame, count in self.inclusive.most_common(top):
            lines.append(f"  {frame[:72]:72} {count * per_sample:6.2f}  {count / self.samples:5.1%}")
        lines.append("  self time (non-hash)")
        for frame, count in self.leaf.most_common(top // 2):
            lines.append(f"  {frame[:72]:72} {count * per_sample:6.2f}  {count / self.samples:5.1%}")
        return "\n".join(lines)
