"""In-memory fakes of the mailer's ports (``use_cases/ports.py``), for use-case tests in milliseconds.

:class:`FakeMailQueue` keeps the Redis ``MailerState``'s rules (``test_queue_contract.py`` runs the same
tests on both): jobs are stored as JSON and handed back as fresh objects, every change of a job's fate is
journalled before it is applied, a sent id is never queued again.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from email.message import EmailMessage

from contracts.base import EventData
from contracts.mailer import MailJobRecorded
from contracts.topics import TopicSpec
from services.mailer.adapters.redis_state import journalled
from services.mailer.domain.errors import MailDeliveryError
from services.mailer.domain.jobs import MailJob
from services.mailer.use_cases.ports import TriggerRecord


@dataclass
class FakeJournal:
    """The mailer's journal topic: ``write`` is what the queue journals with, ``records`` reads it back."""

    written: list[MailJobRecorded] = field(default_factory=list)

    async def write(self, record: MailJobRecorded) -> None:
        self.written.append(record)

    async def records(self) -> AsyncIterator[MailJobRecorded]:
        for record in list(self.written):
            yield record

    def statuses(self, job_id: str) -> list[str]:
        return [r.status for r in self.written if r.job_id == job_id]


class FakeMailQueue:
    def __init__(self, journal: FakeJournal | None = None) -> None:
        self.journal = journal or FakeJournal()
        self._jobs: dict[str, str] = {}  # job id -> JSON, as Redis holds it
        self._due: dict[str, float] = {}
        self._sent: set[str] = set()
        self._sends: dict[str, int] = {}
        self._rebuilt = False

    async def enqueue(self, job: MailJob, due: datetime) -> bool:
        if job.job_id in self._sent or job.job_id in self._jobs:
            return False
        await self.journal.write(MailJobRecorded(job_id=job.job_id, status="queued", job=journalled(job)))
        return await self.restore(job, due)

    async def restore(self, job: MailJob, due: datetime) -> bool:
        if job.job_id in self._sent or job.job_id in self._jobs:
            return False
        self._jobs[job.job_id] = json.dumps(asdict(job))
        self._due[job.job_id] = due.timestamp()
        return True

    async def claim_due(self, now: datetime, lease_s: float) -> MailJob | None:
        due = sorted((at, job_id) for job_id, at in self._due.items() if at <= now.timestamp())
        if not due:
            return None
        job_id = due[0][1]
        self._due[job_id] = now.timestamp() + lease_s
        return MailJob(**json.loads(self._jobs[job_id]))

    async def reschedule(self, job: MailJob, due: datetime) -> None:
        self._jobs[job.job_id] = json.dumps(asdict(job))
        self._due[job.job_id] = due.timestamp()

    async def complete(self, job: MailJob) -> None:
        self._sent.add(job.job_id)
        self._drop(job.job_id)
        await self.journal.write(MailJobRecorded(job_id=job.job_id, status="sent"))

    async def forget(self, job: MailJob) -> None:
        await self.journal.write(MailJobRecorded(job_id=job.job_id, status="failed"))
        self._drop(job.job_id)

    def _drop(self, job_id: str) -> None:
        self._jobs.pop(job_id, None)
        self._due.pop(job_id, None)

    async def mark_sent(self, job_id: str) -> None:
        self._sent.add(job_id)

    async def was_sent(self, job_id: str) -> bool:
        return job_id in self._sent

    async def queued(self) -> int:
        return len(self._due)

    async def count_send(self, recipient_key: str, window_s: int) -> int:
        self._sends[recipient_key] = self._sends.get(recipient_key, 0) + 1
        return self._sends[recipient_key]

    async def needs_rebuild(self) -> bool:
        return not self._rebuilt

    async def mark_rebuilt(self) -> None:
        self._rebuilt = True

    # for assertions (not part of the port)
    def job(self, job_id: str) -> MailJob | None:
        raw = self._jobs.get(job_id)
        return MailJob(**json.loads(raw)) if raw else None

    def due_at(self, job_id: str) -> float | None:
        return self._due.get(job_id)


@dataclass(frozen=True)
class Published:
    topic: TopicSpec
    data: EventData
    key: str
    correlation_id: str
    event_id: str | None


@dataclass
class FakePublisher:
    published: list[Published] = field(default_factory=list)

    async def publish(
        self, topic: TopicSpec, data: EventData, *, key: str, correlation_id: str, event_id: str | None = None
    ) -> object:
        self.published.append(Published(topic, data, key, correlation_id, event_id))
        return None

    def on(self, topic: TopicSpec) -> list[Published]:
        return [p for p in self.published if p.topic == topic]


@dataclass
class FakeMessageSender:
    """An SMTP server that accepts everything, unless told to refuse the next sends (``refuse_next``)."""

    sent: list[EmailMessage] = field(default_factory=list)
    _refusals: list[MailDeliveryError] = field(default_factory=list)

    def refuse_next(self, *errors: MailDeliveryError) -> None:
        self._refusals.extend(errors)

    async def send(self, message: EmailMessage) -> None:
        if self._refusals:
            raise self._refusals.pop(0)
        self.sent.append(message)


@dataclass(frozen=True)
class Parked:
    trigger: TriggerRecord
    reason: str
    error_type: str
    mail_kind: str


@dataclass
class FakeDeadLetters:
    parked: list[Parked] = field(default_factory=list)

    async def park(self, trigger: TriggerRecord, *, reason: str, error_type: str, mail_kind: str) -> None:
        self.parked.append(Parked(trigger, reason, error_type, mail_kind))
