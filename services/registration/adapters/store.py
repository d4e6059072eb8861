"""Registration's state: Redis for reads, its private compacted topic for durability.

Every write goes to ``registration.account-state.v1`` first, then to Redis. A Redis wiped clean is
rebuilt at start from that topic (:meth:`RegistrationStore.rebuild`), so nothing a holder did is lost.
Login sessions and throttling counters are short-lived and are not rebuilt.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, cast

from aiokafka import ConsumerRecord
from redis.asyncio import Redis

from contracts import topics
from contracts.registration import AccountStateRecorded
from eventing.redis_store import as_text
from eventing.replay import replay
from services.registration.domain.account import SignupRequest

log = logging.getLogger("registration.store")
StateLog = Callable[[AccountStateRecorded, str], Awaitable[None]]


@dataclass
class PendingDetails:
    """What the form said, kept with the pending request until the link is used (then it is the account)."""

    nir: str
    first_name: str
    birth_name: str
    email: str
    password_hash: str
    birth_year_month: str
    phone_landline: str | None = None
    phone_mobile: str | None = None
    address: dict[str, Any] | None = None
    highest_diploma: str = "not_given"
    apprenticeship_contract: bool = False
    cgu: dict[str, str] = field(default_factory=dict)
    purpose: str = "signup"  # "signup", or a decoy: "existing_account" / "pending_request"


@dataclass
class Account:
    holder_id: str
    nir: str
    first_name: str
    birth_name: str
    email: str
    password_hash: str
    birth_year_month: str
    activated_at: str
    request_id: str
    phone_landline: str | None = None
    phone_mobile: str | None = None
    address: dict[str, Any] | None = None
    highest_diploma: str = "not_given"
    cgu: dict[str, str] = field(default_factory=dict)
    sessions_valid_after: float = 0.0  # a password reset revokes every session opened before it


@dataclass
class PasswordReset:
    reset_id: str
    holder_id: str
    requested_at: str
    token_sha256: str | None = None
    expires_at: str | None = None
    used_at: str | None = None


class LockBusy(Exception):
    pass


class RegistrationStore:
    def __init__(self, redis: Redis, state_log: StateLog) -> None:
        self._r = redis
        self._log = state_log

    # --- requests ---------------------------------------------------------------------------------
    async def save_request(self, req: SignupRequest, details: PendingDetails) -> None:
        state = {"request": req.to_record(), "details": asdict(details)}
        await self._log(AccountStateRecorded(kind="request", record_id=req.request_id, state=state), req.request_id)
        await self._put_request(state)

    async def _put_request(self, state: dict[str, Any]) -> None:
        req = SignupRequest.from_record(state["request"])
        ttl = max(60, int(req.expires_at.timestamp() - time.time()) + 24 * 3600)
        pipe = self._r.pipeline()
        pipe.set(f"reg:req:{req.request_id}", json.dumps(state), ex=ttl)
        if state["details"]["purpose"] == "signup":
            pipe.set(f"reg:latest:{req.holder_id}", req.request_id, ex=ttl)
        for link in req.links:
            pipe.set(f"reg:link:{link.token_sha256}", req.request_id, ex=ttl)
        await pipe.execute()

    async def request(self, request_id: str) -> tuple[SignupRequest, PendingDetails] | None:
        if not request_id or len(request_id) > 64:
            return None
        raw = await self._r.get(f"reg:req:{request_id}")
        if raw is None:
            return None
        state = json.loads(raw)
        return SignupRequest.from_record(state["request"]), PendingDetails(**state["details"])

    async def latest_request(self, holder_id: str) -> tuple[SignupRequest, PendingDetails] | None:
        rid = await self._r.get(f"reg:latest:{holder_id}")
        return await self.request(as_text(rid)) if rid else None

    async def request_for_link(self, token_sha256: str) -> str | None:
        rid = await self._r.get(f"reg:link:{token_sha256}")
        return as_text(rid) if rid else None

    async def forget_request(self, req: SignupRequest) -> None:
        await self._log(
            AccountStateRecorded(kind="request", record_id=req.request_id, state={}, deleted=True),
            req.request_id,
        )
        await self._r.delete(f"reg:req:{req.request_id}", f"reg:challenge:{req.request_id}")

    async def request_ids(self) -> AsyncIterator[str]:
        async for key in self._r.scan_iter(match="reg:req:*", count=500):
            yield as_text(key).removeprefix("reg:req:")

    # the current challenge's public part, as captcha announced it (not durable: captcha re-serves it)
    async def set_challenge(self, request_id: str, public: dict[str, Any], ttl_s: int) -> None:
        await self._r.set(f"reg:challenge:{request_id}", json.dumps(public), ex=max(1, ttl_s))

    async def challenge(self, request_id: str) -> dict[str, Any] | None:
        raw = await self._r.get(f"reg:challenge:{request_id}")
        return cast(dict[str, Any], json.loads(raw)) if raw else None

    # --- accounts ---------------------------------------------------------------------------------
    async def save_account(self, account: Account) -> None:
        state = asdict(account)
        await self._log(
            AccountStateRecorded(kind="account", record_id=account.holder_id, state=state), account.holder_id
        )
        await self._r.set(f"reg:acct:{account.holder_id}", json.dumps(state))

    async def account(self, holder_id: str) -> Account | None:
        raw = await self._r.get(f"reg:acct:{holder_id}")
        return Account(**json.loads(raw)) if raw else None

    # --- password resets --------------------------------------------------------------------------
    async def save_reset(self, reset: PasswordReset, ttl_s: int) -> None:
        state = asdict(reset)
        await self._log(
            AccountStateRecorded(
                kind="reset", record_id=reset.reset_id, state=state, deleted=reset.used_at is not None
            ),
            reset.holder_id,
        )
        await self._put_reset(state, ttl_s)

    async def _put_reset(self, state: dict[str, Any], ttl_s: int) -> None:
        pipe = self._r.pipeline()
        pipe.set(f"reg:reset:{state['reset_id']}", json.dumps(state), ex=max(1, ttl_s))
        if state.get("token_sha256"):
            pipe.set(f"reg:resetlink:{state['token_sha256']}", state["reset_id"], ex=max(1, ttl_s))
        await pipe.execute()

    async def reset(self, reset_id: str) -> PasswordReset | None:
        raw = await self._r.get(f"reg:reset:{reset_id}")
        return PasswordReset(**json.loads(raw)) if raw else None

    async def reset_for_link(self, token_sha256: str) -> PasswordReset | None:
        rid = await self._r.get(f"reg:resetlink:{token_sha256}")
        return await self.reset(as_text(rid)) if rid else None

    async def count(self, key: str, ttl_s: int) -> int:
        """A fixed-window counter: the number of hits in this window, this one included."""
        pipe = self._r.pipeline()
        pipe.incr(f"reg:rl:{key}")
        pipe.expire(f"reg:rl:{key}", ttl_s, nx=True)
        count, _ = await pipe.execute()
        return int(count)

    async def claim(self, key: str, ttl_s: int) -> bool:
        """A cooldown: true the first time within ``ttl_s``."""
        return bool(await self._r.set(f"reg:cooldown:{key}", b"1", nx=True, ex=ttl_s))

    # --- sessions and throttling (short-lived, not rebuilt) ---------------------------------------
    async def open_session(self, sid: str, holder_id: str, ttl_s: int) -> None:
        pipe = self._r.pipeline()
        pipe.set(f"reg:session:{sid}", holder_id, ex=ttl_s)
        pipe.sadd(f"reg:sessions:{holder_id}", sid)
        pipe.expire(f"reg:sessions:{holder_id}", ttl_s)
        await pipe.execute()

    async def session_holder(self, sid: str) -> str | None:
        raw = await self._r.get(f"reg:session:{sid}")
        return as_text(raw) if raw else None

    async def close_session(self, sid: str) -> None:
        await self._r.delete(f"reg:session:{sid}")

    async def close_all_sessions(self, holder_id: str) -> None:
        sids = await self._r.smembers(f"reg:sessions:{holder_id}")
        if sids:
            await self._r.delete(*(f"reg:session:{as_text(s)}" for s in sids))
        await self._r.delete(f"reg:sessions:{holder_id}")

    async def failures(self, key: str, since: float) -> list[float]:
        await self._r.zremrangebyscore(f"reg:fail:{key}", "-inf", since)
        # Members are the failure instants themselves (scores too): no score lookup needed.
        members = cast(list[bytes], await self._r.zrange(f"reg:fail:{key}", 0, -1))
        return [float(as_text(member)) for member in members]

    async def add_failure(self, key: str, at: float, keep_s: int) -> None:
        pipe = self._r.pipeline()
        pipe.zadd(f"reg:fail:{key}", {f"{at:.6f}": at})
        pipe.expire(f"reg:fail:{key}", keep_s)
        await pipe.execute()

    async def clear_failures(self, key: str) -> None:
        await self._r.delete(f"reg:fail:{key}")

    @asynccontextmanager
    async def locked(self, name: str, ttl_ms: int = 10_000) -> AsyncIterator[None]:
        key = f"reg:lock:{name}"
        if not await self._r.set(key, b"1", nx=True, px=ttl_ms):
            raise LockBusy(name)
        try:
            yield
        finally:
            await self._r.delete(key)

    # --- rebuild after a Redis wipe ---------------------------------------------------------------
    async def needs_rebuild(self) -> bool:
        return not await self._r.exists("reg:rebuilt")

    async def rebuild(self, bootstrap: str) -> int:
        """Replay the private state topic from the start; the latest record of each id wins."""
        latest: dict[tuple[str, str], dict[str, Any]] = {}

        async def keep(record: ConsumerRecord[bytes, bytes]) -> None:
            rec = AccountStateRecorded.model_validate_json(record.value or b"{}")
            latest[(rec.kind, rec.record_id)] = {} if rec.deleted else rec.state

        await replay(bootstrap, topics.ACCOUNT_STATE, keep)
        for (kind, _rid), state in latest.items():
            if not state:
                continue
            if kind == "request":
                await self._put_request(state)
            elif kind == "account":
                await self._r.set(f"reg:acct:{state['holder_id']}", json.dumps(state))
            elif kind == "reset" and state.get("expires_at"):
                left = datetime.fromisoformat(state["expires_at"]).timestamp() - time.time()
                if left > 0:
                    await self._put_reset(state, int(left))
        await self._r.set("reg:rebuilt", str(time.time()))
        log.info("rebuilt %d records from %s", len(latest), topics.ACCOUNT_STATE.name)
        return len(latest)
