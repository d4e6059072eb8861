"""Per-client-address rate limits on issuing, renewing and answering (fixed windows).

Pure policy: which counter a request increments (:func:`rate_window`) and, given the counter's value
after the increment, whether the request may proceed (:func:`decide`). The storage (Redis ``INCR`` then
``EXPIRE`` on first increment, TTL = ``RateWindow.ttl_seconds``) is an adapter's job.

Fixed windows rather than sliding ones: one integer per (action, client, window) is cheap, survives a
Redis wipe harmlessly (limits restart at zero) and the burst at a window edge (at most twice the limit)
is acceptable for a captcha whose real protection is the challenge itself.

IPv6 clients are grouped by /64: one subscriber gets a whole /64, so per-address limits would be void.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType


class RateAction(StrEnum):
    ISSUE = "issue"
    RENEW = "renew"
    ANSWER = "answer"


@dataclass(frozen=True, slots=True)
class Limit:
    max_count: int
    window: timedelta

    def __post_init__(self) -> None:
        if self.max_count < 1:
            raise ValueError("max_count must be at least 1")
        if self.window < timedelta(seconds=1):
            raise ValueError("window must be at least one second")


def _default_limits() -> Mapping[RateAction, Limit]:
    # A holder needs 1 issue, up to 5 renewals and 3 answers per challenge; a shared NAT (office,
    # school, mobile carrier) holds many holders, hence the headroom.
    ten_minutes = timedelta(minutes=10)
    return MappingProxyType(
        {
            RateAction.ISSUE: Limit(30, ten_minutes),
            RateAction.RENEW: Limit(60, ten_minutes),
            RateAction.ANSWER: Limit(120, ten_minutes),
        }
    )


@dataclass(frozen=True, slots=True)
class RateLimitPolicy:
    limits: Mapping[RateAction, Limit] = field(default_factory=_default_limits)
    ipv6_prefix: int = 64

    def limit(self, action: RateAction) -> Limit:
        return self.limits[action]


@dataclass(frozen=True, slots=True)
class RateWindow:
    """The counter one request increments."""

    key: str  # e.g. "captcha:rl:answer:203.0.113.7:2880412"
    window_start: datetime
    window_end: datetime
    ttl_seconds: int  # expiry to set on the counter (window end, plus a second of slack)


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    remaining: int
    retry_after_seconds: int  # 0 when allowed; else seconds to the window's end (HTTP Retry-After)


def client_bucket(address: str, policy: RateLimitPolicy | None = None) -> str:
    """The string a client is counted under: the IPv4 address, or the IPv6 /64 network.

    An unparsable address (a proxy misconfiguration) is counted as-is, truncated, rather than let
    through: failing open would disable the limit.
    """
    prefix = (policy or RateLimitPolicy()).ipv6_prefix
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return "raw:" + address.strip()[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, prefix), strict=False))
    return str(ip)


def rate_window(action: RateAction, address: str, now: datetime, policy: RateLimitPolicy | None = None) -> RateWindow:
    """The fixed window ``now`` falls in for ``action`` by the client at ``address``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")  # a naive time would shift windows by the local offset
    policy = policy or RateLimitPolicy()
    window = policy.limit(action).window
    seconds = int(window.total_seconds())
    epoch = int(now.timestamp())
    index = epoch // seconds
    start = datetime.fromtimestamp(index * seconds, tz=UTC)
    end = start + window
    ttl = max(1, math.ceil((end - now).total_seconds()) + 1)
    key = f"captcha:rl:{action.value}:{client_bucket(address, policy)}:{index}"
    return RateWindow(key=key, window_start=start, window_end=end, ttl_seconds=ttl)


def decide(action: RateAction, count: int, now: datetime, policy: RateLimitPolicy | None = None) -> RateDecision:
    """Whether the request that brought the counter to ``count`` (1 for the first) may proceed."""
    policy = policy or RateLimitPolicy()
    limit = policy.limit(action)
    if count <= limit.max_count:
        return RateDecision(allowed=True, remaining=limit.max_count - count, retry_after_seconds=0)
    seconds = int(limit.window.total_seconds())
    end = (int(now.timestamp()) // seconds + 1) * seconds
    retry_after = max(1, math.ceil(end - now.timestamp()))
    return RateDecision(allowed=False, remaining=0, retry_after_seconds=retry_after)
