"""Registration's state: Redis for reads, its private compacted topic for durability.

(Over 300 lines on purpose: one adapter implements the whole store port, so the Lua compare-and-set, the
keys and the rebuild that must agree with them are read in one place.)

Every change goes to ``registration.account-state.v1`` first, **in one Kafka transaction with the events
it causes** (``SecurityCheckRequested``, ``MailRequested``, ``AccountActivated`` …: a crash can no longer
leave a request without its check or its mail), then to Redis. Redis values carry the record's offset as
their version and a write never replaces a newer version, so the rebuild of a wiped Redis
(:meth:`RegistrationStore.rebuild`), the start-up catch-up of the last minutes
(:meth:`RegistrationStore.catch_up`, for a crash between the commit and the Redis write) and live writes
can interleave in any order. A purged request leaves a tombstone (``reg:gone:<id>``): an event naming it
is dropped as proven gone, while an event naming a request not known *yet* is held (``RetryLater``). Login
sessions, the login history, the "Ce n'était pas moi" links and throttling counters are short-lived and
are not rebuilt.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from aiokafka import ConsumerRecord
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from contracts import topics
from contracts.registration import AccountStateRecorded
from eventing.publishing import OutgoingEvent
from eventing.redis_store import as_text
from eventing.replay import replay
from services.registration.domain.account import SignupRequest
from services.registration.domain.login_history import LoginRecord
from services.registration.domain.records import Account, PasswordReset, PendingDetails
from services.registration.use_cases.ports import LockBusy

log = logging.getLogger("registration.store")
GONE_KEEP_S = 30 * 24 * 3600  # how long a purged request's tombstone proves it gone

# Returns 0 (from the script) when KEYS[1] already holds a version >= ARGV[2] (JSON with a "v" version).
_NEWER_THERE = """
local current = redis.call('GET', KEYS[1])
if current then
  local ok, obj = pcall(cjson.decode, current)
  if ok and type(obj) == 'table' and obj['v'] and tonumber(obj['v']) >= tonumber(ARGV[2]) then return 0 end
end
"""
# Set KEYS[1] to ARGV[1] unless it already holds a newer version; ARGV[3]: its TTL (0: none).
_SET_IF_NEWER = (
    _NEWER_THERE
    + """
if tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
"""
)
# A request's write in one round trip: the request (KEYS[1]) unless a newer version is there, the keys
# that point at it (KEYS[2..]: the holder's latest request, its links) set to its id ARGV[4], all for
# ARGV[3] seconds, and a message on channel ARGV[5] (wakes a page waiting for the request).
_PUT_REQUEST = (
    _NEWER_THERE
    + """
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
for i = 2, #KEYS do redis.call('SET', KEYS[i], ARGV[4], 'EX', ARGV[3]) end
redis.call('PUBLISH', ARGV[5], '1')
return 1
"""
)


def _subject_key(subject: str) -> str:
    """A FranceConnect subject's index key (hashed: a copy of Redis lists no subjects)."""
    return "reg:fcsub:" + hashlib.sha256(subject.encode()).hexdigest()


def _email_change_key(link_sha256: str) -> str:
    return f"reg:emailchange:{link_sha256}"


def _account(raw: bytes | str | None) -> Account | None:
    if not raw:
        return None
    state = json.loads(raw)
    state.pop("v", None)  # the record's version (its offset), not a field of the account
    state.pop("previous_email", None)  # written by a development build of 2026-11-30, before replaced_emails
    return Account(**state)


def _changed(request_id: str) -> str:
    return f"reg:changed:{request_id}"


class StateWriter(Protocol):
    """Writes records atomically (one transaction) and returns their offsets."""

    async def write(self, *events: OutgoingEvent) -> list[int]: ...


StateRecord = Callable[[AccountStateRecorded], OutgoingEvent]


class RegistrationStore:
    REBUILT = "reg:rebuilt"  # present while the working state is whole

    def __init__(self, redis: Redis, writer: StateWriter, state_record: StateRecord) -> None:
        self._r = redis
        self._writer = writer
        self._record = state_record
        self._set_if_newer = redis.register_script(_SET_IF_NEWER)
        self._put_request_script = redis.register_script(_PUT_REQUEST)

    async def _commit(self, records: list[AccountStateRecorded], events: tuple[OutgoingEvent, ...]) -> list[int]:
        """The state records and the events they cause, in one transaction; the records' versions."""
        offsets = await self._writer.write(*(self._record(r) for r in records), *events)
        return offsets[: len(records)]

    async def _put_versioned(self, key: str, state: dict[str, Any], version: int, ttl_s: int) -> bool:
        return bool(await self._set_if_newer(keys=[key], args=[json.dumps({**state, "v": version}), version, ttl_s]))

    # --- requests ---------------------------------------------------------------------------------
    @staticmethod
    def _request_record(req: SignupRequest, details: PendingDetails) -> AccountStateRecorded:
        state = {"request": req.to_record(), "details": asdict(details)}
        return AccountStateRecorded(kind="request", record_id=req.request_id, state=state)

    async def save_request(self, req: SignupRequest, details: PendingDetails, *events: OutgoingEvent) -> None:
        """Record the request, and publish ``events`` in the same transaction."""
        record = self._request_record(req, details)
        (version,) = await self._commit([record], events)
        await self._put_request(record.state, version)

    async def _put_request(self, state: dict[str, Any], version: int) -> None:
        req = SignupRequest.from_record(cast(dict[str, Any], state["request"]))
        ttl = max(60, int(req.expires_at.timestamp() - time.time()) + 24 * 3600)
        pointers = [f"reg:link:{link.token_sha256}" for link in req.links]
        if cast(dict[str, Any], state["details"])["purpose"] == "signup":
            pointers.insert(0, f"reg:latest:{req.holder_id}")
        await self._put_request_script(
            keys=[f"reg:req:{req.request_id}", *pointers],
            args=[json.dumps({**state, "v": version}), version, ttl, req.request_id, _changed(req.request_id)],
        )

    async def wait_for_change(self, request_id: str, seen: SignupRequest, timeout_s: float) -> None:
        async with self._r.pubsub() as channel:
            await channel.subscribe(_changed(request_id))
            # Subscribed first, then compared: a write in between is seen either way.
            found = await self.request(request_id)
            if found is None or found[0] != seen:
                return
            loop = asyncio.get_running_loop()
            deadline = loop.time() + max(0.0, timeout_s)
            # The subscription's own confirmation comes first and is skipped (get_message then returns None).
            while (left := deadline - loop.time()) > 0:
                if await channel.get_message(ignore_subscribe_messages=True, timeout=left) is not None:
                    return

    async def request(self, request_id: str) -> tuple[SignupRequest, PendingDetails] | None:
        if not request_id or len(request_id) > 64:
            return None
        raw = await self._r.get(f"reg:req:{request_id}")
        if raw is None:
            return None
        state = json.loads(raw)
        return SignupRequest.from_record(state["request"]), PendingDetails(**state["details"])

    async def is_gone(self, request_id: str) -> bool:
        """Whether the request was purged (its tombstone is kept ``GONE_KEEP_S``)."""
        return bool(await self._r.exists(f"reg:gone:{request_id}"))

    async def latest_request(self, holder_id: str) -> tuple[SignupRequest, PendingDetails] | None:
        rid = await self._r.get(f"reg:latest:{holder_id}")
        return await self.request(as_text(rid)) if rid else None

    async def standing(self, holder_id: str) -> tuple[Account | None, tuple[SignupRequest, PendingDetails] | None]:
        pipe = self._r.pipeline(transaction=False)  # one round trip for both keys
        raw_account, latest_id = await self._read_standing(pipe, holder_id).execute()
        latest = await self.request(as_text(latest_id)) if latest_id else None
        return _account(raw_account), latest

    async def counted_standing(
        self, counter: tuple[str, int], holder_id: str
    ) -> tuple[int, Account | None, tuple[SignupRequest, PendingDetails] | None]:
        pipe = self._count(self._r.pipeline(transaction=False), *counter)
        count, _, raw_account, latest_id = await self._read_standing(pipe, holder_id).execute()
        latest = await self.request(as_text(latest_id)) if latest_id else None
        return int(count), _account(raw_account), latest

    @staticmethod
    def _read_standing(pipe: Pipeline, holder_id: str) -> Pipeline:
        pipe.get(f"reg:acct:{holder_id}")
        pipe.get(f"reg:latest:{holder_id}")
        return pipe

    async def request_for_link(self, token_sha256: str) -> str | None:
        rid = await self._r.get(f"reg:link:{token_sha256}")
        return as_text(rid) if rid else None

    async def forget_request(self, req: SignupRequest) -> None:
        await self._commit([AccountStateRecorded(kind="request", record_id=req.request_id, state={}, deleted=True)], ())
        await self._bury(req.request_id)

    async def _bury(self, request_id: str) -> None:
        pipe = self._r.pipeline()
        pipe.set(f"reg:gone:{request_id}", b"1", ex=GONE_KEEP_S)
        pipe.delete(f"reg:req:{request_id}", f"reg:challenge:{request_id}")
        await pipe.execute()

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
    async def save_account(self, account: Account, *events: OutgoingEvent) -> None:
        record = AccountStateRecorded(kind="account", record_id=account.holder_id, state=asdict(account))
        (version,) = await self._commit([record], events)
        await self._put_account(record.state, version)

    async def open_account(
        self, account: Account, request: SignupRequest, details: PendingDetails, *events: OutgoingEvent
    ) -> None:
        """The account, its request marked active and ``events``, in one transaction."""
        records = [
            AccountStateRecorded(kind="account", record_id=account.holder_id, state=asdict(account)),
            self._request_record(request, details),
        ]
        account_version, request_version = await self._commit(records, events)
        await self._put_account(records[0].state, account_version)
        await self._put_request(records[1].state, request_version)

    async def _put_account(self, state: dict[str, Any], version: int) -> None:
        if not await self._put_versioned(f"reg:acct:{state['holder_id']}", state, version, 0):
            return  # a newer version is there already
        if subject := state.get("franceconnect_subject"):
            await self._r.set(_subject_key(str(subject)), str(state["holder_id"]))
        link, expires = state.get("email_change_link_sha256"), state.get("email_change_expires_at")
        if link and expires:  # a replaced link's key stays until it expires: the account's hash decides
            left = int(datetime.fromisoformat(str(expires)).timestamp() - time.time())
            if left > 0:
                await self._r.set(_email_change_key(str(link)), str(state["holder_id"]), ex=left)

    async def holder_for_email_change(self, link_sha256: str) -> str | None:
        raw = await self._r.get(_email_change_key(link_sha256))
        return as_text(raw) if raw else None

    async def holder_for_subject(self, subject: str) -> str | None:
        raw = await self._r.get(_subject_key(subject))
        return as_text(raw) if raw else None

    async def account(self, holder_id: str) -> Account | None:
        return _account(await self._r.get(f"reg:acct:{holder_id}"))

    # --- password resets --------------------------------------------------------------------------
    async def save_reset(self, reset: PasswordReset, ttl_s: int, *events: OutgoingEvent) -> None:
        state = asdict(reset)
        record = AccountStateRecorded(
            kind="reset", record_id=reset.reset_id, state=state, deleted=reset.used_at is not None
        )
        await self._commit([record], events)
        await self._put_reset(state, ttl_s)

    async def reset_used(self, account: Account, reset: PasswordReset) -> None:
        """The new password and the used link, in one transaction."""
        records = [
            AccountStateRecorded(kind="account", record_id=account.holder_id, state=asdict(account)),
            AccountStateRecorded(kind="reset", record_id=reset.reset_id, state=asdict(reset), deleted=True),
        ]
        (account_version, _) = await self._commit(records, ())
        await self._put_account(records[0].state, account_version)
        await self._put_reset(records[1].state, 600)

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
        count, _ = await self._count(self._r.pipeline(), key, ttl_s).execute()
        return int(count)

    @staticmethod
    def _count(pipe: Pipeline, key: str, ttl_s: int) -> Pipeline:
        pipe.incr(f"reg:rl:{key}")
        pipe.expire(f"reg:rl:{key}", ttl_s, nx=True)
        return pipe

    async def claim(self, key: str, ttl_s: int) -> bool:
        """A cooldown: true the first time within ``ttl_s``."""
        return bool(await self._r.set(f"reg:cooldown:{key}", b"1", nx=True, ex=ttl_s))

    # --- sessions and throttling (short-lived, not rebuilt) ---------------------------------------
    async def open_session(self, sid: str, holder_id: str, ttl_s: int, provider_id_token: str = "") -> None:
        pipe = self._r.pipeline()
        pipe.set(f"reg:session:{sid}", holder_id, ex=ttl_s)
        if provider_id_token:
            pipe.set(f"reg:session-idt:{sid}", provider_id_token, ex=ttl_s)
        pipe.sadd(f"reg:sessions:{holder_id}", sid)
        pipe.expire(f"reg:sessions:{holder_id}", ttl_s)
        await pipe.execute()

    async def session_holder(self, sid: str) -> str | None:
        raw = await self._r.get(f"reg:session:{sid}")
        return as_text(raw) if raw else None

    async def session_provider_id_token(self, sid: str) -> str | None:
        raw = await self._r.get(f"reg:session-idt:{sid}")
        return as_text(raw) if raw else None

    async def keep_session_provider_id_token(self, sid: str, provider_id_token: str) -> None:
        remaining_ms = await self._r.pttl(f"reg:session:{sid}")
        if provider_id_token and remaining_ms > 0:
            await self._r.set(f"reg:session-idt:{sid}", provider_id_token, px=remaining_ms)

    @staticmethod
    def _session_keys(sid: str) -> tuple[str, str, str]:
        return f"reg:session:{sid}", f"reg:session-idt:{sid}", f"reg:reauth:{sid}"

    async def close_session(self, sid: str) -> None:
        await self._r.delete(*self._session_keys(sid))

    async def close_all_sessions(self, holder_id: str) -> None:
        await self.close_other_sessions(holder_id, keep_sid="")

    async def close_other_sessions(self, holder_id: str, keep_sid: str) -> None:
        key = f"reg:sessions:{holder_id}"
        closing = [sid for member in await self._r.smembers(key) if (sid := as_text(member)) != keep_sid]
        pipe = self._r.pipeline()
        for sid in closing:
            pipe.delete(*self._session_keys(sid))
        if not keep_sid:
            pipe.delete(key)
        elif closing:
            pipe.srem(key, *closing)
        await pipe.execute()

    async def mark_reauthenticated(self, sid: str, at: float, ttl_s: int) -> None:
        await self._r.set(f"reg:reauth:{sid}", f"{at:.6f}", ex=max(1, ttl_s))

    async def reauthenticated_at(self, sid: str) -> float | None:
        raw = await self._r.get(f"reg:reauth:{sid}") if sid else None
        return float(as_text(raw)) if raw else None

    async def login_history(self, holder_id: str) -> list[LoginRecord]:
        raw = cast(list[bytes], await self._r.lrange(f"reg:logins:{holder_id}", 0, -1))
        return [LoginRecord(**json.loads(item)) for item in raw]

    async def record_login(
        self, holder_id: str, login: LoginRecord, keep: int, keep_s: int, *events: OutgoingEvent
    ) -> None:
        if events:  # the alert first: a crash in between repeats an alert, never loses one
            await self._writer.write(*events)
        key = f"reg:logins:{holder_id}"
        pipe = self._r.pipeline()
        pipe.lpush(key, json.dumps(asdict(login)))
        pipe.ltrim(key, 0, keep - 1)
        pipe.expire(key, keep_s)
        await pipe.execute()

    async def save_not_me_link(self, token_sha256: str, holder_id: str, sent_to: str, ttl_s: int) -> None:
        value = json.dumps({"holder_id": holder_id, "sent_to": sent_to})
        await self._r.set(f"reg:notme:{token_sha256}", value, ex=max(1, ttl_s))

    async def use_not_me_link(self, token_sha256: str) -> tuple[str, str] | None:
        raw = await self._r.getdel(f"reg:notme:{token_sha256}")
        if not raw:
            return None
        text = as_text(raw)
        if not text.startswith("{"):  # a link recorded before the address was kept with it
            return text, ""
        link = json.loads(text)
        return str(link["holder_id"]), str(link["sent_to"])

    async def failures(self, since: float, *keys: str) -> list[list[float]]:
        pipe = self._r.pipeline(transaction=False)  # one round trip for every key
        for key in keys:
            pipe.zremrangebyscore(f"reg:fail:{key}", "-inf", since)
            # Members are the failure instants themselves (scores too): no score lookup needed.
            pipe.zrange(f"reg:fail:{key}", 0, -1)
        replies = await pipe.execute()
        return [[float(as_text(member)) for member in members] for members in replies[1::2]]

    async def add_failure(self, key: str, at: float, keep_s: int) -> None:
        pipe = self._r.pipeline()
        pipe.zadd(f"reg:fail:{key}", {f"{at:.6f}": at})
        pipe.expire(f"reg:fail:{key}", keep_s)
        await pipe.execute()

    async def clear_failures(self, key: str) -> None:
        await self._r.delete(f"reg:fail:{key}")

    @asynccontextmanager
    async def locked(self, name: str, ttl_ms: int = 10_000, wait_s: float = 0.0) -> AsyncIterator[None]:
        """Exclusive for ``ttl_ms`` at most; waits up to ``wait_s`` for a holder to finish, then LockBusy."""
        key = f"reg:lock:{name}"
        deadline = time.monotonic() + wait_s
        while not await self._r.set(key, b"1", nx=True, px=ttl_ms):
            if time.monotonic() >= deadline:
                raise LockBusy(name)
            await asyncio.sleep(0.02)
        try:
            yield
        finally:
            await self._r.delete(key)

    # --- rebuild after a Redis wipe, catch-up after a crash -----------------------------------------
    async def needs_rebuild(self) -> bool:
        return not await self._r.exists(self.REBUILT)

    async def rebuild(self, bootstrap: str) -> int:
        """Replay the private state topic from the start; the latest record of each id wins."""
        applied = await self._apply_records(bootstrap, since=None)
        await self._r.set(self.REBUILT, str(time.time()))
        log.info("rebuilt %d records from %s", applied, topics.ACCOUNT_STATE.name)
        return applied

    async def catch_up(self, bootstrap: str, window: timedelta = timedelta(minutes=10)) -> int:
        """Re-apply the records of the last ``window`` (versioned: only what Redis missed changes it).

        A process killed between a transaction's commit and its Redis write left Redis one version
        behind the topic; this runs at every start, before the gate opens."""
        return await self._apply_records(bootstrap, since=datetime.now().astimezone() - window)

    async def _apply_records(self, bootstrap: str, since: datetime | None) -> int:
        latest: dict[tuple[str, str], tuple[AccountStateRecorded, int]] = {}

        async def keep(record: ConsumerRecord[bytes, bytes]) -> None:
            rec = AccountStateRecorded.model_validate_json(record.value or b"{}")
            latest[(rec.kind, rec.record_id)] = (rec, record.offset)

        await replay(bootstrap, topics.ACCOUNT_STATE, keep, since=since)
        for (kind, record_id), (rec, version) in latest.items():
            if kind == "request":
                if rec.deleted:
                    await self._bury(record_id)
                else:
                    await self._put_request(rec.state, version)
            elif kind == "account" and rec.state:
                await self._put_account(rec.state, version)
            elif kind == "reset" and rec.state.get("expires_at") and not rec.deleted:
                left = datetime.fromisoformat(str(rec.state["expires_at"])).timestamp() - time.time()
                if left > 0:
                    await self._put_reset(rec.state, int(left))
        return len(latest)
