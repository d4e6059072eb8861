"""Per-client-address rate limits on renewing and answering (the policy is the domain's)."""

from __future__ import annotations

from services.captcha.domain.rate_limit import RateAction, RateDecision, decide, rate_window
from services.captcha.use_cases.ports import Clock, RateCounter


async def admit(counter: RateCounter, clock: Clock, action: RateAction, address: str) -> RateDecision:
    """Count this request against its client's window and say whether it may proceed."""
    now = clock()
    window = rate_window(action, address, now)
    return decide(action, await counter.count(window.key, window.ttl_seconds), now)
