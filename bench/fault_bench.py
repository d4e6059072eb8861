"""The fault-injection run of tests/faults at a larger size (issue 11: 600 journeys at concurrency 30).

    .venv/bin/python bench/fault_bench.py [--journeys 600] [--concurrency 30] [--smtp-down 60]

Starts its own stack with the project's scripts on free ports, drives patient holders' journeys while the
faults of tests/support/fault_run.py are injected one after the other, and prints the same table as the
suite: per fault, journeys, completed, lost sign-ups, duplicate mails, 5xx and bare nginx 502 pages. Exits
non-zero on any lost sign-up, duplicate mail or bare 502.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.fault_run import FaultSettings, FaultStack, run_faults  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--journeys", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=30)
    parser.add_argument("--smtp-down", type=float, default=60, help="seconds the SMTP server refuses connections")
    parser.add_argument("--link-patience", type=float, default=60)
    args = parser.parse_args()
    settings = FaultSettings(
        journeys=args.journeys,
        concurrency=args.concurrency,
        smtp_down_s=args.smtp_down,
        link_patience_s=args.link_patience,
    )
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; stack and load generator share them")
    print(f"{settings.journeys} journeys at concurrency {settings.concurrency}, SMTP down {settings.smtp_down_s:.0f} s")
    with FaultStack("bench") as fs:
        report = asyncio.run(run_faults(fs, settings))
        print(report.table(), flush=True)
        failed = bool(report.lost or report.duplicate_mails or report.raw_502)
        fs.keep_logs = failed
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
