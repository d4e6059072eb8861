"""Restart a crashed service with back-off, as Kubernetes restarts a crashed container (CrashLoopBackOff).

A service that stops unexpectedly is started again after 1 s, then 2 s, 4 s … up to ``max_s`` if it keeps
crashing; once it has stayed up for ``stable_s`` the next crash starts over at 1 s. Every decision is said
on stderr, so ``make run``'s output tells the operator what happened. Used by ``make run`` (deploy/local/
run.py, one ``tick`` per loop) and by the fault-injection suite (tests/faults, ``start`` in a thread).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import launcher
import stack


@dataclass(frozen=True)
class BackOff:
    first_s: float = 1.0
    max_s: float = 30.0
    stable_s: float = 30.0  # up this long: the next crash is a first crash again

    def delay(self, crashes_in_a_row: int) -> float:
        return float(min(self.max_s, self.first_s * 2 ** max(0, crashes_in_a_row - 1)))


@dataclass
class Watched:
    name: str
    pid: int
    started_at: float
    ready_at: float | None = None
    crashes_in_a_row: int = 0
    restart_at: float | None = None  # set while a crashed service waits out its back-off
    restarts: int = 0
    history: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, what happened)


def exit_description(pid: int) -> str:
    """How the process ended, when we are its parent and it has not been reaped yet."""
    deadline = time.monotonic() + 2  # its other threads may still be going down for a moment
    while True:
        try:
            reaped, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return "exit status unknown"
        if reaped or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if reaped == 0:
        return "exiting, status not known yet"
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.WEXITSTATUS(status)}"


class Supervisor:
    def __init__(
        self,
        state: stack.StackState,
        names: tuple[str, ...] = launcher.SERVICES,
        extra_env: dict[str, dict[str, str]] | None = None,
        backoff: BackOff | None = None,
        say: Callable[[str], None] = stack.log,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.state = state
        self.extra_env = extra_env or {}
        self.backoff = backoff or BackOff()
        self.say = say
        self.clock = clock
        now = clock()
        self.watched = {
            n: Watched(n, state.pids[n], started_at=now, ready_at=now if launcher.ready(state, n) else None)
            for n in names
        }
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- one pass -------------------------------------------------------------------------------------
    def tick(self) -> None:
        with self._lock:
            for w in self.watched.values():
                self._check(w, self.clock())

    def _check(self, w: Watched, now: float) -> None:
        if w.restart_at is not None:
            if now >= w.restart_at:
                w.pid = launcher.spawn(self.state, w.name, self.extra_env.get(w.name))
                self.state.save()
                w.restart_at, w.started_at, w.ready_at = None, now, None
                w.restarts += 1
                self._note(w, now, f"{w.name} restarted (pid {w.pid}, restart {w.restarts})")
            return
        if stack.alive(w.pid):
            if w.ready_at is None and launcher.ready(self.state, w.name):
                w.ready_at = now
                if w.restarts:
                    self._note(w, now, f"{w.name} ready again, {now - w.started_at:.1f} s after its restart")
            if w.crashes_in_a_row and now - w.started_at >= self.backoff.stable_s:
                w.crashes_in_a_row = 0
            return
        w.crashes_in_a_row += 1
        delay = self.backoff.delay(w.crashes_in_a_row)
        w.restart_at = now + delay
        log = Path(self.state.var) / "logs" / f"{w.name}.log"
        self._note(
            w,
            now,
            f"{w.name} stopped unexpectedly ({exit_description(w.pid)}); restarting in {delay:g} s "
            f"(crash {w.crashes_in_a_row} in a row); see {log}",
        )

    def _note(self, w: Watched, now: float, message: str) -> None:
        w.history.append((now, message))
        self.say(message)

    # --- for the fault suite: the supervisor in a thread, and a way to crash what it watches ---------
    def start(self, every_s: float = 0.25) -> None:
        def loop() -> None:
            while not self._stop.wait(every_s):
                self.tick()

        self._thread = threading.Thread(target=loop, name="supervisor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> int:
        """Send ``sig`` to the service's process group (as the OOM killer or a node loss would); returns the pid."""
        with self._lock:
            pid = self.watched[name].pid
            os.killpg(pid, sig)
            return pid

    def is_ready(self, name: str) -> bool:
        with self._lock:
            w = self.watched[name]
            return w.restart_at is None and w.ready_at is not None and stack.alive(w.pid)
