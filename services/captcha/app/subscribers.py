"""The captcha's Kafka side: what it consumes (each subscriber calls one use case) and what it produces."""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from contracts import topics
from contracts.registration import AccountRequested
from eventing.consuming import CurrentEnvelope, declare_publisher, subscribe
from eventing.delivery import DeliveryGuard
from services.captcha.use_cases.checks import SecurityChecks

GROUP = "captcha"


def register(broker: KafkaBroker, guard: DeliveryGuard, checks: SecurityChecks) -> None:
    @subscribe(broker, guard, topics.ACCOUNT_REQUESTED, group_id=GROUP)
    async def account_requested(event: AccountRequested, env: CurrentEnvelope) -> None:
        await checks.on_account_requested(event.request_id, env.event_id, event.expires_at)

    for produced in (topics.CHALLENGE_ISSUED, topics.CAPTCHA_PASSED, topics.CAPTCHA_FAILED):
        declare_publisher(broker, produced)
