"""Access tokens: short-lived JWTs signed with Ed25519, verified by the rights service with the public key."""

from __future__ import annotations

import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ISSUER = "mcf-registration"
AUDIENCE = "mcf"


class AccessTokens:
    def __init__(self, key: Ed25519PrivateKey, ttl_s: int) -> None:
        self._key = key
        self._public = key.public_key()
        self.ttl_s = ttl_s

    def issue(self, holder_id: str, session_id: str) -> str:
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": holder_id,
            "sid": session_id,
            "iat": now,
            "exp": now + self.ttl_s,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._key, algorithm="EdDSA")

    def verify(self, token: str) -> dict[str, object]:
        claims: dict[str, object] = jwt.decode(
            token, self._public, algorithms=["EdDSA"], audience=AUDIENCE, issuer=ISSUER
        )
        return claims
