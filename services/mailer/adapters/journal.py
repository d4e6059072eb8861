"""The mailer's journal (``mailer.mail-jobs.v1``) read back from the start, for a rebuild."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiokafka import ConsumerRecord

from contracts import topics
from contracts.mailer import MailJobRecorded
from eventing.replay import replay, skipping_invalid


@dataclass(frozen=True)
class KafkaJournal:
    bootstrap: str

    async def records(self) -> AsyncIterator[MailJobRecorded]:
        read: list[MailJobRecorded] = []

        async def keep(record: ConsumerRecord[bytes, bytes]) -> None:
            read.append(MailJobRecorded.model_validate_json(record.value or b"{}"))

        await replay(self.bootstrap, topics.MAIL_JOBS, skipping_invalid(keep))
        for recorded in read:
            yield recorded
