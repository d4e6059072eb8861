"""Where a service's CPU goes under load: py-spy (installed in the venv by `make setup`) attached to the
running process; the collapsed stacks, summarised here per function, and drawn as a flame graph (SVG)."""

from __future__ import annotations

import html
import subprocess
import sys
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PY_SPY = Path(sys.executable).with_name("py-spy")
# A sample whose innermost frame is one of these waits rather than works (py-spy's idle detection misses
# some): left out of the summary.
IDLE_LEAVES = (
    "EpollSelector.select",
    "Condition.wait",
    "Queue.get",
    "Event.wait",
    "Thread.join",
    "_worker (concurrent/futures/thread.py:81)",  # a pool thread waiting for work (the hash pool's, mostly)
)


def _idle(frames: list[str]) -> bool:
    return bool(frames) and frames[-1].startswith(IDLE_LEAVES)


# Frames that are the password hash itself: argon2-cffi and its CFFI binding.
HASH_FRAMES = ("argon2/", "_argon2_cffi_bindings", "argon2_hasher.py")


def start_recording(pid: int, out: Path, seconds: int, rate: int = 67) -> subprocess.Popen[bytes]:
    """py-spy on ``pid`` for ``seconds``: collapsed stacks of the threads on CPU (idle ones left out) in
    ``out``.txt; :func:`flame_graph` draws them."""
    if not PY_SPY.exists():
        raise RuntimeError("py-spy is not in the venv: run `make setup`")
    out.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [
            *(str(PY_SPY), "record", "--pid", str(pid), "--rate", str(rate), "--duration", str(seconds)),
            *("--format", "raw", "--output", str(out.with_suffix(".txt"))),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def flame_graph(collapsed: Path, title: str) -> Path:
    """A self-contained SVG flame graph of collapsed stacks (hover a box for its function and share)."""
    root: dict[str, Any] = {"n": 0, "c": {}}
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        if _idle(stack.split(";")):
            continue
        node = root
        node["n"] += int(count)
        for frame in stack.split(";"):
            node = node["c"].setdefault(frame, {"n": 0, "c": {}})
            node["n"] += int(count)
    width, row = 1200.0, 16
    boxes: list[str] = []
    depth_max = 0

    def draw(node: dict[str, Any], name: str, x: float, depth: int) -> None:
        nonlocal depth_max
        w = width * node["n"] / max(root["n"], 1)
        if w < 0.5:
            return
        depth_max = max(depth_max, depth)
        label = html.escape(name)
        hue = 20 + (zlib.crc32(name.encode()) % 40)
        share = f"{node['n'] / max(root['n'], 1):.1%}"
        text = f'<text x="{x + 2:.1f}" y="{{y}}" font-size="11">{label[: int(w / 7)]}</text>' if w > 30 else ""
        boxes.append(
            f'<g><title>{label} ({share})</title><rect x="{x:.1f}" y="{{y}}" width="{w:.1f}" height="{row - 1}" '
            f'fill="hsl({hue},90%,60%)"/>{text}</g>|{depth}'
        )
        for child_name, child in sorted(node["c"].items()):
            draw(child, child_name, x, depth + 1)
            x += width * child["n"] / max(root["n"], 1)

    draw(root, f"{title}: all samples", 0.0, 0)
    height = (depth_max + 2) * row
    body = []
    for box in boxes:
        markup, _, depth = box.rpartition("|")
        body.append(markup.replace("{y}", str(height - (int(depth) + 1) * row)))
    svg = collapsed.with_suffix(".svg")
    svg.write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height}" font-family="monospace">'
        + "".join(body)
        + "</svg>\n"
    )
    return svg


def _function(frame: str) -> str:
    """``name (path:line)`` → ``name (path)``: a function's samples together, whatever line they were on."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rpartition(':')[0]})" if ":" in where else frame


OUR_CODE = ("(services/", "(eventing/", "(contracts/")


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
            if _idle(frames):
                continue
            samples += count
            if any(marker in f for f in frames for marker in HASH_FRAMES):
                hash_samples += count
                continue
            for frame in {_function(f) for f in frames}:
                inclusive[frame] += count
            if frames:
                leaf[_function(frames[-1])] += count
        return cls(samples, hash_samples, inclusive, leaf)

    def report(self, cpu_ms_per_op: float, top: int = 25) -> str:
        """The non-hash functions by share, in CPU ms per operation (the service's measured CPU per op split
        in proportion to the samples)."""
        per_sample = cpu_ms_per_op / self.samples if self.samples else 0.0
        lines = [
            f"  samples {self.samples}, of which password hash {self.hash_samples} "
            f"({self.hash_samples / max(self.samples, 1):.0%}) = {self.hash_samples * per_sample:.1f} ms/op; "
            f"the rest {(self.samples - self.hash_samples) * per_sample:.1f} ms/op",
        ]

        def listing(title: str, counts: Counter[str], keep: Callable[[str], bool]) -> None:
            lines.append(f"  {title:74} ms/op  share")
            for frame, count in [(f, c) for f, c in counts.most_common() if keep(f)][:top]:
                lines.append(f"  {frame[:74]:74} {count * per_sample:5.2f}  {count / max(self.samples, 1):5.1%}")

        listing("our code, inclusive (non-hash stacks)", self.inclusive, lambda f: any(m in f for m in OUR_CODE))
        listing(
            "any code, inclusive, below 15 % (the event loop's frames are above)",
            self.inclusive,
            lambda f: self.inclusive[f] < 0.15 * self.samples,
        )
        listing("self time (non-hash)", self.leaf, lambda f: True)
        return "\n".join(lines)


def main() -> None:
    """Summarise a saved profile again: ``profile.py COLLAPSED.txt CPU_MS_PER_OP`` (redraws its SVG too)."""
    collapsed, cpu_ms = Path(sys.argv[1]), float(sys.argv[2])
    flame_graph(collapsed, collapsed.stem)
    print(Profile.read(collapsed).report(cpu_ms))


if __name__ == "__main__":
    main()
