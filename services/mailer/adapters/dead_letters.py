"""Parking the event behind a mail that failed for good on ``<its topic>.dlq``.

The mailer acknowledges an event as soon as its mail is queued, so by the time SMTP refuses the mail
for good (5xx, or a transient failure that outlasted the retry window) the Kafka message is long
committed and the delivery middleware cannot park it. The consumer therefore keeps a copy of the
record that queued each mail (:class:`TriggerRecord`, stored on the job) and the sender parks that copy
here, in the same shape as ``eventing.delivery.DeliveryGuard.park``: original key, value and headers,
plus the ``dlq_*`` headers operators already know.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from faststream.kafka import KafkaBroker

from services.mailer.use_cases.ports import TriggerRecord


def trigger_from_consumer_record(raw: Any) -> TriggerRecord:
    """From an ``aiokafka.ConsumerRecord`` (what FastStream's ``KafkaMessage.raw_message`` is)."""
    return TriggerRecord(
        topic=str(raw.topic),
        partition=int(raw.partition),
        offset=int(raw.offset),
        key=raw.key.decode() if raw.key else None,
        value=(raw.value or b"").decode(),
        headers={k: v.decode() for k, v in (raw.headers or ())},
    )


class KafkaDeadLetters:
    def __init__(self, broker: KafkaBroker, group: str) -> None:
        self._broker = broker
        self._group = group

    async def park(self, trigger: TriggerRecord, *, reason: str, error_type: str, mail_kind: str) -> None:
        headers = dict(trigger["headers"])
        headers.update(
            {
                "dlq_reason": reason[:1000],
                "dlq_error_type": error_type,
                "dlq_original_topic": trigger["topic"],
                "dlq_original_partition": str(trigger["partition"]),
                "dlq_original_offset": str(trigger["offset"]),
                "dlq_consumer_group": self._group,
                "dlq_failed_at": datetime.now(UTC).isoformat(),
                "dlq_mail_kind": mail_kind,
            }
        )
        key = trigger["key"]
        await self._broker.publish(
            trigger["value"].encode(),
            topic=f"{trigger['topic']}.dlq",
            key=key.encode() if key is not None else None,
            headers=headers,
        )
