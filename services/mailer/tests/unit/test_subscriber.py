"""The mailer's subscriber on FastStream's in-memory ``TestKafkaBroker``: the service as ``app/main.py``
builds it (delivery guard, envelope, trigger record), with the queue and SMTP swapped for fakes and the
de-duplication keys kept in memory. No Kafka, Redis or SMTP server runs."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from contracts import topics
from contracts.envelope import Envelope
from contracts.registration import MailRequested
from eventing.memory import MemoryProcessedEvents
from eventing.service import ServiceRuntime
from services.mailer.app.main import build
from services.mailer.settings import Settings
from services.mailer.tests.unit.fakes import FakeMailQueue, FakeMessageSender


@dataclass
class Service:
    runtime: ServiceRuntime
    broker: KafkaBroker  # patched: publishing reaches the subscribers in memory
    queue: FakeMailQueue
    dead_letters: list[tuple[bytes, dict[str, str]]]


@pytest.fixture
async def service() -> AsyncIterator[Service]:
    settings = Settings(
        kafka_bootstrap_servers="127.0.0.1:9", redis_url="redis://127.0.0.1:9/0", link_token_key=secrets.token_hex(32)
    )
    queue = FakeMailQueue()
    runtime, _app = build(settings, queue=queue, smtp=FakeMessageSender())
    runtime.guard.processed = MemoryProcessedEvents()
    runtime.no_state()  # nothing to rebuild: open the gate the subscribers wait at
    dead_letters: list[tuple[bytes, dict[str, str]]] = []

    @runtime.broker.subscriber(topics.MAIL_REQUESTED.dlq)
    async def parked(message: KafkaMessage) -> None:  # as an operator's tool reads the dead-letter topic
        dead_letters.append((message.body, {k: v for k, v in message.headers.items() if isinstance(v, str)}))

    async with TestKafkaBroker(runtime.broker) as broker:
        yield Service(runtime, broker, queue, dead_letters)


def confirmation(request_id: str = "r1") -> MailRequested:
    return MailRequested(
        mail_id=f"confirmation:{request_id}:first",
        kind="confirmation",
        to="lea@example.org",
        first_name="Léa",
        holder_id="h" * 64,
        subject_id=request_id,
        link_expires_at=datetime.now(UTC) + timedelta(hours=24),
    )


async def publish(service: Service, command: MailRequested, event_id: str | None = None) -> Envelope:
    envelope = Envelope.for_event(
        command, producer="registration", correlation_id=command.subject_id, event_id=event_id
    )
    await service.broker.publish(
        command.model_dump_json().encode(),
        topic=topics.MAIL_REQUESTED.name,
        key=command.subject_id.encode(),
        headers=envelope.to_headers(),
    )
    return envelope


async def test_a_mail_requested_message_queues_one_job_with_its_envelope_and_record(service: Service) -> None:
    command = confirmation()
    envelope = await publish(service, command)

    assert await service.queue.queued() == 1
    job = service.queue.job("confirmation:r1:first")
    assert job is not None
    assert (job.kind, job.to, job.subject_id) == ("confirmation", "lea@example.org", "r1")
    assert (job.cause_event_id, job.correlation_id) == (envelope.event_id, "r1")
    assert job.link_issued_at == envelope.occurred_at.isoformat()
    # The consumed record rides with the job, to be parked as it was if the mail fails for good.
    assert job.trigger is not None
    assert job.trigger["topic"] == topics.MAIL_REQUESTED.name and job.trigger["key"] == "r1"
    assert job.trigger["headers"]["ce_id"] == envelope.event_id
    assert MailRequested.model_validate_json(job.trigger["value"]) == command


async def test_a_redelivered_or_repeated_command_queues_nothing_more(service: Service) -> None:
    first = await publish(service, confirmation())
    await publish(service, confirmation(), event_id=first.event_id)  # redelivered: skipped by the guard
    await publish(service, confirmation())  # the same mail asked for again: the mail id decides
    await publish(service, confirmation("r2"))
    assert await service.queue.queued() == 2
    assert service.queue.journal.statuses("confirmation:r1:first") == ["queued"]


async def test_a_malformed_command_is_parked_with_its_reason_and_queues_nothing(service: Service) -> None:
    envelope = Envelope.for_event(confirmation(), producer="registration", correlation_id="r1")
    body = b'{"mail_id": "confirmation:r1:first", "kind": "carrier-pigeon"}'
    await service.broker.publish(body, topic=topics.MAIL_REQUESTED.name, key=b"r1", headers=envelope.to_headers())

    assert await service.queue.queued() == 0
    [(parked, headers)] = service.dead_letters
    assert parked == body
    assert headers["dlq_consumer_group"] == "mailer" and headers["dlq_original_topic"] == topics.MAIL_REQUESTED.name
    assert "invalid message" in headers["dlq_reason"] and headers["ce_id"] == envelope.event_id
