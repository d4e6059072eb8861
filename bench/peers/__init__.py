"""Side-by-side benchmark of our platform and Keycloak (issue 16): ``.venv/bin/python bench/peers/run.py``."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# deploy/local's scripts are standalone modules (standard library only), imported by path as the tests do.
if str(ROOT / "deploy" / "local") not in sys.path:
    sys.path.insert(0, str(ROOT / "deploy" / "local"))

import launcher  # noqa: E402
import stack  # noqa: E402

__all__ = ["ROOT", "launcher", "stack"]
