"""The mailer over the real stack (issue 4): events published on the real broker with their CloudEvents
envelopes, mails received by the SMTP server the suite controls (which can refuse, or go away), the
mailer's own events and dead letters read back from Kafka. The mailer's Redis is only looked at to know
when an event has been consumed (so that "nothing was sent before X" means something)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from contracts import topics
from contracts.captcha import CaptchaFailed, CaptchaPassed
from contracts.envelope import Envelope
from contracts.registration import ConfirmationLinkRequested
from contracts.topics import physical_topics
from tests.conftest import TEST_ENV, Platform, local_services  # type: ignore[attr-defined]  # deploy/local/launcher.py
from tests.integration.events import (
    account_activated,
    account_requested,
    new_request_id,
    publish_event,
    read_all,
    records_for,
)
from tests.support.journey import Holder, answer, confirmation_link, current_challenge, server_side_answer, sign_up
from tests.support.kafka import Record, eventually
from tests.support.smtp_server import ReceivedMail

pytestmark = pytest.mark.integration

CONFIRMATION = "Activez votre compte"
SETTLE_S = 2.5  # how long "no second mail" is watched for: the test retry delays are at most 2 s
MAILER_TOPICS = (
    topics.ACCOUNT_REQUESTED,
    topics.CAPTCHA_PASSED,
    topics.CAPTCHA_FAILED,
    topics.ACCOUNT_ACTIVATED,
    topics.CONFIRMATION_LINK_REQUESTED,
    topics.PASSWORD_RESET_REQUESTED,
)


@pytest.fixture
async def mailer_redis(platform: Platform) -> AsyncIterator[Redis]:
    redis = Redis.from_url(platform.redis_url("mailer"))
    yield redis
    await redis.aclose()


def address(tag: str) -> str:
    return f"mailer.{tag}.{secrets.token_hex(5)}@example.org"


async def requested(platform: Platform, request_id: str, email: str, **kw: Any) -> Envelope:
    event = account_requested(request_id, email, **kw)
    return await publish_event(platform, topics.ACCOUNT_REQUESTED, event, key=request_id, correlation_id=request_id)


async def passed(platform: Platform, request_id: str, event_id: str | None = None) -> Envelope:
    event = CaptchaPassed(request_id=request_id, challenge_id=secrets.token_urlsafe(16), passed_at=datetime.now(UTC))
    return await publish_event(
        platform, topics.CAPTCHA_PASSED, event, key=request_id, correlation_id=request_id, event_id=event_id
    )


async def consumed(redis: Redis, key: str) -> None:
    """Wait until the mailer has handled an event, as seen in its working state."""

    async def present() -> bool:
        return bool(await redis.exists(key))

    await eventually(present)


async def queue_drained(redis: Redis) -> None:
    """No mail of an earlier test still waiting: scripted SMTP refusals must hit the mail under test."""

    async def empty() -> bool:
        return int(await redis.zcard("mail:queue")) == 0

    await eventually(empty, timeout=60)


async def mail_counts(platform: Platform) -> dict[tuple[str, str], float]:
    """The mailer's ``mails_total`` counter, by (kind, outcome), from its Prometheus endpoint."""
    async with httpx.AsyncClient(base_url=platform.url("mailer"), timeout=10) as client:
        text = (await client.get("/metrics")).text
    counts: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "mails_total":
                counts[(sample.labels["kind"], sample.labels["outcome"])] = sample.value
    return counts


async def exactly_one(platform: Platform, email: str, subject: str) -> ReceivedMail:
    [mail] = await platform.smtp.wait_for_mail(email, subject_contains=subject)
    await asyncio.sleep(SETTLE_S)
    mails = platform.smtp.mails_to(email)
    assert len(mails) == 1, [m.subject for m in mails]
    return mail


def link_token(mail: ReceivedMail) -> str:
    return parse_qs(urlsplit(confirmation_link(mail.text())).query)["token"][0]


@pytest.mark.parametrize("order", ["request_then_pass", "pass_then_request"])
async def test_the_confirmation_link_leaves_only_after_captcha_passed_in_either_order(
    platform: Platform, mailer_redis: Redis, order: str
) -> None:
    request_id, email = new_request_id("order"), address("order")
    if order == "request_then_pass":
        await requested(platform, request_id, email)
        await consumed(mailer_redis, f"mail:contacts:{request_id}")
        await asyncio.sleep(SETTLE_S)
        assert platform.smtp.mails_to(email) == [], "a confirmation left before the security check was passed"
        cause = await passed(platform, request_id)
    else:
        cause = await passed(platform, request_id)
        await consumed(mailer_redis, f"mail:passed:{request_id}")
        await asyncio.sleep(1)
        assert platform.smtp.mails_to(email) == []
        await requested(platform, request_id, email)

    mail = await exactly_one(platform, email, CONFIRMATION)
    assert mail.envelope_to == [email] and email in mail.to
    assert mail.message["Auto-Submitted"] == "auto-generated"
    assert mail.message["Date"] and "Mon Compte Formation" in str(mail.message["From"])
    message_id = str(mail.message["Message-ID"])
    assert message_id.startswith("<") and message_id.endswith(">")
    assert mail.message.get_content_type() == "multipart/alternative"
    link = confirmation_link(mail.text())
    assert link.startswith(platform.gateway) and link in mail.html()
    assert "Bonjour Léa" in mail.text()
    token = link_token(mail)
    assert len(token) >= 22  # ≥ 128 bits, base64url

    # Registration learns the token's hash and expiry, never the token.
    [sent] = await records_for(platform, topics.CONFIRMATION_LINK_SENT, request_id)
    assert sent.json()["token_sha256"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in sent.value.decode()
    assert sent.headers["ce_type"] == "fr.mcf.mailer.confirmation_link_sent"
    assert sent.headers["ce_correlationid"] == request_id

    # The same CaptchaPassed delivered again sends nothing more.
    await passed(platform, request_id, event_id=cause.event_id)
    await asyncio.sleep(SETTLE_S)
    assert len(platform.smtp.mails_to(email)) == 1
    assert len(await records_for(platform, topics.CONFIRMATION_LINK_SENT, request_id)) == 1


async def test_a_captcha_failed_request_gets_no_mail_even_if_a_pass_shows_up_later(
    platform: Platform, mailer_redis: Redis
) -> None:
    request_id, email = new_request_id("failed"), address("failed")
    await requested(platform, request_id, email)
    await consumed(mailer_redis, f"mail:contacts:{request_id}")
    failed = CaptchaFailed(request_id=request_id, reason="renewals_exhausted", failed_at=datetime.now(UTC))
    await publish_event(platform, topics.CAPTCHA_FAILED, failed, key=request_id, correlation_id=request_id)

    async def forgotten() -> bool:
        return not await mailer_redis.exists(f"mail:contacts:{request_id}")

    await eventually(forgotten)
    await asyncio.sleep(SETTLE_S)
    assert platform.smtp.mails_to(email) == []


async def test_the_welcome_mail_follows_activation_once(platform: Platform, mailer_redis: Redis) -> None:
    request_id, email, holder_id = new_request_id("welcome"), address("welcome"), secrets.token_hex(32)
    await requested(platform, request_id, email, holder_id=holder_id, first_name="Aïcha")
    await consumed(mailer_redis, f"mail:contacts:{request_id}")

    activated = account_activated(request_id, holder_id)
    first = await publish_event(platform, topics.ACCOUNT_ACTIVATED, activated, key=holder_id, correlation_id=request_id)
    mail = await exactly_one(platform, email, "Bienvenue")
    assert "Votre compte personnel sécurisé est activé" in mail.text()
    assert "Bonjour Aïcha" in mail.text()
    assert "Merci de ne pas répondre directement à ce courriel" in mail.text()
    assert mail.message["Auto-Submitted"] == "auto-generated"

    # A redelivery of the event, and the same activation under a new event id: no second welcome.
    await publish_event(
        platform,
        topics.ACCOUNT_ACTIVATED,
        activated,
        key=holder_id,
        correlation_id=request_id,
        event_id=first.event_id,
    )
    await publish_event(platform, topics.ACCOUNT_ACTIVATED, activated, key=holder_id, correlation_id=request_id)
    await asyncio.sleep(SETTLE_S)
    assert len(platform.smtp.mails_to(email)) == 1


async def test_a_4xx_is_retried_and_the_mail_arrives_once(platform: Platform, mailer_redis: Redis) -> None:
    await queue_drained(mailer_redis)
    before = await mail_counts(platform)
    request_id, email = new_request_id("4xx"), address("4xx")
    await requested(platform, request_id, email)
    await consumed(mailer_redis, f"mail:contacts:{request_id}")

    platform.smtp.refuse_next("451 4.3.0 try later")
    await passed(platform, request_id)
    mail = await exactly_one(platform, email, CONFIRMATION)

    after = await mail_counts(platform)
    deferred = after.get(("confirmation", "deferred"), 0) - before.get(("confirmation", "deferred"), 0)
    assert deferred == 1, "the 451 must have been answered to this mail, which was then retried"
    assert after.get(("confirmation", "failed"), 0) == before.get(("confirmation", "failed"), 0)
    # The retry is the same mail: its link is the one registration learns about.
    [sent] = await records_for(platform, topics.CONFIRMATION_LINK_SENT, request_id)
    assert sent.json()["token_sha256"] == hashlib.sha256(link_token(mail).encode()).hexdigest()
    assert [r for r in await read_all(platform, topics.MAIL_FAILED.name) if r.key == request_id] == []


async def test_a_5xx_emits_mail_failed_and_parks_the_triggering_event_on_the_dead_letter_topic(
    platform: Platform, mailer_redis: Redis
) -> None:
    await queue_drained(mailer_redis)
    request_id, email = new_request_id("5xx"), address("5xx")
    await requested(platform, request_id, email)
    await consumed(mailer_redis, f"mail:contacts:{request_id}")

    platform.smtp.refuse_next("550 5.1.1 mailbox unavailable")
    cause = await passed(platform, request_id)

    [failed] = await records_for(platform, topics.MAIL_FAILED, request_id)
    body = failed.json()
    assert body["kind"] == "confirmation" and body["smtp_code"] == 550
    assert "mailbox unavailable" in body["reason"] and email not in failed.value.decode()
    assert failed.headers["ce_type"] == "fr.mcf.mailer.mail_failed"
    assert failed.headers["ce_correlationid"] == request_id

    # The CaptchaPassed that queued the mail is parked, as it was, with the reason.
    # (registration parks this test's CaptchaPassed too, for a request id it never issued: not ours here)
    async def parked_by_mailer() -> list[Record]:
        return [
            r
            for r in await read_all(platform, topics.CAPTCHA_PASSED.dlq)
            if r.key == request_id and r.headers["dlq_consumer_group"] == "mailer"
        ]

    [parked] = await eventually(parked_by_mailer, timeout=30)
    originals = [r for r in await read_all(platform, topics.CAPTCHA_PASSED.name) if r.key == request_id]
    [original] = originals
    assert parked.value == original.value
    assert parked.headers["ce_id"] == cause.event_id
    assert parked.headers["ce_type"] == "fr.mcf.captcha.passed"
    assert parked.headers["dlq_original_topic"] == topics.CAPTCHA_PASSED.name
    assert parked.headers["dlq_original_offset"] == str(original.offset)
    assert parked.headers["dlq_consumer_group"] == "mailer"
    assert parked.headers["dlq_error_type"] == "PermanentMailError"
    assert "550" in parked.headers["dlq_reason"] and "mailbox unavailable" in parked.headers["dlq_reason"]

    # A permanent failure is not retried: nothing arrives. The link was announced before the one attempt
    # (registration must know a link before it can be clicked); it simply goes unused.
    await asyncio.sleep(SETTLE_S)
    assert platform.smtp.mails_to(email) == []
    assert len([r for r in await read_all(platform, topics.CONFIRMATION_LINK_SENT.name) if r.key == request_id]) == 1
    assert len(await records_for(platform, topics.MAIL_FAILED, request_id)) == 1


async def test_an_smtp_server_down_then_up_loses_nothing(platform: Platform, mailer_redis: Redis) -> None:
    await queue_drained(mailer_redis)
    before = await mail_counts(platform)
    people = [(new_request_id("down"), address(f"down{i}")) for i in range(3)]
    platform.smtp.stop()
    try:
        for request_id, email in people:
            await requested(platform, request_id, email)
            await passed(platform, request_id)

        async def all_deferred() -> bool:
            counts = await mail_counts(platform)
            return counts.get(("confirmation", "deferred"), 0) - before.get(("confirmation", "deferred"), 0) >= 6

        await eventually(all_deferred, timeout=60)  # each mail tried and refused at least twice
        assert all(platform.smtp.mails_to(email) == [] for _, email in people)
    finally:
        platform.smtp.start()

    for request_id, email in people:
        await platform.smtp.wait_for_mail(email, subject_contains=CONFIRMATION)
        await records_for(platform, topics.CONFIRMATION_LINK_SENT, request_id)
    await asyncio.sleep(SETTLE_S)
    assert [len(platform.smtp.mails_to(email)) for _, email in people] == [1, 1, 1]
    failed = {r.key for r in await read_all(platform, topics.MAIL_FAILED.name)}
    assert not failed & {request_id for request_id, _ in people}


async def test_per_recipient_cap_stops_mail_bombing(platform: Platform, mailer_redis: Redis) -> None:
    """Six sign-ups naming one address (a bot passing captchas to flood a stranger): five mails, then no more."""
    await queue_drained(mailer_redis)
    email = address("cap")
    request_ids = [new_request_id("cap") for _ in range(6)]
    for request_id in request_ids:
        await requested(platform, request_id, email)
        await passed(platform, request_id)

    def failed_here(records: list[Record]) -> list[Record]:
        return [r for r in records if r.key in request_ids]

    await platform.smtp.wait_for_mail(email, count=5, subject_contains=CONFIRMATION)
    parked = await records_for_any_key(platform, topics.MAIL_FAILED.name, request_ids)
    [capped] = failed_here(parked)
    assert capped.json()["kind"] == "confirmation" and capped.json()["smtp_code"] is None
    assert "recipient cap" in capped.json()["reason"]
    await asyncio.sleep(SETTLE_S)
    assert len(platform.smtp.mails_to(email)) == 5
    sent = {r.key for r in await read_all(platform, topics.CONFIRMATION_LINK_SENT.name)}
    assert sent & set(request_ids) == set(request_ids) - {capped.key}
    # The cap is a decision, not a fault: nothing to replay on the dead-letter topics.
    dead = await read_all(platform, topics.CAPTCHA_PASSED.dlq) + await read_all(platform, topics.ACCOUNT_REQUESTED.dlq)
    assert not [r for r in dead if r.key == capped.key and r.headers["dlq_consumer_group"] == "mailer"]


async def records_for_any_key(platform: Platform, topic: str, keys: list[str], timeout: float = 30) -> list[Record]:
    async def found() -> list[Record]:
        return [r for r in await read_all(platform, topic) if r.key in keys]

    records: list[Record] = await eventually(found, timeout=timeout)
    return records


async def reset_group_to_earliest(platform: Platform, group: str) -> None:
    """What an operator does to replay a consumer group: with the group stopped, commit the earliest offsets."""
    parts = [
        TopicPartition(t.name, p)
        for t in physical_topics()
        if t.name in {spec.name for spec in MAILER_TOPICS}
        for p in range(t.partitions)
    ]
    consumer = AIOKafkaConsumer(bootstrap_servers=platform.kafka, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(parts)
        earliest = await consumer.beginning_offsets(parts)

        async def committed() -> bool:
            try:
                await consumer.commit(earliest)
            except Exception:  # the group may still be rebalancing after the mailer left it
                return False
            return True

        await eventually(committed, timeout=60, interval=1)
    finally:
        await consumer.stop()


async def _past_last_record(consumer: AIOKafkaConsumer, tp: TopicPartition, end: int) -> int:
    """The offset just past the partition's last record. A partition written by transactions ends with a
    commit marker, which is no record: a consumer that handled everything has committed the marker's
    offset, one short of the log end."""
    back = 2
    while end > 0:
        consumer.seek(tp, max(0, end - back))
        batch = await consumer.getmany(tp, timeout_ms=2000)
        offsets = [r.offset for r in batch.get(tp, []) if r.offset < end]
        if offsets:
            return max(offsets) + 1
        if back >= end:
            return 0
        back *= 2
    return 0


async def group_caught_up(platform: Platform, group: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=platform.kafka)
    consumer = AIOKafkaConsumer(bootstrap_servers=platform.kafka, group_id=None, isolation_level="read_committed")
    await admin.start()
    await consumer.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
        parts = [tp for tp in offsets if tp.topic in {spec.name for spec in MAILER_TOPICS}]
        ends = await consumer.end_offsets(parts)
        consumer.assign(parts)
        for tp in parts:
            if offsets[tp].offset < await _past_last_record(consumer, tp, ends[tp]):
                return False
        return bool(parts)
    finally:
        await consumer.stop()
        await admin.close()


async def test_replaying_the_topics_from_the_start_sends_no_second_mail(
    platform: Platform, mailer_redis: Redis
) -> None:
    request_id, email, holder_id = new_request_id("replay"), address("replay"), secrets.token_hex(32)
    mine = [await requested(platform, request_id, email, holder_id=holder_id)]
    await consumed(mailer_redis, f"mail:contacts:{request_id}")
    mine.append(await passed(platform, request_id))
    await platform.smtp.wait_for_mail(email, subject_contains=CONFIRMATION)
    mine.append(
        await publish_event(
            platform,
            topics.ACCOUNT_ACTIVATED,
            account_activated(request_id, holder_id),
            key=holder_id,
            correlation_id=request_id,
        )
    )
    await platform.smtp.wait_for_mail(email, subject_contains="Bienvenue")
    await queue_drained(mailer_redis)
    links_before = len(await read_all(platform, topics.CONFIRMATION_LINK_SENT.name))

    # The operator replays the mailer's group from the start of every topic it reads (e.g. after a bad
    # deploy): stop the consumers, reset the group's offsets to the earliest, start again.
    local_services.stop(platform.state, ("mailer",))
    try:
        await reset_group_to_earliest(platform, "mailer")
        # For this holder's events, also lose the de-duplication keys (say they had expired): the mail
        # jobs' own "already sent" markers must still hold.
        await mailer_redis.delete(*(f"processed:mailer:{env.event_id}" for env in mine))
    finally:
        local_services.start(platform.state, ("mailer",), extra_env=TEST_ENV)

    async def caught_up() -> bool:
        return await group_caught_up(platform, "mailer")

    await eventually(caught_up, timeout=120, interval=1)
    await asyncio.sleep(SETTLE_S)
    await queue_drained(mailer_redis)
    # The new mailer process sent nothing at all (the replay covers every test's events so far).
    counts = await mail_counts(platform)
    assert sum(v for (_kind, outcome), v in counts.items() if outcome in ("sent", "failed")) == 0, counts
    assert len(platform.smtp.mails_to(email)) == 2
    assert len(await read_all(platform, topics.CONFIRMATION_LINK_SENT.name)) == links_before
    # This holder's replayed events were really handled again (not merely skipped as duplicates).
    assert await mailer_redis.exists(f"processed:mailer:{mine[1].event_id}")


async def test_a_duplicate_sign_up_warns_the_real_owner_and_mails_nothing_to_the_typed_address(
    platform: Platform,
) -> None:
    owner = Holder.new("owner")
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as http:
        # The real owner opens the account.
        request_id = await sign_up(http, owner)
        challenge = await current_challenge(http, request_id)
        expected = await server_side_answer(platform.redis_url("captcha"), challenge["challenge_id"])
        assert (await answer(http, challenge["challenge_id"], request_id, choice_id=expected["choice_id"])).is_success
        [mail] = await platform.smtp.wait_for_mail(owner.email, subject_contains=CONFIRMATION)
        url = urlsplit(confirmation_link(mail.text()))
        assert (await http.get(f"{url.path}?{url.query}")).status_code == 200
        await platform.smtp.wait_for_mail(owner.email, subject_contains="Bienvenue")

        # Someone signs up again with the owner's NIR and another address.
        intruder = Holder(owner.nir, owner.key, address("intruder"), first_name="Mallory")
        newcomer = Holder.new("newcomer")
        duplicate = await http.post("/api/v1/registrations", json=intruder.form())
        fresh = await http.post("/api/v1/registrations", json=newcomer.form())
        assert duplicate.status_code == fresh.status_code == 202, duplicate.text
        dup, new = duplicate.json(), fresh.json()
        assert set(dup) == set(new) and dup["status"] == new["status"] == "awaiting_captcha"
        assert dup["status_url"] == f"/api/v1/registrations/{dup['request_id']}"
        assert len(dup["request_id"]) == len(new["request_id"])

        # Nothing is sent before the security check is passed.
        challenge = await current_challenge(http, dup["request_id"])
        await asyncio.sleep(1)
        assert len(platform.smtp.mails_to(owner.email)) == 2
        expected = await server_side_answer(platform.redis_url("captcha"), challenge["challenge_id"])
        ok = await answer(http, challenge["challenge_id"], dup["request_id"], choice_id=expected["choice_id"])
        assert ok.status_code == 200, ok.text

        [warning] = await platform.smtp.wait_for_mail(owner.email, subject_contains="Tentative d'inscription")
        assert "Bonjour Chloé" in warning.text() and "Mallory" not in warning.text()
        assert "vous avez déjà un compte" in warning.text().lower()
        await asyncio.sleep(SETTLE_S)
        assert platform.smtp.mails_to(intruder.email) == []
        assert len(platform.smtp.mails_to(owner.email)) == 3
        # No confirmation link exists for the duplicate request: nothing to activate.
        assert not [
            r for r in await read_all(platform, topics.CONFIRMATION_LINK_SENT.name) if r.key == dup["request_id"]
        ]


async def test_a_wiped_mailer_rebuilds_from_the_topics_and_loses_no_holder(
    platform: Platform, mailer_redis: Redis
) -> None:
    """Redis wiped: contacts and passes come back from the topics. A request whose link went out is not
    mailed again (resend works again instead); a request still before its check gets its link once passed;
    a request that passed while the mailer was down (its link never announced) gets exactly one mail."""
    await queue_drained(mailer_redis)
    delivered, waiting, later, unannounced = (new_request_id(t) for t in ("wdel", "wwait", "wlater", "wnone"))
    emails = {rid: address(rid[:6]) for rid in (delivered, waiting, later, unannounced)}
    await requested(platform, delivered, emails[delivered])
    await passed(platform, delivered)
    await platform.smtp.wait_for_mail(emails[delivered], subject_contains=CONFIRMATION)
    await requested(platform, later, emails[later])
    await consumed(mailer_redis, f"mail:contacts:{later}")

    local_services.stop(platform.state, ("mailer",))
    try:
        await requested(platform, waiting, emails[waiting])
        await requested(platform, unannounced, emails[unannounced])
        await passed(platform, unannounced)  # passes while no mailer runs: nothing announced yet
        await mailer_redis.flushdb()
    finally:
        local_services.start(platform.state, ("mailer",), extra_env=TEST_ENV)
    assert await mailer_redis.exists("mail:rebuilt")  # rebuilt before the service declared itself ready

    [mail] = await platform.smtp.wait_for_mail(emails[unannounced], subject_contains=CONFIRMATION)
    assert await mailer_redis.exists(f"mail:contacts:{waiting}") and await mailer_redis.exists(f"mail:contacts:{later}")
    await passed(platform, later)
    await platform.smtp.wait_for_mail(emails[later], subject_contains=CONFIRMATION)

    # The request whose link had been announced and delivered asks for a new one: the contacts are back.
    resend = ConfirmationLinkRequested(request_id=delivered, resend_number=1)
    await publish_event(platform, topics.CONFIRMATION_LINK_REQUESTED, resend, key=delivered, correlation_id=delivered)
    await platform.smtp.wait_for_mail(emails[delivered], count=2, subject_contains=CONFIRMATION)

    await asyncio.sleep(SETTLE_S)
    assert [len(platform.smtp.mails_to(emails[rid])) for rid in (delivered, later, unannounced)] == [2, 1, 1]
    assert platform.smtp.mails_to(emails[waiting]) == []  # its check is not passed: nothing may go out
    assert confirmation_link(mail.text())
