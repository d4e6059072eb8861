"""The session-signing key pair (the shared symmetric keys are in ``eventing.settings``)."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from eventing.secrets import read_or_create


def session_signing_key(keys_dir: Path, configured_pem: str | None) -> Ed25519PrivateKey:
    if configured_pem:
        pem = configured_pem.encode()
    else:
        fresh = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        pem = read_or_create(keys_dir / "session-signing.pem", fresh)
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the session signing key must be Ed25519")
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    if not configured_pem:
        # The rights service verifies access tokens with this public key (no shared secret).
        (keys_dir / "session-signing.pub").write_bytes(public)
    return key
