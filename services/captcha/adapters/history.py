"""The requests' history read back from Kafka (implements ``RequestHistory``), for a rebuild."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from aiokafka import ConsumerRecord

from contracts import topics
from contracts.registration import SecurityCheckRequested
from eventing.replay import replay, skipping_invalid
from services.captcha.use_cases.ports import RequestClosed, RequestFact, RequestOpened


class KafkaRequestHistory:
    """Every retained ``SecurityCheckRequested``, then every ``CaptchaPassed`` and ``CaptchaFailed``.

    Records that do not parse are skipped: they were parked when first consumed.
    """

    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap

    async def facts(self) -> AsyncIterator[RequestFact]:
        found: list[RequestFact] = []

        async def on_requested(record: ConsumerRecord[bytes, bytes]) -> None:
            event = SecurityCheckRequested.model_validate_json(record.value or b"{}")
            found.append(RequestOpened(event.request_id, event.expires_at))

        async def on_closed(record: ConsumerRecord[bytes, bytes]) -> None:
            found.append(RequestClosed(json.loads(record.value or b"{}").get("request_id", "")))

        await replay(self._bootstrap, topics.SECURITY_CHECK_REQUESTED, skipping_invalid(on_requested))
        for topic in (topics.CAPTCHA_PASSED, topics.CAPTCHA_FAILED):
            await replay(self._bootstrap, topic, skipping_invalid(on_closed))
        for fact in found:
            yield fact
