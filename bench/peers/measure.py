"""What the side-by-side bench reads from the machine: CPU time and memory of server processes (/proc),
and the cost of one password hash at a given set of argon2id parameters (argon2-cffi, in this process)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import argon2

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: the fields start after the last ')'.
    return raw[raw.rindex(")") + 2 :].split()


def process_tree(root: int) -> list[int]:
    """``root`` and every process below it (a launcher script's JVM, a worker pool's children)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_seconds(root: int) -> float:
    """User + system CPU time spent so far by ``root``'s process tree (live processes, plus the children
    they have reaped)."""
    total = 0
    for pid in process_tree(root):
        if (fields := _stat_fields(pid)) is not None:
            # utime, stime, cutime, cstime are fields 14-17 of /proc/PID/stat (indexes 11-14 after the name).
            total += sum(int(f) for f in fields[11:15])
    return total / TICKS


def rss_bytes(root: int) -> int:
    total = 0
    for pid in process_tree(root):
        if (fields := _stat_fields(pid)) is not None:
            total += int(fields[21]) * PAGE
    return total


def cpu_by_process(processes: dict[str, int]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in processes.items()}


def rss_total(pids: Iterable[int]) -> int:
    return sum(rss_bytes(pid) for pid in pids)


@dataclass(frozen=True)
class Argon2Params:
    """argon2id parameters; ``memory_kib`` in KiB as argon2-cffi and Keycloak's settings count it."""

    label: str
    memory_kib: int
    time_cost: int
    parallelism: int = 1
    hash_len: int = 32
    salt_len: int = 16

    def hasher(self) -> argon2.PasswordHasher:
        return argon2.PasswordHasher(
            time_cost=self.time_cost,
            memory_cost=self.memory_kib,
            parallelism=self.parallelism,
            hash_len=self.hash_len,
            salt_len=self.salt_len,
            type=argon2.Type.ID,
        )

    def __str__(self) -> str:
        return f"argon2id m={self.memory_kib} KiB, t={self.time_cost}, p={self.parallelism}"


@dataclass(frozen=True)
class HashCost:
    params: Argon2Params
    threads: int
    per_second: float  # hashes per second with ``threads`` threads hashing side by side
    cpu_ms: float  # CPU time of one hash (thread time), median of the threads' averages


def measure_hash(params: Argon2Params, threads: int, seconds: float) -> HashCost:
    """Hashes per second with ``threads`` threads (argon2-cffi releases the GIL), as the servers hash."""
    hasher = params.hasher()
    hasher.hash("warm-up")
    counts = [0] * threads
    cpu = [0.0] * threads
    stop = time.monotonic() + seconds

    def work(slot: int) -> None:
        started = time.thread_time()
        while time.monotonic() < stop:
            hasher.hash("Tr0mpette-Bleue")
            counts[slot] += 1
        cpu[slot] = time.thread_time() - started

    started = time.monotonic()
    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.monotonic() - started
    per_hash = sorted(cpu[i] / counts[i] * 1000 for i in range(threads) if counts[i])
    return HashCost(params, threads, sum(counts) / wall, per_hash[len(per_hash) // 2])
