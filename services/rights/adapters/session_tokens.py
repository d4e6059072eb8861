"""The ``SessionVerifier`` port over the access tokens registration issues (EdDSA JWT)."""

from __future__ import annotations

from collections.abc import Callable

import jwt

AUDIENCE, ISSUER = "mcf", "mcf-registration"


class SessionTokens:
    """Checks a token's signature, audience, issuer and expiry against registration's public key (read
    at first use: the process can be built, e.g. for its AsyncAPI document, without the key)."""

    def __init__(self, public_key: Callable[[], bytes]) -> None:
        self._public_key = public_key

    def holder_of(self, token: str) -> str | None:
        try:
            claims = jwt.decode(token, self._public_key(), algorithms=["EdDSA"], audience=AUDIENCE, issuer=ISSUER)
        except jwt.PyJWTError:
            return None
        return str(claims["sub"])
