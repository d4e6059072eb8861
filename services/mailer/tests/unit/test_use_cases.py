"""The mailer's use cases against in-memory fakes of their ports: what registration asks for is queued once
(``QueueRequestedMails``), refilled from the journal after a wipe, and sent, retried, refused or capped
(``MailSender.send_one``), with the reports registration and operators read. Both use cases share one
wiring of fakes (``Mailer``), hence one module somewhat over 300 lines."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from contracts import topics
from contracts.envelope import Envelope
from contracts.links import link_token
from contracts.mailer import MailFailed, MailJobRecorded, MailKind, MailSent
from contracts.registration import MailRequested
from eventing.publishing import derived_event_id
from services.mailer.adapters.templates import JinjaTemplateRenderer
from services.mailer.domain import MailSettings, PermanentMailError, RecipientCap, RetryPolicy, TransientMailError
from services.mailer.tests.unit.conftest import NOW
from services.mailer.tests.unit.fakes import (
    FakeDeadLetters,
    FakeJournal,
    FakeMailQueue,
    FakeMessageSender,
    FakePublisher,
)
from services.mailer.use_cases.ports import TriggerRecord
from services.mailer.use_cases.requests import QueueRequestedMails
from services.mailer.use_cases.sending import MailSender

KEY = bytes(range(32))
TRIGGER = TriggerRecord(
    topic=topics.MAIL_REQUESTED.name, partition=1, offset=42, key="r1", value="{}", headers={"ce_id": "evt"}
)


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


LINK_KINDS = ("confirmation", "password_reset", "new_login", "email_change", "email_changed")
LINK_PATHS = {
    "confirmation": "/activation?",
    "password_reset": "/mot-de-passe/nouveau?",
    "new_login": "/connexion/pas-moi?",
    "email_change": "/courriel/confirmation?",
    "email_changed": "/connexion/pas-moi?",
}


def command(
    mail_id: str = "confirmation:r1:first", kind: MailKind = "confirmation", to: str = "lea@example.org"
) -> MailRequested:
    return MailRequested(
        mail_id=mail_id,
        kind=kind,
        to=to,
        first_name="Léa",
        holder_id="h" * 64,
        subject_id=mail_id.split(":")[1] if ":" in mail_id else mail_id,
        link_expires_at=NOW + timedelta(hours=24) if kind in LINK_KINDS else None,
        attempted_at=NOW
        if kind in ("duplicate_signup", "signup_cancelled", "account_reclaimed", "new_login", "email_changed")
        else None,
        login_method="mot de passe" if kind == "new_login" else None,
        login_client="Firefox sur Linux, réseau 192.0.2.0/24" if kind == "new_login" else None,
    )


def envelope(cmd: MailRequested) -> Envelope:
    return Envelope.for_event(cmd, producer="registration", correlation_id=cmd.subject_id, occurred_at=NOW)


@dataclass
class Mailer:
    """The two use cases wired to fakes, as ``app/main.py`` wires them to Redis, Kafka and SMTP."""

    settings: MailSettings
    renderer: JinjaTemplateRenderer
    cap: RecipientCap = field(default_factory=lambda: RecipientCap(max_mails=5))
    clock: Clock = field(default_factory=Clock)
    journal: FakeJournal = field(default_factory=FakeJournal)
    smtp: FakeMessageSender = field(default_factory=FakeMessageSender)
    publisher: FakePublisher = field(default_factory=FakePublisher)
    dead_letters: FakeDeadLetters = field(default_factory=FakeDeadLetters)

    def __post_init__(self) -> None:
        self.queue = FakeMailQueue(self.journal)
        self.requests = QueueRequestedMails(self.queue, clock=self.clock)
        self.sender = MailSender(
            self.queue,
            self.smtp,
            self.publisher,
            KEY,
            self.renderer,
            self.settings,
            RetryPolicy(base_delay=timedelta(seconds=1), give_up_after=timedelta(hours=24)),
            self.cap,
            dead_letters=self.dead_letters,
            clock=self.clock,
        )

    async def ask(self, cmd: MailRequested) -> bool:
        return await self.requests.on_mail_requested(cmd, envelope(cmd), TRIGGER)

    async def send_all(self) -> int:
        """Run the sender until nothing is due; how many jobs it handled."""
        handled = 0
        while await self.sender.send_one():
            handled += 1
        return handled


@pytest.fixture
def mailer(settings: MailSettings, renderer: JinjaTemplateRenderer) -> Mailer:
    return Mailer(settings, renderer)


def token_in(text: str) -> str:
    match = re.search(r"https://\S+\?token=[A-Za-z0-9_-]+", text)
    assert match, text
    return parse_qs(urlsplit(match.group(0)).query)["token"][0]


def text_of(mailer: Mailer, index: int = -1) -> str:
    part = mailer.smtp.sent[index].get_body(("plain",))
    assert part is not None
    return str(part.get_content())


# --- QueueRequestedMails ------------------------------------------------------------------------------


async def test_a_mail_id_is_queued_once_however_often_the_command_arrives(mailer: Mailer) -> None:
    assert await mailer.ask(command())
    assert not await mailer.ask(command())  # redelivered under another event id
    assert await mailer.queue.queued() == 1
    assert mailer.journal.statuses("confirmation:r1:first") == ["queued"]
    job = mailer.queue.job("confirmation:r1:first")
    assert job is not None and job.trigger == TRIGGER  # kept, to be parked if the mail fails for good
    assert job.link_issued_at == NOW.isoformat() and job.link_expires_at == (NOW + timedelta(hours=24)).isoformat()

    await mailer.send_all()
    assert not await mailer.ask(command())  # and never again once sent
    assert len(mailer.smtp.sent) == 1


def recorded(job_id: str, status: str, **job: object) -> MailJobRecorded:
    return MailJobRecorded(job_id=job_id, status=status, job={"job_id": job_id, **job} if job else {})


def queued_record(mail_id: str, to: str, **extra: object) -> MailJobRecorded:
    cmd = command(mail_id, to=to)
    return recorded(
        mail_id,
        "queued",
        kind="confirmation",
        to=to,
        first_name="Léa",
        cause_event_id="evt-" + mail_id,
        correlation_id=cmd.subject_id,
        subject_id=cmd.subject_id,
        link_issued_at=NOW.isoformat(),
        link_expires_at=(NOW + timedelta(hours=24)).isoformat(),
        **extra,
    )


async def test_rebuild_requeues_what_waited_never_what_went_out_and_drops_what_failed(mailer: Mailer) -> None:
    journal = FakeJournal(
        [
            queued_record("confirmation:a:first", "a@example.org", attempts=3, first_try_at=NOW.isoformat()),
            queued_record("confirmation:b:first", "b@example.org"),
            recorded("confirmation:b:first", "sent"),
            queued_record("confirmation:c:first", "c@example.org"),
            recorded("confirmation:c:first", "failed"),
            # Journalled by an older version, with keys this one does not know: still sent.
            queued_record("confirmation:d:first", "d@example.org", token_sha256="ab" * 32, announced_at=None),
        ]
    )
    assert await mailer.queue.needs_rebuild()
    assert await mailer.requests.rebuild(journal) == 2
    assert not await mailer.queue.needs_rebuild()
    a = mailer.queue.job("confirmation:a:first")
    assert a is not None and (a.attempts, a.first_try_at) == (0, None)  # a fresh retry window
    assert await mailer.queue.was_sent("confirmation:b:first")
    assert mailer.queue.job("confirmation:c:first") is None and not await mailer.queue.was_sent("confirmation:c:first")

    await mailer.send_all()
    # The refilled mails carry the very links registration recorded: derived again from the mail ids.
    tokens = {str(m["To"]): token_in(text_of(mailer, n)) for n, m in enumerate(mailer.smtp.sent)}
    assert tokens == {
        "a@example.org": link_token(KEY, "confirmation:a:first"),
        "d@example.org": link_token(KEY, "confirmation:d:first"),
    }
    assert not await mailer.ask(command("confirmation:b:first", to="b@example.org"))  # the command replayed


# --- MailSender.send_one ------------------------------------------------------------------------------


async def test_a_sent_mail_is_reported_then_completed(mailer: Mailer) -> None:
    await mailer.ask(command())
    completed_when_reported: list[bool] = []
    publish = mailer.publisher.publish

    async def watching(*args: object, **kwargs: object) -> object:
        completed_when_reported.append(await mailer.queue.was_sent("confirmation:r1:first"))
        return await publish(*args, **kwargs)  # type: ignore[arg-type]

    mailer.publisher.publish = watching  # type: ignore[method-assign]
    assert await mailer.sender.send_one()
    assert not await mailer.sender.send_one()  # nothing left

    [message] = mailer.smtp.sent
    assert message["To"] == "lea@example.org" and "Activez votre compte" in str(message["Subject"])
    [report] = mailer.publisher.on(topics.MAIL_SENT)
    assert report.data == MailSent(mail_id="confirmation:r1:first", kind="confirmation", subject_id="r1", sent_at=NOW)
    assert (report.key, report.correlation_id) == ("r1", "r1")
    assert report.event_id == derived_event_id("confirmation:r1:first", "sent")  # a repeat is absorbed downstream
    assert completed_when_reported == [False]  # reported after SMTP accepted it, before the job was completed
    assert await mailer.queue.was_sent("confirmation:r1:first")
    assert mailer.journal.statuses("confirmation:r1:first") == ["queued", "sent"]


@pytest.mark.parametrize("kind", LINK_KINDS)
async def test_the_link_in_the_mail_carries_the_token_derived_from_the_mail_id(mailer: Mailer, kind: MailKind) -> None:
    mail_id = f"{kind}:r1:first"
    await mailer.ask(command(mail_id, kind=kind))
    await mailer.send_all()
    token = token_in(text_of(mailer))
    assert token == link_token(KEY, mail_id)
    assert f"{LINK_PATHS[kind]}token={token}" in text_of(mailer)
    assert token not in repr(mailer.publisher.published) and token not in repr(mailer.journal.written)


async def test_a_transient_failure_is_retried_with_back_off(mailer: Mailer) -> None:
    await mailer.ask(command())
    mailer.smtp.refuse_next(TransientMailError("try later", 451))
    assert await mailer.sender.send_one()

    job = mailer.queue.job("confirmation:r1:first")
    due = mailer.queue.due_at("confirmation:r1:first")
    assert job is not None and due is not None
    assert (job.attempts, job.last_error) == (1, "451 try later")
    assert NOW.timestamp() + 0.5 <= due <= NOW.timestamp() + 1.0  # attempt 1 waits in [d/2, d], d = 1 s
    assert mailer.smtp.sent == [] and mailer.publisher.published == [] and mailer.dead_letters.parked == []

    assert not await mailer.sender.send_one()  # not due yet
    mailer.clock.advance(1)
    assert await mailer.sender.send_one()
    assert len(mailer.smtp.sent) == 1 and len(mailer.publisher.on(topics.MAIL_SENT)) == 1


async def test_a_transient_failure_past_the_retry_window_fails_for_good(mailer: Mailer) -> None:
    await mailer.ask(command())
    mailer.smtp.refuse_next(TransientMailError("connection refused"), TransientMailError("connection refused"))
    await mailer.sender.send_one()
    mailer.clock.advance(24 * 3600)
    await mailer.sender.send_one()

    [failed] = mailer.publisher.on(topics.MAIL_FAILED)
    assert isinstance(failed.data, MailFailed) and "still failing after" in failed.data.reason
    [parked] = mailer.dead_letters.parked
    assert parked.error_type == "TransientMailError"
    assert await mailer.queue.queued() == 0


async def test_a_permanent_failure_reports_mail_failed_and_parks_the_command(mailer: Mailer) -> None:
    await mailer.ask(command())
    mailer.smtp.refuse_next(PermanentMailError(550, "5.1.1 mailbox unavailable"))
    assert await mailer.sender.send_one()

    [failed] = mailer.publisher.on(topics.MAIL_FAILED)
    assert failed.data == MailFailed(
        kind="confirmation", reason="550 5.1.1 mailbox unavailable", smtp_code=550, failed_at=NOW
    )
    assert failed.key == "r1" and failed.event_id == derived_event_id("confirmation:r1:first", "failed")
    assert "lea@example.org" not in failed.data.model_dump_json()
    [parked] = mailer.dead_letters.parked
    assert parked.trigger == TRIGGER and parked.error_type == "PermanentMailError"
    assert parked.mail_kind == "confirmation" and "mailbox unavailable" in parked.reason
    assert mailer.publisher.on(topics.MAIL_SENT) == [] and mailer.smtp.sent == []
    assert await mailer.queue.queued() == 0
    assert mailer.journal.statuses("confirmation:r1:first") == ["queued", "failed"]
    assert await mailer.ask(command())  # the parked command, replayed by an operator, queues it again


def kafka_down_for_the_next_report(mailer: Mailer) -> None:
    """The next report the mailer publishes fails as if Kafka were down; the ones after it go through."""
    publish = mailer.publisher.publish
    outages = [ConnectionError("Kafka is down")]

    async def flaky(*args: object, **kwargs: object) -> object:
        if outages:
            raise outages.pop()
        return await publish(*args, **kwargs)  # type: ignore[arg-type]

    mailer.publisher.publish = flaky  # type: ignore[method-assign]


async def test_a_failure_is_recorded_before_it_is_reported_so_a_lost_report_repeats_without_smtp(
    mailer: Mailer,
) -> None:
    await mailer.ask(command())
    mailer.smtp.refuse_next(PermanentMailError(550, "no such user"))
    kafka_down_for_the_next_report(mailer)
    with pytest.raises(ConnectionError):
        await mailer.sender.send_one()
    job = mailer.queue.job("confirmation:r1:first")
    assert job is not None and job.failure == "550 no such user"

    mailer.clock.advance(120)  # the lease ran out: the job comes back with its verdict
    assert await mailer.sender.send_one()
    assert len(mailer.publisher.on(topics.MAIL_FAILED)) == 1
    assert mailer.smtp.sent == []  # one SMTP transaction only: the verdict was not asked for again


async def test_an_accepted_mail_whose_report_is_lost_is_reported_again_never_sent_again(mailer: Mailer) -> None:
    # What the fault suite caught: Kafka down right after SMTP accepted a welcome mail sent it a second time.
    await mailer.ask(command())
    kafka_down_for_the_next_report(mailer)
    with pytest.raises(ConnectionError):
        await mailer.sender.send_one()
    assert len(mailer.smtp.sent) == 1 and not await mailer.queue.was_sent("confirmation:r1:first")

    mailer.clock.advance(120)  # the lease ran out: the job comes back, accepted already
    assert await mailer.sender.send_one()
    assert len(mailer.smtp.sent) == 1  # one SMTP transaction only
    [report] = mailer.publisher.on(topics.MAIL_SENT)
    assert report.data.sent_at == NOW  # type: ignore[attr-defined]  # when SMTP accepted it, not when reported
    assert await mailer.queue.was_sent("confirmation:r1:first")


async def test_the_recipient_cap_stops_mail_bombing_but_not_the_welcome(
    settings: MailSettings, renderer: JinjaTemplateRenderer
) -> None:
    mailer = Mailer(settings, renderer, cap=RecipientCap(max_mails=2))
    for n in range(3):
        await mailer.ask(command(f"confirmation:r{n}:first", to="Victime@Example.org"))
    await mailer.send_all()
    await mailer.ask(command("welcome:r0", kind="welcome", to="victime@example.org"))
    await mailer.send_all()

    assert [str(m["Subject"]).split()[0] for m in mailer.smtp.sent] == ["Activez", "Activez", "Bienvenue"]
    [capped] = mailer.publisher.on(topics.MAIL_FAILED)
    assert isinstance(capped.data, MailFailed)
    assert "recipient cap" in capped.data.reason and capped.data.smtp_code is None
    assert mailer.dead_letters.parked == []  # a decision, not a fault: nothing to replay
    assert len(mailer.publisher.on(topics.MAIL_SENT)) == 3


async def test_idle_senders_take_a_queued_mail_when_woken_and_all_stop(mailer: Mailer) -> None:
    mailer.sender.idle_s = 3600.0  # they would not look again by themselves within the test
    workers = asyncio.create_task(mailer.sender.run(4))
    await asyncio.sleep(0.05)  # each found the queue empty and waits
    assert await mailer.ask(command())
    mailer.sender.wake()
    try:
        async with asyncio.timeout(5):
            while not mailer.smtp.sent:
                await asyncio.sleep(0.01)
    finally:
        mailer.sender.stop()
        async with asyncio.timeout(5):  # one stop reaches every waiting worker
            await workers
    assert len(mailer.smtp.sent) == 1
