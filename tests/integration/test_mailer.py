"""The mailer over the real stack: ``MailRequested`` commands published on the real broker with their
CloudEvents envelopes (as registration sends them), mails received by the SMTP server the suite controls
(which can refuse, or go away), the mailer's reports (``MailSent``, ``MailFailed``) and dead letters read
back from Kafka. The mailer's Redis is only looked at to know when a command has been consumed (so that
"nothing was sent twice" means something) and to wipe it.

Over 300 lines: besides the tests, it holds its own readers of the topics and of the consumer group's offsets
(``tests/integration/events.py``, where ``read_all`` lives too, is being rewritten for the new flow)."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from contracts import topics
from contracts.envelope import Envelope
from contracts.links import link_token, token_hash
from contracts.mailer import MailKind
from contracts.registration import MailRequested
from contracts.topics import TopicSpec, physical_topics
from eventing.settings import LinkKey
from tests.conftest import TEST_ENV, Platform, local_services  # type: ignore[attr-defined]  # deploy/local/launcher.py
from tests.integration.events import read_all, records_for
from tests.support.kafka import Record, eventually, publish_raw
from tests.support.smtp_server import ReceivedMail

pytestmark = pytest.mark.integration

SUBJECTS = {
    "confirmation": "Activez votre compte",
    "welcome": "Bienvenue",
    "duplicate_signup": "Tentative d'inscription",
    "password_reset": "Réinitialisation de votre mot de passe",
}
SETTLE_S = 2.5  # how long "no second mail" is watched for: the test retry delays are at most 2 s
LINK = re.compile(r"https?://[^\s\"'<>]+\?token=[A-Za-z0-9_\-]+")


@pytest.fixture
async def mailer_redis(platform: Platform) -> AsyncIterator[Redis]:
    redis = Redis.from_url(platform.redis_url("mailer"))
    yield redis
    await redis.aclose()


@pytest.fixture(scope="module")
def link_key(platform: Platform) -> bytes:
    """The key the mailer under test derives links from: its settings (``MCF_LINK_TOKEN_KEY``, else the file
    under ``MCF_KEYS_DIR``, which the launcher points at the stack's keys folder), read the same way."""
    return LinkKey(keys_dir=Path(platform.state.var) / "keys").link_key()


def address(tag: str) -> str:
    return f"mailer.{tag}.{secrets.token_hex(5)}@example.org"


def new_subject(tag: str) -> str:
    return f"it-{tag}-{secrets.token_urlsafe(12)}"


def mail_requested(kind: MailKind, subject_id: str, to: str, *, first_name: str = "Léa") -> MailRequested:
    """The command as registration words it (``services/registration/use_cases/mails.py``)."""
    now = datetime.now(UTC)
    mail_id = {
        "confirmation": f"confirmation:{subject_id}:first",
        "welcome": f"welcome:{subject_id}",
        "duplicate_signup": f"duplicate:{subject_id}",
        "password_reset": f"reset:{subject_id}",
    }[kind]
    return MailRequested(
        mail_id=mail_id,
        kind=kind,
        to=to,
        first_name=first_name,
        holder_id=secrets.token_hex(32),
        subject_id=subject_id,
        link_expires_at=now + timedelta(hours=24) if kind in ("confirmation", "password_reset") else None,
        attempted_at=now if kind == "duplicate_signup" else None,
    )


async def request_mail(platform: Platform, command: MailRequested, *, event_id: str | None = None) -> Envelope:
    """Publish the command on the real topic as registration would: JSON value, CloudEvents headers."""
    envelope = Envelope.for_event(
        command, producer="registration", correlation_id=command.subject_id, event_id=event_id
    )
    value = command.model_dump_json().encode()
    await publish_raw(
        platform.kafka, topics.MAIL_REQUESTED.name, value, key=command.subject_id, headers=envelope.to_headers()
    )
    return envelope


async def keyed(platform: Platform, topic: TopicSpec | str, keys: set[str]) -> list[Record]:
    """The records of ``topic`` (as of now) under any of ``keys``."""
    return [r for r in await read_all(platform, topic if isinstance(topic, str) else topic.name) if r.key in keys]


async def queued_or_sent(redis: Redis, mail_id: str) -> None:
    """Wait until the mailer has consumed the command for ``mail_id``, as seen in its working state."""

    async def present() -> bool:
        return bool(await redis.exists(f"mail:job:{mail_id}", f"mail:sent:{mail_id}"))

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


def link_in(mail: ReceivedMail) -> str:
    match = LINK.search(mail.text())
    assert match, f"no link in mail:\n{mail.text()}"
    return match.group(0)


def token_in(mail: ReceivedMail) -> str:
    return parse_qs(urlsplit(link_in(mail)).query)["token"][0]


async def test_a_requested_confirmation_goes_out_once_with_the_link_registration_recorded(
    platform: Platform, mailer_redis: Redis, link_key: bytes
) -> None:
    subject_id, email = new_subject("confirm"), address("confirm")
    command = mail_requested("confirmation", subject_id, email)
    cause = await request_mail(platform, command)

    mail = await exactly_one(platform, email, SUBJECTS["confirmation"])
    assert mail.envelope_to == [email] and email in mail.to
    assert mail.message["Auto-Submitted"] == "auto-generated"
    assert mail.message["Date"] and "Mon Compte Formation" in str(mail.message["From"])
    message_id = str(mail.message["Message-ID"])
    assert message_id.startswith("<") and message_id.endswith(">")
    assert mail.message.get_content_type() == "multipart/alternative"
    link = link_in(mail)
    assert link.startswith(f"{platform.gateway}/activation?") and link in mail.html()
    assert "Bonjour Léa" in mail.text()
    # The token is the one derived from the mail id under the shared key: its SHA-256 is what registration
    # recorded when it asked for the mail. It travelled on no topic.
    token = token_in(mail)
    assert token == link_token(link_key, command.mail_id)

    [sent] = await records_for(platform, topics.MAIL_SENT, subject_id)
    body = sent.json()
    assert body["mail_id"] == command.mail_id and body["kind"] == "confirmation" and body["subject_id"] == subject_id
    assert token not in sent.value.decode() and token_hash(token) not in sent.value.decode()
    assert sent.headers["ce_type"] == "fr.mcf.mailer.mail_sent"
    assert sent.headers["ce_correlationid"] == subject_id

    # The same command delivered again, then the same mail asked for under a new event id: nothing more.
    await request_mail(platform, command, event_id=cause.event_id)
    await request_mail(platform, command)
    await asyncio.sleep(SETTLE_S)
    assert len(platform.smtp.mails_to(email)) == 1
    assert len(await records_for(platform, topics.MAIL_SENT, subject_id)) == 1
    assert await mailer_redis.exists(f"mail:sent:{command.mail_id}")


async def test_the_welcome_mail_greets_the_new_holder_once(platform: Platform) -> None:
    subject_id, email = new_subject("welcome"), address("welcome")
    command = mail_requested("welcome", subject_id, email, first_name="Aïcha")
    await request_mail(platform, command)
    mail = await exactly_one(platform, email, SUBJECTS["welcome"])
    assert "Votre compte personnel sécurisé est activé" in mail.text()
    assert "Bonjour Aïcha" in mail.text()
    assert "Merci de ne pas répondre directement à ce courriel" in mail.text()
    assert mail.message["Auto-Submitted"] == "auto-generated"
    assert not LINK.search(mail.text())  # a welcome carries no one-time link

    await request_mail(platform, command)  # asked again (a redelivered activation): no second welcome
    await asyncio.sleep(SETTLE_S)
    assert len(platform.smtp.mails_to(email)) == 1


async def test_the_duplicate_sign_up_warning_tells_the_owner_without_a_link(platform: Platform) -> None:
    """Whom to warn is registration's decision (test_registration's duplicate-NIR test); the mailer writes it."""
    subject_id, email = new_subject("duplicate"), address("owner")
    await request_mail(platform, mail_requested("duplicate_signup", subject_id, email, first_name="Chloé"))
    warning = await exactly_one(platform, email, SUBJECTS["duplicate_signup"])
    assert "Bonjour Chloé" in warning.text()
    assert "vous avez déjà un compte" in warning.text().lower()
    assert not LINK.search(warning.text())  # nothing to activate: only the login and reset pages


async def test_a_password_reset_mail_carries_the_derived_reset_link(platform: Platform, link_key: bytes) -> None:
    subject_id, email = new_subject("reset"), address("reset")
    command = mail_requested("password_reset", subject_id, email)
    await request_mail(platform, command)
    mail = await exactly_one(platform, email, SUBJECTS["password_reset"])
    link = link_in(mail)
    assert link.startswith(f"{platform.gateway}/mot-de-passe/nouveau?") and link in mail.html()
    assert token_in(mail) == link_token(link_key, command.mail_id)
    [sent] = await records_for(platform, topics.MAIL_SENT, subject_id)
    assert sent.json()["kind"] == "password_reset" and token_in(mail) not in sent.value.decode()


async def test_a_4xx_is_retried_and_the_mail_arrives_once(
    platform: Platform, mailer_redis: Redis, link_key: bytes
) -> None:
    await queue_drained(mailer_redis)
    before = await mail_counts(platform)
    subject_id, email = new_subject("4xx"), address("4xx")
    command = mail_requested("confirmation", subject_id, email)

    platform.smtp.refuse_next("451 4.3.0 try later")
    await request_mail(platform, command)
    mail = await exactly_one(platform, email, SUBJECTS["confirmation"])

    after = await mail_counts(platform)
    deferred = after.get(("confirmation", "deferred"), 0) - before.get(("confirmation", "deferred"), 0)
    assert deferred == 1, "the 451 must have been answered to this mail, which was then retried"
    assert after.get(("confirmation", "failed"), 0) == before.get(("confirmation", "failed"), 0)
    # The retry is the same mail: its link is still the one registration recorded.
    assert token_in(mail) == link_token(link_key, command.mail_id)
    assert len(await records_for(platform, topics.MAIL_SENT, subject_id)) == 1
    assert await keyed(platform, topics.MAIL_FAILED, {subject_id}) == []


async def test_a_5xx_emits_mail_failed_and_parks_the_command_on_the_dead_letter_topic(
    platform: Platform, mailer_redis: Redis
) -> None:
    await queue_drained(mailer_redis)
    subject_id, email = new_subject("5xx"), address("5xx")

    platform.smtp.refuse_next("550 5.1.1 mailbox unavailable")
    cause = await request_mail(platform, mail_requested("confirmation", subject_id, email))

    [failed] = await records_for(platform, topics.MAIL_FAILED, subject_id)
    body = failed.json()
    assert body["kind"] == "confirmation" and body["smtp_code"] == 550
    assert "mailbox unavailable" in body["reason"] and email not in failed.value.decode()
    assert failed.headers["ce_type"] == "fr.mcf.mailer.mail_failed"
    assert failed.headers["ce_correlationid"] == subject_id

    # The command that queued the mail is parked, as it was, with the reason.
    [parked] = await records_for(
        platform, topics.MAIL_REQUESTED.dlq, subject_id, where=lambda r: r.headers["dlq_consumer_group"] == "mailer"
    )
    [original] = await keyed(platform, topics.MAIL_REQUESTED, {subject_id})
    assert parked.value == original.value
    assert parked.headers["ce_id"] == cause.event_id
    assert parked.headers["ce_type"] == "fr.mcf.registration.mail_requested"
    assert parked.headers["dlq_original_topic"] == topics.MAIL_REQUESTED.name
    assert parked.headers["dlq_original_offset"] == str(original.offset)
    assert parked.headers["dlq_error_type"] == "PermanentMailError"
    assert parked.headers["dlq_mail_kind"] == "confirmation"
    assert "550" in parked.headers["dlq_reason"] and "mailbox unavailable" in parked.headers["dlq_reason"]

    # A permanent failure is not retried: nothing arrives, nothing is reported sent, one failure only.
    await asyncio.sleep(SETTLE_S)
    assert platform.smtp.mails_to(email) == []
    assert await keyed(platform, topics.MAIL_SENT, {subject_id}) == []
    assert len(await keyed(platform, topics.MAIL_FAILED, {subject_id})) == 1


async def test_an_smtp_server_down_then_up_loses_nothing_and_reports_only_accepted_mails(
    platform: Platform, mailer_redis: Redis
) -> None:
    await queue_drained(mailer_redis)
    before = await mail_counts(platform)
    people = [(new_subject("down"), address(f"down{i}")) for i in range(3)]
    subjects = {subject_id for subject_id, _ in people}
    platform.smtp.stop()
    try:
        for subject_id, email in people:
            await request_mail(platform, mail_requested("confirmation", subject_id, email))

        async def all_deferred() -> bool:
            counts = await mail_counts(platform)
            return counts.get(("confirmation", "deferred"), 0) - before.get(("confirmation", "deferred"), 0) >= 6

        await eventually(all_deferred, timeout=60)  # each mail tried and refused at least twice
        assert all(platform.smtp.mails_to(email) == [] for _, email in people)
        # MailSent reports a mail SMTP accepted: none yet.
        assert await keyed(platform, topics.MAIL_SENT, subjects) == []
    finally:
        platform.smtp.start()

    for subject_id, email in people:
        await platform.smtp.wait_for_mail(email, subject_contains=SUBJECTS["confirmation"])
        await records_for(platform, topics.MAIL_SENT, subject_id)
    await asyncio.sleep(SETTLE_S)
    assert [len(platform.smtp.mails_to(email)) for _, email in people] == [1, 1, 1]
    assert sorted(r.key or "" for r in await keyed(platform, topics.MAIL_SENT, subjects)) == sorted(subjects)
    assert await keyed(platform, topics.MAIL_FAILED, subjects) == []


async def test_per_recipient_cap_stops_mail_bombing(platform: Platform, mailer_redis: Redis) -> None:
    """Six sign-ups naming one address (a bot passing captchas to flood a stranger): five mails, then no more."""
    await queue_drained(mailer_redis)
    email = address("cap")
    subject_ids = [new_subject("cap") for _ in range(6)]
    for subject_id in subject_ids:
        await request_mail(platform, mail_requested("confirmation", subject_id, email))

    await platform.smtp.wait_for_mail(email, count=5, subject_contains=SUBJECTS["confirmation"])

    async def capped_reports() -> list[Record]:
        return await keyed(platform, topics.MAIL_FAILED, set(subject_ids))

    [capped] = await eventually(capped_reports)
    assert capped.json()["kind"] == "confirmation" and capped.json()["smtp_code"] is None
    assert "recipient cap" in capped.json()["reason"]
    await asyncio.sleep(SETTLE_S)
    assert len(platform.smtp.mails_to(email)) == 5
    sent = {r.key for r in await keyed(platform, topics.MAIL_SENT, set(subject_ids))}
    assert sent == set(subject_ids) - {capped.key}
    # The cap is a decision, not a fault: nothing to replay on the dead-letter topic.
    assert await keyed(platform, topics.MAIL_REQUESTED.dlq, {capped.key or ""}) == []


async def reset_group_to_earliest(platform: Platform, group: str) -> None:
    """What an operator does to replay a consumer group: with the group stopped, commit the earliest offsets."""
    parts = [TopicPartition(topics.MAIL_REQUESTED.name, p) for p in range(_partitions(topics.MAIL_REQUESTED))]
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


def _partitions(topic: TopicSpec) -> int:
    [count] = [t.partitions for t in physical_topics() if t.name == topic.name]
    return int(count)


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
        parts = [tp for tp in offsets if tp.topic == topics.MAIL_REQUESTED.name]
        ends = await consumer.end_offsets(parts)
        consumer.assign(parts)
        for tp in parts:
            if offsets[tp].offset < await _past_last_record(consumer, tp, ends[tp]):
                return False
        return bool(parts)
    finally:
        await consumer.stop()
        await admin.close()


async def test_replaying_the_commands_from_the_start_sends_no_second_mail(
    platform: Platform, mailer_redis: Redis
) -> None:
    subject_id, email = new_subject("replay"), address("replay")
    confirmation = await request_mail(platform, mail_requested("confirmation", subject_id, email))
    await platform.smtp.wait_for_mail(email, subject_contains=SUBJECTS["confirmation"])
    welcome = await request_mail(platform, mail_requested("welcome", subject_id, email))
    await platform.smtp.wait_for_mail(email, subject_contains=SUBJECTS["welcome"])
    await queue_drained(mailer_redis)
    reports_before = len(await read_all(platform, topics.MAIL_SENT.name))

    # The operator replays the mailer's group from the start of the topic (e.g. after a bad deploy): stop
    # the consumers, reset the group's offsets to the earliest, start again.
    local_services.stop(platform.state, ("mailer",))
    try:
        await reset_group_to_earliest(platform, "mailer")
        # For this holder's commands, also lose the de-duplication keys (say they had expired): the mails'
        # own "already sent" markers must still hold.
        await mailer_redis.delete(*(f"processed:mailer:{env.event_id}" for env in (confirmation, welcome)))
    finally:
        local_services.start(platform.state, ("mailer",), extra_env=TEST_ENV)

    async def caught_up() -> bool:
        return await group_caught_up(platform, "mailer")

    await eventually(caught_up, timeout=120, interval=1)
    await asyncio.sleep(SETTLE_S)
    await queue_drained(mailer_redis)
    # The new mailer process sent nothing at all (the replay covers every test's commands so far).
    counts = await mail_counts(platform)
    assert sum(v for (_kind, outcome), v in counts.items() if outcome in ("sent", "failed")) == 0, counts
    assert len(platform.smtp.mails_to(email)) == 2
    assert len(await read_all(platform, topics.MAIL_SENT.name)) == reports_before
    # This holder's replayed commands were really handled again (not merely skipped as duplicates).
    assert await mailer_redis.exists(f"processed:mailer:{confirmation.event_id}")


async def test_a_wiped_mailer_refills_its_queue_from_the_journal_and_sends_nothing_twice(
    platform: Platform, mailer_redis: Redis, link_key: bytes
) -> None:
    """Redis wiped while one mail went out and another waited on a refusing SMTP server: the waiting one
    comes back from the journal and goes out once, with the link registration recorded; the sent one is
    not sent again; a command published while the mailer was down is mailed once too."""
    await queue_drained(mailer_redis)
    before = await mail_counts(platform)
    delivered, waiting, later = (new_subject(tag) for tag in ("wsent", "wwait", "wlater"))
    emails = {subject_id: address(subject_id[3:8]) for subject_id in (delivered, waiting, later)}
    await request_mail(platform, mail_requested("confirmation", delivered, emails[delivered]))
    await platform.smtp.wait_for_mail(emails[delivered], subject_contains=SUBJECTS["confirmation"])
    delivered_id = f"confirmation:{delivered}:first"
    # Journalled "sent" (just after it is reported): what tells a refill not to send it again.
    await records_for(platform, topics.MAIL_JOBS, delivered_id, where=lambda r: r.json()["status"] == "sent")

    waiting_command = mail_requested("confirmation", waiting, emails[waiting])
    platform.smtp.stop()
    try:
        await request_mail(platform, waiting_command)

        async def deferred() -> bool:
            counts = await mail_counts(platform)
            return counts.get(("confirmation", "deferred"), 0) > before.get(("confirmation", "deferred"), 0)

        await eventually(deferred, timeout=60)  # queued, tried, refused: it waits in the queue
        local_services.stop(platform.state, ("mailer",))
        await request_mail(platform, mail_requested("confirmation", later, emails[later]))
        await mailer_redis.flushdb()
    finally:
        platform.smtp.start()
        local_services.start(platform.state, ("mailer",), extra_env=TEST_ENV)
    assert await mailer_redis.exists("mail:rebuilt")  # rebuilt before the service declared itself ready

    [mail] = await platform.smtp.wait_for_mail(emails[waiting], subject_contains=SUBJECTS["confirmation"])
    assert token_in(mail) == link_token(link_key, waiting_command.mail_id)
    await platform.smtp.wait_for_mail(emails[later], subject_contains=SUBJECTS["confirmation"])
    await asyncio.sleep(SETTLE_S)
    assert [len(platform.smtp.mails_to(emails[s])) for s in (delivered, waiting, later)] == [1, 1, 1]
    reports: dict[Any, int] = {}
    for record in await keyed(platform, topics.MAIL_SENT, set(emails)):
        reports[record.key] = reports.get(record.key, 0) + 1
    assert reports == {delivered: 1, waiting: 1, later: 1}
