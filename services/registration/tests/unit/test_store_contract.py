"""The store port's contract, run on the in-memory fake and on the Redis adapter (a real Redis of the
suite's own; the Kafka transaction is replaced by a recording writer, proven on Kafka in
tests/integration). What the use-case tests rely on the fake for is what the real store does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from contracts import topics
from contracts.registration import AccountStateRecorded, SecurityCheckRequested
from eventing.publishing import OutgoingEvent
from services.registration.adapters.store import RegistrationStore as RedisRegistrationStore
from services.registration.domain.account import SignupRequest
from services.registration.domain.login_history import LoginRecord
from services.registration.domain.records import Account, PasswordReset, PendingDetails
from services.registration.tests.unit.fakes import MemoryEvents, MemoryStore
from services.registration.use_cases.ports import LockBusy, RegistrationStore

NOW = datetime.now(UTC)
EVENTS = MemoryEvents()


class RecordingWriter:
    def __init__(self) -> None:
        self.written: list[OutgoingEvent] = []

    async def write(self, *events: OutgoingEvent) -> list[int]:
        first = len(self.written)
        self.written.extend(events)
        return list(range(first, first + len(events)))


@dataclass
class Subject:
    store: RegistrationStore
    written: Callable[[], list[OutgoingEvent]]  # the events committed with state changes, in order


def _state_record(record: AccountStateRecorded) -> OutgoingEvent:
    return EVENTS.event(topics.ACCOUNT_STATE, record, key=record.record_id, correlation_id=record.record_id)


@pytest.fixture(params=["memory", "redis"])
async def subject(request: pytest.FixtureRequest) -> AsyncIterator[Subject]:
    if request.param == "memory":
        memory = MemoryStore()
        yield Subject(memory, lambda: memory.written)
        return
    redis = Redis.from_url(request.getfixturevalue("redis_url"))
    await redis.flushdb()
    writer = RecordingWriter()
    try:
        yield Subject(
            RedisRegistrationStore(redis, writer, _state_record),
            lambda: [e for e in writer.written if e.topic != topics.ACCOUNT_STATE.name],
        )
    finally:
        await redis.aclose()


def details(purpose: str = "signup") -> PendingDetails:
    return PendingDetails(
        nir="1900575123456", first_name="Léa", birth_name="Martin", email="lea@example.org",
        password_hash="h", birth_year_month="1990-05", purpose=purpose,
    )  # fmt: skip


def check_event(request_id: str) -> OutgoingEvent:
    data = SecurityCheckRequested(request_id=request_id, expires_at=NOW + timedelta(days=7))
    return EVENTS.event(topics.SECURITY_CHECK_REQUESTED, data, key=request_id, correlation_id=request_id)


async def test_a_saved_request_reads_back_with_its_events_written_alongside(subject: Subject) -> None:
    store = subject.store
    req = SignupRequest.start("req-1", "holder-1", NOW)
    await store.save_request(req, details(), check_event("req-1"))
    assert await store.request("req-1") == (req, details())
    assert [e.key for e in subject.written()] == [b"req-1"]
    assert await store.request("unknown") is None


async def test_only_a_real_sign_up_is_the_holders_latest_request(subject: Subject) -> None:
    store = subject.store
    await store.save_request(SignupRequest.start("req-1", "holder-1", NOW), details())
    await store.save_request(SignupRequest.start("decoy", "holder-1", NOW), details("pending_request"))
    latest = await store.latest_request("holder-1")
    assert latest is not None and latest[0].request_id == "req-1"
    assert await store.latest_request("holder-2") is None


async def test_an_issued_link_finds_its_request(subject: Subject) -> None:
    store = subject.store
    req = SignupRequest.start("req-1", "holder-1", NOW).pass_captcha(NOW).issue_link("a" * 64, NOW)
    await store.save_request(req, details())
    assert await store.request_for_link("a" * 64) == "req-1"
    assert await store.request_for_link("b" * 64) is None


async def test_a_forgotten_request_is_gone_not_unknown(subject: Subject) -> None:
    store = subject.store
    req = SignupRequest.start("req-1", "holder-1", NOW)
    await store.save_request(req, details())
    await store.set_challenge("req-1", {"challenge_id": "c1"}, 60)
    assert [rid async for rid in store.request_ids()] == ["req-1"]
    await store.forget_request(req)
    assert await store.request("req-1") is None and await store.challenge("req-1") is None
    assert await store.is_gone("req-1") and not await store.is_gone("req-2")


async def test_accounts_and_their_opening(subject: Subject) -> None:
    store = subject.store
    req = SignupRequest.start("req-1", "holder-1", NOW).pass_captcha(NOW).issue_link("a" * 64, NOW)
    account = Account("holder-1", "1900575123456", "Léa", "Martin", "l@x.org", "h", "1990-05", NOW.isoformat(), "req-1")
    active = req.activate("a" * 64, NOW)
    await store.open_account(account, active, details(), check_event("req-1"))
    assert await store.account("holder-1") == account
    found = await store.request("req-1")
    assert found is not None and found[0] == active
    account.email = "new@x.org"
    await store.save_account(account)
    saved = await store.account("holder-1")
    assert saved is not None and saved.email == "new@x.org"
    assert len(subject.written()) == 1
    # What a sign-up decides on, read together: the account and the latest request of the holder.
    assert await store.standing("holder-1") == (saved, (active, details()))
    assert await store.standing("holder-2") == (None, None)
    assert await store.counted_standing(("signup:a", 60), "holder-1") == (1, saved, (active, details()))
    assert await store.counted_standing(("signup:a", 60), "holder-2") == (2, None, None)
    assert await store.count("signup:a", 60) == 3  # the same counter as count's


async def test_an_account_linked_to_franceconnect_is_found_by_its_subject(subject: Subject) -> None:
    store = subject.store
    account = Account("holder-1", "1900575123456", "Léa", "Martin", "l@x.org", "", "1990-05", NOW.isoformat(), "r")
    await store.save_account(account)
    assert await store.holder_for_subject("fc-sub-1") is None
    account.franceconnect_subject, account.identity_verified_by = "fc-sub-1", "franceconnect"
    await store.save_account(account)
    assert await store.holder_for_subject("fc-sub-1") == "holder-1"
    assert await store.holder_for_subject("fc-sub-2") is None
    saved = await store.account("holder-1")
    assert saved is not None and saved.identity_verified_by == "franceconnect" and not saved.has_password


async def test_a_reset_is_found_by_its_link_until_used(subject: Subject) -> None:
    store = subject.store
    reset = PasswordReset("r1", "holder-1", NOW.isoformat(), "c" * 64, (NOW + timedelta(hours=1)).isoformat())
    await store.save_reset(reset, 3600)
    assert await store.reset("r1") == reset
    assert await store.reset_for_link("c" * 64) == reset
    account = Account("holder-1", "1900575123456", "Léa", "Martin", "l@x.org", "h2", "1990-05", NOW.isoformat(), "r")
    reset.used_at = NOW.isoformat()
    await store.reset_used(account, reset)
    used = await store.reset_for_link("c" * 64)
    assert used is not None and used.used_at == reset.used_at
    acct = await store.account("holder-1")
    assert acct is not None and acct.password_hash == "h2"


async def test_sessions_close_one_by_one_or_all_at_once(subject: Subject) -> None:
    store = subject.store
    for sid in ("s1", "s2"):
        await store.open_session(sid, "holder-1", 60)
    await store.open_session("s3", "holder-2", 60)
    assert await store.session_holder("s1") == "holder-1"
    await store.close_session("s1")
    assert await store.session_holder("s1") is None
    await store.close_all_sessions("holder-1")
    assert await store.session_holder("s2") is None and await store.session_holder("s3") == "holder-2"


async def test_other_sessions_close_and_the_kept_one_keeps_its_provider_token_and_reauthentication(
    subject: Subject,
) -> None:
    store = subject.store
    await store.open_session("s1", "holder-1", 60, provider_id_token="id-token-1")
    await store.open_session("s2", "holder-1", 60)
    await store.open_session("s3", "holder-2", 60)
    assert await store.session_provider_id_token("s1") == "id-token-1"
    assert await store.session_provider_id_token("s2") is None
    await store.mark_reauthenticated("s1", 1234.5, 60)
    assert await store.reauthenticated_at("s1") == 1234.5 and await store.reauthenticated_at("s2") is None
    await store.close_other_sessions("holder-1", keep_sid="s1")
    assert await store.session_holder("s2") is None and await store.session_holder("s3") == "holder-2"
    assert await store.session_holder("s1") == "holder-1"
    assert await store.session_provider_id_token("s1") == "id-token-1"
    await store.close_session("s1")
    assert await store.session_provider_id_token("s1") is None and await store.reauthenticated_at("s1") is None


async def test_a_later_provider_login_from_a_session_replaces_its_token_and_a_closed_one_gets_none(
    subject: Subject,
) -> None:
    store = subject.store
    await store.open_session("s1", "holder-1", 60)  # a password login
    await store.keep_session_provider_id_token("s1", "id-token-linking")
    assert await store.session_provider_id_token("s1") == "id-token-linking"
    await store.keep_session_provider_id_token("s1", "id-token-reauth")
    assert await store.session_provider_id_token("s1") == "id-token-reauth"
    await store.close_session("s1")
    await store.keep_session_provider_id_token("s1", "id-token-late")
    assert await store.session_provider_id_token("s1") is None
    await store.keep_session_provider_id_token("never-opened", "id-token")
    assert await store.session_provider_id_token("never-opened") is None


async def test_a_pending_email_change_is_found_by_its_link(subject: Subject) -> None:
    store = subject.store
    account = Account("holder-1", "1900575123456", "Léa", "Martin", "l@x.org", "h", "1990-05", NOW.isoformat(), "r")
    account.email_change_to, account.email_change_link_sha256 = "new@x.org", "e" * 64
    account.email_change_expires_at = (NOW + timedelta(hours=1)).isoformat()
    await store.save_account(account)
    assert await store.holder_for_email_change("e" * 64) == "holder-1"
    assert await store.holder_for_email_change("f" * 64) is None
    account.email_change_link_sha256 = "f" * 64
    await store.save_account(account)
    assert await store.holder_for_email_change("f" * 64) == "holder-1"
    found = await store.account("holder-1")
    assert found is not None and found.email_change_link_sha256 == "f" * 64  # the account's hash decides


async def test_the_login_history_keeps_the_newest_logins_and_writes_the_alert_with_one(subject: Subject) -> None:
    store = subject.store
    logins = [LoginRecord(f"2026-11-{day:02d}T09:00:00+00:00", "password", "Firefox", "Linux", "192.0.2.0/24")
              for day in range(1, 5)]  # fmt: skip
    for login in logins[:3]:
        await store.record_login("holder-1", login, 3, 3600)
    await store.record_login("holder-1", logins[3], 3, 3600, check_event("alert"))
    assert await store.login_history("holder-1") == logins[:0:-1]  # newest first, the oldest dropped
    assert await store.login_history("holder-2") == []
    assert [e.key for e in subject.written()] == [b"alert"]


async def test_a_not_me_link_names_its_holder_and_its_address_once(subject: Subject) -> None:
    store = subject.store
    await store.save_not_me_link("d" * 64, "holder-1", "l@x.org", 60)
    assert await store.use_not_me_link("e" * 64) is None
    assert await store.use_not_me_link("d" * 64) == ("holder-1", "l@x.org")
    assert await store.use_not_me_link("d" * 64) is None


async def test_counters_cooldowns_and_failures(subject: Subject) -> None:
    store = subject.store
    assert [await store.count("k", 60) for _ in range(3)] == [1, 2, 3]
    assert await store.claim("c", 60) and not await store.claim("c", 60)
    t = NOW.timestamp()
    for at in (t - 7200, t - 10, t - 5):
        await store.add_failure("nir:x", at, 3600)
    await store.add_failure("addr:y", t - 1, 3600)
    (nir,) = await store.failures(t - 3600, "nir:x")
    assert sorted(nir) == [t - 10, t - 5]
    assert await store.failures(t - 3600, "addr:y", "nir:none") == [[t - 1], []]
    await store.clear_failures("nir:x")
    assert await store.failures(t - 3600, "nir:x", "addr:y") == [[], [t - 1]]


async def test_a_lock_is_exclusive_and_a_second_holder_gives_up_after_its_wait(subject: Subject) -> None:
    store = subject.store
    async with store.locked("request:r1"):
        with pytest.raises(LockBusy):
            async with store.locked("request:r1", wait_s=0.05):
                pass
        async with store.locked("request:r2"):  # another name is free
            pass
    async with store.locked("request:r1"):  # released
        pass


async def test_a_waiter_is_woken_by_the_write_not_by_its_timeout(subject: Subject) -> None:
    store = subject.store
    req = SignupRequest.start("req-1", "holder-1", NOW)
    await store.save_request(req, details())
    loop = asyncio.get_running_loop()

    async def pass_later() -> None:
        await asyncio.sleep(0.1)
        await store.save_request(req.pass_captcha(NOW), details())

    started = loop.time()
    await asyncio.gather(store.wait_for_change("req-1", req, timeout_s=10), pass_later())
    assert loop.time() - started < 5  # woken by the save, long before the timeout
    # Already different from what the caller saw: at once; nothing changes: back after the timeout.
    await asyncio.wait_for(store.wait_for_change("req-1", req, timeout_s=10), 2)
    current = await store.request("req-1")
    assert current is not None
    started = loop.time()
    await store.wait_for_change("req-1", current[0], timeout_s=0.2)
    assert loop.time() - started >= 0.15
