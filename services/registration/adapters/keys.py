"""The service's secrets: the holder-id key and the session-signing key pair."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def _read_or_create(path: Path, make: bytes) -> bytes:
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


def holder_id_key(keys_dir: Path, configured_hex: str | None) -> bytes:
    if configured_hex:
        return bytes.fromhex(configured_hex)
    return bytes.fromhex(_read_or_create(keys_dir / "holder-id.key", secrets.token_hex(32).encode()).decode())


def session_signing_key(keys_dir: Path, configured_pem: str | None) -> Ed25519PrivateKey:
    if configured_pem:
        pem = configured_pem.encode()
    else:
        fresh = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        pem = _read_or_create(keys_dir / "session-signing.pem", fresh)
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the session signing key must be Ed25519")
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    if not configured_pem:
        # The rights service verifies access tokens with this public key (no shared secret).
        (keys_dir / "session-signing.pub").write_bytes(public)
    return key
