"""The pseudonymous holder id every service and partner topic uses instead of the NIR.

``holder_id = HMAC-SHA256(key, "mcf/holder-id/v1\\0" + NIR13)`` as 64 hex characters, where NIR13 is the
13-character number (upper-case, no spaces, no key). Keyed, because the NIR space is small enough to
reverse a plain hash by trying every plausible number. The key is a platform secret shared by the
services that meet NIRs (registration at sign-up and login, rights for partner declarations).
"""

from __future__ import annotations

import hashlib
import hmac

CONTEXT = b"mcf/holder-id/v1\x00"
MIN_KEY_BYTES = 16


def holder_id(nir13: str, key: bytes) -> str:
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the holder-id key must be at least {MIN_KEY_BYTES} bytes")
    normalised = nir13.replace(" ", "").upper()
    if len(normalised) != 13:
        raise ValueError("a NIR has 13 characters")
    return hmac.new(key, CONTEXT + normalised.encode("ascii"), hashlib.sha256).hexdigest()
