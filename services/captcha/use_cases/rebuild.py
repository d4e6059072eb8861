"""Refilling a wiped store with the requests still awaiting their check."""

from __future__ import annotations

from datetime import datetime

from services.captcha.use_cases.ports import ChallengeStore, Clock, RequestClosed, RequestHistory, RequestOpened


async def rebuild(store: ChallengeStore, history: RequestHistory, clock: Clock) -> int:
    """Reopen every request that asked for a check, has neither passed nor failed, and has not expired.

    Their challenges are gone (they held the answers, never published): the holder's next renewal issues a
    fresh one. Returns how many requests were reopened.
    """
    now = clock()
    waiting: dict[str, datetime] = {}
    closed: set[str] = set()
    async for fact in history.facts():
        if isinstance(fact, RequestOpened):
            waiting[fact.request_id] = fact.expires_at
        elif isinstance(fact, RequestClosed):
            closed.add(fact.request_id)
    reopened = 0
    for request_id, expires_at in waiting.items():
        if request_id not in closed and expires_at > now:
            await store.open_request(request_id, expires_at, now)
            reopened += 1
    await store.mark_rebuilt()
    return reopened
