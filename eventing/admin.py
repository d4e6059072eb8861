"""``python -m eventing.admin``: create the catalog's topics (local stack and tests)."""

from __future__ import annotations

import argparse
import asyncio

from eventing.kafka import ensure_topics


def main() -> None:
    parser = argparse.ArgumentParser(description="Create the topics of contracts.topics that are missing")
    parser.add_argument("--bootstrap", required=True)
    args = parser.parse_args()
    created = asyncio.run(ensure_topics(args.bootstrap))
    print(f"[stack] topics created: {len(created)}" if created else "[stack] topics already present")


if __name__ == "__main__":
    main()
