"""What the pages and the API show: read-only views, never the store itself."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from services.registration.domain.account import LifecyclePolicy, RequestStatus, SignupRequest
from services.registration.domain.diploma import Diploma
from services.registration.use_cases.common import utc_now
from services.registration.use_cases.ports import Accounts, Clock, Requests


@dataclass(frozen=True)
class RequestView:
    request_id: str
    status: RequestStatus
    expires_at: datetime
    resends_left: int
    challenge: dict[str, Any] | None  # the check's public part, while it is awaited


@dataclass(frozen=True)
class AccountView:
    holder_id: str
    first_name: str
    highest_diploma: Diploma
    identity_verified_by: str | None = None  # "franceconnect", or None: the account proves a mailbox only
    email: str = ""
    has_password: bool = True
    franceconnect_linked: bool = False


class ReadStore(Requests, Accounts, Protocol):
    """What the views read (the one store adapter provides it)."""


@dataclass
class Views:
    store: ReadStore
    policy: LifecyclePolicy
    clock: Clock = utc_now

    async def request(self, request_id: str) -> RequestView | None:
        found = await self.store.request(request_id)
        return None if found is None else await self._view(found[0])

    async def _view(self, req: SignupRequest) -> RequestView:
        status = req.status_at(self.clock())
        challenge = await self.store.challenge(req.request_id) if status is RequestStatus.AWAITING_CAPTCHA else None
        return RequestView(req.request_id, status, req.expires_at, req.resends_left(self.policy), challenge)

    async def request_after_check(self, request_id: str, wait_s: float) -> RequestView | None:
        """The request once the captcha's verdict is recorded, waiting up to ``wait_s`` for it.

        The holder's browser comes here the moment the captcha says "passed"; the captcha's event reaches
        registration a moment later. The wait is a push from the store (the request saved again), not a
        poll: it ends the moment the verdict is recorded."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while True:
            found = await self.store.request(request_id)
            view = None if found is None else await self._view(found[0])
            left = deadline - loop.time()
            if found is None or view is None or view.status is not RequestStatus.AWAITING_CAPTCHA or left <= 0:
                return view
            await self.store.wait_for_change(request_id, found[0], left)

    async def account(self, holder_id: str) -> AccountView | None:
        account = await self.store.account(holder_id)
        if account is None:
            return None
        try:
            diploma = Diploma(account.highest_diploma)
        except ValueError:
            diploma = Diploma.NOT_GIVEN
        return AccountView(
            account.holder_id,
            account.first_name,
            diploma,
            account.identity_verified_by,
            email=account.email,
            has_password=account.has_password,
            franceconnect_linked=bool(account.franceconnect_subject),
        )
