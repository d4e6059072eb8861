"""The rights process's setting of CPython's cyclic garbage collector.

The service keeps holders' rights in memory (events, bookings, history lines of up to
``CACHED_HOLDERS`` holders): many long-lived objects. A full collection walks every live object, and
with Python's default setting one runs each time the long-lived objects have grown by a quarter and
ten middle-generation collections have passed: recording events one by one spent about a third of its
time there (``bench/rights_bench.py``, ``bench/README.md``). Those objects make no reference cycles (a
holder's projection, containers and undo log are acyclic: ``domain/undo.py``), so they are freed by
reference counting when a holder leaves the cache; the full passes find almost nothing. They are made
100 times rarer here: the young and middle generations are collected as usual (short-lived cycles,
such as a raised error and its frames, are still freed early), and a full pass still runs after about
``700 × 10 × 1000`` tracked objects more than were freed.
"""

from __future__ import annotations

import gc

FULL_PASS_EVERY = 1000  # middle-generation collections between two full passes (Python's default: 10)


def tune_collector() -> None:
    """Make full collections rarer for this process (keeps the young generations' thresholds)."""
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_PASS_EVERY)
