"""Ids registration mints for requests and resets: random, dated and signed.

An event naming an id this service has never minted can then be told apart, without any lookup, from
an event naming a request it does not know *yet* (its Redis is behind its topic): the first is parked at
once with its reason, the second is held until it is known. The date inside proves an unknown id gone
once the longest a request can live has passed, so such an event is acknowledged rather than held.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

_RANDOM_BYTES, _TIME_BYTES, _MAC_BYTES = 9, 4, 9  # 72 random bits; the MAC's 72 bits cannot be guessed


@dataclass(frozen=True)
class SignedIds:
    key: bytes

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self.key, b"registration-id:" + body, hashlib.sha256).digest()[:_MAC_BYTES]

    def mint(self, now: datetime) -> str:
        body = secrets.token_bytes(_RANDOM_BYTES) + int(now.timestamp()).to_bytes(_TIME_BYTES, "big")
        return base64.urlsafe_b64encode(body + self._mac(body)).rstrip(b"=").decode("ascii")

    def issued_at(self, minted: str) -> datetime | None:
        """When this service minted ``minted``; None if it never did."""
        try:
            raw = base64.urlsafe_b64decode(minted + "=" * (-len(minted) % 4))
        except (binascii.Error, ValueError):
            return None
        if len(raw) != _RANDOM_BYTES + _TIME_BYTES + _MAC_BYTES:
            return None
        body, mac = raw[: -_MAC_BYTES], raw[-_MAC_BYTES:]
        if not hmac.compare_digest(mac, self._mac(body)):
            return None
        return datetime.fromtimestamp(int.from_bytes(body[_RANDOM_BYTES:], "big"), UTC)
