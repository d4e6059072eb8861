"""In-memory fakes of registration's ports, for the use-case tests. ``test_store_contract.py`` runs the
same tests on :class:`MemoryStore` and on the Redis adapter, so the fake cannot drift from the real one."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.base import EventData
from contracts.envelope import Envelope
from contracts.topics import TopicSpec
from eventing.publishing import OutgoingEvent
from services.registration.domain.account import SignupRequest
from services.registration.domain.identity import VerifiedIdentity
from services.registration.domain.login_history import LoginRecord
from services.registration.domain.records import Account, PasswordReset, PendingDetails
from services.registration.use_cases.ports import LockBusy


class MemoryEvents:
    """Builds events as the Kafka publisher does (payload JSON, CloudEvents headers), without a broker."""

    def event(
        self, topic: TopicSpec, data: EventData, *, key: str, correlation_id: str, event_id: str | None = None
    ) -> OutgoingEvent:
        envelope = Envelope.for_event(data, producer=topic.producer, correlation_id=correlation_id, event_id=event_id)
        return OutgoingEvent(topic.name, key.encode(), data.model_dump_json().encode(), envelope.to_headers(), envelope)


class MemoryStore:
    """Everything registration keeps, in dicts; ``written`` lists the events of every committed change."""

    def __init__(self, clock: Any = None) -> None:
        self.requests: dict[str, tuple[SignupRequest, PendingDetails]] = {}
        self.latest: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.gone: set[str] = set()
        self.challenges: dict[str, dict[str, Any]] = {}
        self.accounts: dict[str, Account] = {}
        self.resets: dict[str, PasswordReset] = {}
        self.sessions: dict[str, str] = {}
        self.session_id_tokens: dict[str, str] = {}
        self.reauthentications: dict[str, float] = {}
        self.logins: dict[str, list[LoginRecord]] = {}
        self.not_me_links: dict[str, tuple[str, str]] = {}
        self.counters: dict[str, int] = {}
        self.claims: set[str] = set()
        self.fails: dict[str, list[float]] = {}
        self.locks: set[str] = set()
        self.written: list[OutgoingEvent] = []
        self._changed = asyncio.Condition()

    # --- requests
    async def request(self, request_id: str) -> tuple[SignupRequest, PendingDetails] | None:
        found = self.requests.get(request_id)
        return (found[0], copy.deepcopy(found[1])) if found else None

    async def save_request(self, req: SignupRequest, details: PendingDetails, *events: OutgoingEvent) -> None:
        self.written.extend(events)
        self.requests[req.request_id] = (req, copy.deepcopy(details))
        if details.purpose == "signup":
            self.latest[req.holder_id] = req.request_id
        for link in req.links:
            self.links[link.token_sha256] = req.request_id
        async with self._changed:
            self._changed.notify_all()

    async def latest_request(self, holder_id: str) -> tuple[SignupRequest, PendingDetails] | None:
        rid = self.latest.get(holder_id)
        return await self.request(rid) if rid else None

    async def standing(self, holder_id: str) -> tuple[Account | None, tuple[SignupRequest, PendingDetails] | None]:
        return await self.account(holder_id), await self.latest_request(holder_id)

    async def counted_standing(
        self, counter: tuple[str, int], holder_id: str
    ) -> tuple[int, Account | None, tuple[SignupRequest, PendingDetails] | None]:
        return await self.count(*counter), *await self.standing(holder_id)

    async def request_for_link(self, token_sha256: str) -> str | None:
        return self.links.get(token_sha256)

    async def is_gone(self, request_id: str) -> bool:
        return request_id in self.gone

    async def forget_request(self, req: SignupRequest) -> None:
        self.requests.pop(req.request_id, None)
        self.challenges.pop(req.request_id, None)
        self.gone.add(req.request_id)

    async def request_ids(self) -> AsyncIterator[str]:
        for rid in list(self.requests):
            yield rid

    async def wait_for_change(self, request_id: str, seen: SignupRequest, timeout_s: float) -> None:
        async with self._changed:
            try:
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: (self.requests.get(request_id) or (None,))[0] != seen),
                    max(0.0, timeout_s),
                )
            except TimeoutError:
                pass

    async def set_challenge(self, request_id: str, public: dict[str, Any], ttl_s: int) -> None:
        if ttl_s > 0:
            self.challenges[request_id] = dict(public)

    async def challenge(self, request_id: str) -> dict[str, Any] | None:
        return self.challenges.get(request_id)

    # --- accounts
    async def account(self, holder_id: str) -> Account | None:
        found = self.accounts.get(holder_id)
        return copy.deepcopy(found) if found else None

    async def save_account(self, account: Account, *events: OutgoingEvent) -> None:
        self.written.extend(events)
        self.accounts[account.holder_id] = copy.deepcopy(account)

    async def holder_for_email_change(self, link_sha256: str) -> str | None:
        pending = (a.holder_id for a in self.accounts.values() if a.email_change_link_sha256 == link_sha256)
        return next(pending, None)

    async def holder_for_subject(self, subject: str) -> str | None:
        linked = (a.holder_id for a in self.accounts.values() if a.franceconnect_subject == subject)
        return next(linked, None)

    async def open_account(
        self, account: Account, request: SignupRequest, details: PendingDetails, *events: OutgoingEvent
    ) -> None:
        await self.save_account(account, *events)
        await self.save_request(request, details)

    # --- resets
    async def save_reset(self, reset: PasswordReset, ttl_s: int, *events: OutgoingEvent) -> None:
        self.written.extend(events)
        self.resets[reset.reset_id] = replace(reset)

    async def reset(self, reset_id: str) -> PasswordReset | None:
        found = self.resets.get(reset_id)
        return replace(found) if found else None

    async def reset_for_link(self, token_sha256: str) -> PasswordReset | None:
        found = next((r for r in self.resets.values() if r.token_sha256 == token_sha256), None)
        return replace(found) if found else None

    async def reset_used(self, account: Account, reset: PasswordReset) -> None:
        await self.save_account(account)
        self.resets[reset.reset_id] = replace(reset)

    # --- sessions
    async def open_session(self, sid: str, holder_id: str, ttl_s: int, provider_id_token: str = "") -> None:
        self.sessions[sid] = holder_id
        if provider_id_token:
            self.session_id_tokens[sid] = provider_id_token

    async def session_holder(self, sid: str) -> str | None:
        return self.sessions.get(sid)

    async def session_provider_id_token(self, sid: str) -> str | None:
        return self.session_id_tokens.get(sid)

    async def keep_session_provider_id_token(self, sid: str, provider_id_token: str) -> None:
        if sid in self.sessions and provider_id_token:
            self.session_id_tokens[sid] = provider_id_token

    async def close_session(self, sid: str) -> None:
        self.sessions.pop(sid, None)
        self.session_id_tokens.pop(sid, None)
        self.reauthentications.pop(sid, None)

    async def close_all_sessions(self, holder_id: str) -> None:
        await self.close_other_sessions(holder_id, keep_sid="")

    async def close_other_sessions(self, holder_id: str, keep_sid: str) -> None:
        for sid in [s for s, h in self.sessions.items() if h == holder_id and s != keep_sid]:
            await self.close_session(sid)

    async def mark_reauthenticated(self, sid: str, at: float, ttl_s: int) -> None:
        self.reauthentications[sid] = at

    async def reauthenticated_at(self, sid: str) -> float | None:
        return self.reauthentications.get(sid)

    # --- login history
    async def login_history(self, holder_id: str) -> list[LoginRecord]:
        return list(self.logins.get(holder_id, []))

    async def record_login(
        self, holder_id: str, login: LoginRecord, keep: int, keep_s: int, *events: OutgoingEvent
    ) -> None:
        self.written.extend(events)
        self.logins[holder_id] = [login, *self.logins.get(holder_id, [])][:keep]

    async def save_not_me_link(self, token_sha256: str, holder_id: str, sent_to: str, ttl_s: int) -> None:
        self.not_me_links[token_sha256] = (holder_id, sent_to)

    async def use_not_me_link(self, token_sha256: str) -> tuple[str, str] | None:
        return self.not_me_links.pop(token_sha256, None)

    # --- throttles
    async def count(self, key: str, ttl_s: int) -> int:
        self.counters[key] = self.counters.get(key, 0) + 1
        return self.counters[key]

    async def claim(self, key: str, ttl_s: int) -> bool:
        if key in self.claims:
            return False
        self.claims.add(key)
        return True

    async def failures(self, since: float, *keys: str) -> list[list[float]]:
        for key in keys:
            self.fails[key] = [t for t in self.fails.get(key, []) if t > since]
        return [list(self.fails[key]) for key in keys]

    async def add_failure(self, key: str, at: float, keep_s: int) -> None:
        self.fails.setdefault(key, []).append(at)

    async def clear_failures(self, key: str) -> None:
        self.fails.pop(key, None)

    @asynccontextmanager
    async def locked(self, name: str, ttl_ms: int = 10_000, wait_s: float = 0.0) -> AsyncIterator[None]:
        deadline = asyncio.get_running_loop().time() + wait_s
        while name in self.locks:
            if asyncio.get_running_loop().time() >= deadline:
                raise LockBusy(name)
            await asyncio.sleep(0.01)
        self.locks.add(name)
        try:
            yield
        finally:
            self.locks.discard(name)


class FakeTokens:
    ttl_s = 300

    def issue(self, holder_id: str, session_id: str) -> str:
        return f"token:{holder_id}:{session_id}"

    def verify(self, token: str) -> dict[str, object]:
        kind, _, rest = token.partition(":")
        if kind != "token":
            raise ValueError("not one of ours")
        holder_id, _, sid = rest.partition(":")
        return {"sub": holder_id, "sid": sid}


class MemoryHeldIdentities:
    """Verified identities waiting for the sign-up form (the Redis adapter: ``adapters/held_identities.py``)."""

    def __init__(self) -> None:
        self.held_by_id: dict[str, tuple[VerifiedIdentity, str]] = {}
        self._minted = 0

    async def hold(self, identity: VerifiedIdentity, ttl_s: int, provider_id_token: str = "") -> str:
        self._minted += 1
        hold_id = f"hold-{self._minted}"
        self.held_by_id[hold_id] = (identity, provider_id_token)
        return hold_id

    async def held(self, hold_id: str) -> VerifiedIdentity | None:
        held = self.held_by_id.get(hold_id)
        return held[0] if held is not None else None

    async def provider_id_token(self, hold_id: str) -> str:
        held = self.held_by_id.get(hold_id)
        return held[1] if held is not None else ""

    async def release(self, hold_id: str) -> None:
        self.held_by_id.pop(hold_id, None)


class FastHasher:
    """A stand-in for argon2id (the real one is tens of milliseconds by design)."""

    def hash(self, password: str) -> str:
        return f"plain${password}"

    def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == f"plain${password}"

    def needs_rehash(self, password_hash: str) -> bool:
        return False


class Clock:
    def __init__(self, start: datetime = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)
