"""The captcha's announcements on Kafka (implements ``CaptchaEvents``), keyed by request id."""

from __future__ import annotations

from contracts import topics
from contracts.base import EventData
from contracts.captcha import CaptchaChallengeIssued, CaptchaFailed, CaptchaPassed
from contracts.topics import TopicSpec
from eventing.publishing import EventPublisher, derived_event_id
from services.captcha.use_cases.ports import EventIdentity


class KafkaCaptchaEvents:
    def __init__(self, publisher: EventPublisher) -> None:
        self._publisher = publisher

    async def challenge_issued(self, event: CaptchaChallengeIssued, identity: EventIdentity) -> None:
        await self._publish(topics.CHALLENGE_ISSUED, event, event.request_id, identity)

    async def passed(self, event: CaptchaPassed, identity: EventIdentity) -> None:
        await self._publish(topics.CAPTCHA_PASSED, event, event.request_id, identity)

    async def failed(self, event: CaptchaFailed, identity: EventIdentity) -> None:
        await self._publish(topics.CAPTCHA_FAILED, event, event.request_id, identity)

    async def _publish(self, topic: TopicSpec, event: EventData, request_id: str, identity: EventIdentity) -> None:
        await self._publisher.publish(
            topic,
            event,
            key=request_id,
            correlation_id=request_id,
            event_id=derived_event_id(identity.cause, identity.what),
        )
