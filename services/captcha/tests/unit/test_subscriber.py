"""The captcha's Kafka side in memory (FastStream's ``TestKafkaBroker``): the real subscriber, delivery
rules and publisher adapter, with the use cases on fake stores; no broker, no Redis."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from faststream.kafka import KafkaBroker, KafkaMessage, TestKafkaBroker

from contracts import topics
from contracts.envelope import Envelope
from contracts.registration import SecurityCheckRequested
from eventing.delivery import DeliveryGuard
from eventing.memory import MemoryProcessedEvents
from eventing.publishing import EventPublisher, derived_event_id
from services.captcha.adapters.kafka_events import KafkaCaptchaEvents
from services.captcha.app import subscribers
from services.captcha.domain.challenge import ChallengeSettings
from services.captcha.tests.unit.fakes import FakeClock, MemoryChallengeStore
from services.captcha.use_cases.checks import SecurityChecks

REQUEST = "req-kafka-0001"


@dataclass
class Captcha:
    broker: KafkaBroker
    store: MemoryChallengeStore
    clock: FakeClock
    issued: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)  # (payload, headers)
    parked: list[dict[str, Any]] = field(default_factory=list)  # dead-letter headers


@pytest.fixture
async def captcha() -> AsyncIterator[Captcha]:
    broker = KafkaBroker("127.0.0.1:9092")
    guard = DeliveryGuard(broker=broker, processed=MemoryProcessedEvents())
    broker.add_middleware(guard.middleware)
    clock = FakeClock(datetime.now(UTC))
    store = MemoryChallengeStore(clock)
    events = KafkaCaptchaEvents(EventPublisher(broker, "captcha"))
    subscribers.register(broker, guard, SecurityChecks(store, events, ChallengeSettings(), random.Random(3), clock))
    world = Captcha(broker, store, clock)

    @broker.subscriber(topics.CHALLENGE_ISSUED.name, group_id="test-registration")
    async def challenge_issued(body: dict[str, Any], message: KafkaMessage) -> None:
        world.issued.append((body, dict(message.headers)))

    @broker.subscriber(f"{topics.SECURITY_CHECK_REQUESTED.name}.dlq", group_id="test-operator")
    async def dead_letter(message: KafkaMessage) -> None:
        world.parked.append(dict(message.headers))

    async with TestKafkaBroker(broker):
        yield world


async def check_requested(captcha: Captcha, event_id: str, payload: dict[str, Any]) -> None:
    """Publish as registration does: payload JSON, CloudEvents binary-mode headers."""
    envelope = Envelope(
        event_id=event_id,
        type=SecurityCheckRequested.EVENT_TYPE,
        schema_version=SecurityCheckRequested.SCHEMA_VERSION,
        occurred_at=captcha.clock(),
        correlation_id=REQUEST,
        producer="registration",
    )
    await captcha.broker.publish(
        json.dumps(payload).encode(),
        topic=topics.SECURITY_CHECK_REQUESTED.name,
        key=REQUEST.encode(),
        headers=envelope.to_headers(),
    )


def a_request(captcha: Captcha) -> dict[str, Any]:
    # What registration's command carries: no personal data.
    return {"request_id": REQUEST, "expires_at": (captcha.clock() + timedelta(days=7)).isoformat(), "channel": "web"}


async def test_an_account_request_on_kafka_leads_to_a_challenge_announced_on_kafka(captcha: Captcha) -> None:
    await check_requested(captcha, "evt-req-1", a_request(captcha))

    [(payload, headers)] = captcha.issued
    current = await captcha.store.current_id(REQUEST)
    assert payload["request_id"] == REQUEST and payload["challenge_id"] == current
    assert len(payload["picture_urls"]) == 5 and payload["audio_url"].endswith(f"/{current}/audio")
    assert headers["ce_id"] == derived_event_id("evt-req-1", "challenge")
    assert headers["ce_type"] == "fr.mcf.captcha.challenge_issued"
    assert headers["ce_correlationid"] == REQUEST


async def test_a_redelivered_account_request_is_absorbed_one_challenge_one_announcement(captcha: Captcha) -> None:
    await check_requested(captcha, "evt-req-2", a_request(captcha))
    await check_requested(captcha, "evt-req-2", a_request(captcha))

    assert len(captcha.issued) == 1


async def test_an_account_request_without_a_request_id_is_parked_with_a_reason_not_lost(captcha: Captcha) -> None:
    broken = {k: v for k, v in a_request(captcha).items() if k != "request_id"}

    await check_requested(captcha, "evt-req-3", broken)

    assert captcha.issued == []
    [parked] = captcha.parked
    assert parked["dlq_consumer_group"] == "captcha"
    assert "request_id" in parked["dlq_reason"]
