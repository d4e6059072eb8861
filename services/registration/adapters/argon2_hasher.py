"""argon2id password hashing with OWASP's minimum parameters (Password Storage Cheat Sheet):
m = 19 MiB (19 456 KiB), t = 2 iterations, p = 1 lane; 16-byte random salt, 32-byte tag.

About 30 ms of CPU per call on one core, by design. **Callers on the event loop must run every
method that hashes off the loop**, e.g. ``await asyncio.to_thread(hasher.verify, stored, password)``,
or one login would stall every other request of the process.

Passwords must be given NFKC-normalised (``domain.password.normalise_password``), the same at
sign-up, login and reset.
"""

from __future__ import annotations

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

OWASP_TIME_COST = 2
OWASP_MEMORY_COST_KIB = 19 * 1024  # 19456 KiB
OWASP_PARALLELISM = 1


class Argon2PasswordHasher:
    """Implements ``domain.password.PasswordHasher``."""

    def __init__(
        self,
        *,
        time_cost: int = OWASP_TIME_COST,
        memory_cost: int = OWASP_MEMORY_COST_KIB,
        parallelism: int = OWASP_PARALLELISM,
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            hash_len=32,
            salt_len=16,
            type=argon2.Type.ID,
        )
        # A real hash of a random string, verified when the NIR is unknown so that a login for a
        # missing account costs the same time as one for an existing account (no enumeration).
        self._dummy_hash = self._hasher.hash("dummy-password-for-timing-equalisation")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except VerifyMismatchError:
            return False
        except (InvalidHashError, VerificationError):
            # A corrupt stored hash must not become a 500, nor a success.
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the stored hash used weaker/older parameters: rehash after a successful login."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def verify_dummy(self, password: str) -> bool:
        """Spend one verification's time for an unknown NIR; always False."""
        self.verify(self._dummy_hash, password)
        return False
