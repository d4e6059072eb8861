"""What the mailer's use cases need from the outside world, as ``typing.Protocol``s.

``adapters/redis_state.py`` and the in-memory fake (``tests/unit/fakes.py``) both implement
:class:`MailQueue`; ``tests/unit/test_queue_contract.py`` runs the same tests on both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol

from typing_extensions import TypedDict  # pydantic (FastStream's dependency checks) needs it before 3.12

from contracts.base import EventData
from contracts.mailer import MailJobRecorded
from contracts.topics import TopicSpec
from services.mailer.domain.jobs import MailJob

Clock = Callable[[], datetime]


class TriggerRecord(TypedDict):
    """The consumed Kafka record that queued a mail (JSON-able: it is stored with the job)."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: str  # the event's payload JSON
    headers: dict[str, str]  # its CloudEvents envelope


class MailQueue(Protocol):
    """The scheduled queue, journalled so that a wiped store gets it back."""

    async def enqueue(self, job: MailJob, due: datetime) -> bool:
        """Queue a job once (journalled first): an id already queued or already sent is not queued again."""
        ...

    async def restore(self, job: MailJob, due: datetime) -> bool:
        """Put a journalled job back (no-op if it is there already, or went out)."""
        ...

    async def claim_due(self, now: datetime, lease_s: float) -> MailJob | None: ...
    async def reschedule(self, job: MailJob, due: datetime) -> None: ...
    async def complete(self, job: MailJob) -> None:
        """The mail went out: never queued again (then journalled, retried until the journal takes it)."""
        ...

    async def forget(self, job: MailJob) -> None:
        """A job failed for good: journalled as failed, and dropped."""
        ...

    async def mark_sent(self, job_id: str) -> None: ...
    async def was_sent(self, job_id: str) -> bool: ...
    async def queued(self) -> int: ...
    async def count_send(self, recipient_key: str, window_s: int) -> int: ...
    async def needs_rebuild(self) -> bool:
        """True until :meth:`mark_rebuilt`: a first start, or a wiped store (refilled from the journal)."""
        ...

    async def mark_rebuilt(self) -> None: ...


class Publisher(Protocol):
    async def publish(
        self, topic: TopicSpec, data: EventData, *, key: str, correlation_id: str, event_id: str | None = None
    ) -> object: ...


class MessageSender(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class DeadLetterSink(Protocol):
    async def park(self, trigger: TriggerRecord, *, reason: str, error_type: str, mail_kind: str) -> None: ...


class Journal(Protocol):
    """The mailer's journal, read back from the start (the latest record per job is what counts)."""

    def records(self) -> AsyncIterator[MailJobRecorded]: ...
