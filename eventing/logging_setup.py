"""One log format for every service process."""

from __future__ import annotations

import logging
import os


def configure(service: str) -> None:
    level = os.environ.get("MCF_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=level,
        format=f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
