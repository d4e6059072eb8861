"""The captcha's Kafka side: what it consumes (each subscriber calls one use case) and what it produces."""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from contracts import topics
from contracts.registration import SecurityCheckRequested
from eventing.consuming import CurrentEnvelope, declare_publisher, subscribe
from eventing.delivery import DeliveryGuard
from services.captcha.use_cases.checks import SecurityChecks

GROUP = "captcha"


def register(broker: KafkaBroker, guard: DeliveryGuard, checks: SecurityChecks) -> None:
    @subscribe(broker, guard, topics.SECURITY_CHECK_REQUESTED, group_id=GROUP)
    async def check_requested(event: SecurityCheckRequested, env: CurrentEnvelope) -> None:
        await checks.on_check_requested(event.request_id, env.event_id, event.expires_at)

    for produced in (topics.CHALLENGE_ISSUED, topics.CAPTCHA_PASSED, topics.CAPTCHA_FAILED):
        declare_publisher(broker, produced)
