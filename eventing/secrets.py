"""A service's local secret: configured (a Kubernetes Secret), or generated once under its keys folder."""

from __future__ import annotations

import os
from pathlib import Path


def read_or_create(path: Path, make: bytes) -> bytes:
    """The file's content; ``make`` written first if there is none (mode 0600)."""
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two processes starting together keep whichever key was written first.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as f:
        f.write(make)
    return make


def hex_key(keys_dir: Path, file_name: str, configured_hex: str | None, make_hex: str) -> bytes:
    """A symmetric key: the configured hex, or ``keys_dir/file_name`` (created from ``make_hex``)."""
    if configured_hex:
        return bytes.fromhex(configured_hex)
    return bytes.fromhex(read_or_create(keys_dir / file_name, make_hex.encode()).decode())
