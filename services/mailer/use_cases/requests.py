"""What registration asks the mailer for: one job per requested mail, queued once."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from contracts.envelope import Envelope
from contracts.registration import MailRequested
from services.mailer.domain.jobs import MailJob
from services.mailer.use_cases.ports import Clock, Journal, MailQueue, TriggerRecord

_JOB_FIELDS = frozenset(f.name for f in fields(MailJob))  # a record journalled by an older version may carry more


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


@dataclass
class QueueRequestedMails:
    queue: MailQueue
    clock: Clock

    async def on_mail_requested(
        self, command: MailRequested, env: Envelope, trigger: TriggerRecord | None = None
    ) -> bool:
        """Queue the mail (``trigger``, the consumed record, is parked if the mail fails for good).

        False when the mail id is queued or sent already (a redelivered command)."""
        job = MailJob(
            job_id=command.mail_id,
            kind=command.kind,
            to=str(command.to),
            first_name=command.first_name,
            cause_event_id=env.event_id,
            correlation_id=env.correlation_id,
            subject_id=command.subject_id,
            holder_id=command.holder_id,
            link_issued_at=_iso(env.occurred_at) if command.link_expires_at else None,
            link_expires_at=_iso(command.link_expires_at),
            attempted_at=_iso(command.attempted_at),
            login_method=command.login_method,
            login_client=command.login_client,
            trigger=dict(trigger) if trigger else None,
        )
        return await self.queue.enqueue(job, self.clock())

    async def rebuild(self, journal: Journal) -> int:
        """Refill a wiped queue from the journal: a job queued and not yet sent goes out (its link is
        derived again, the very one registration recorded); a sent one is never sent again."""
        latest = {}
        async for recorded in journal.records():
            latest[recorded.job_id] = recorded
        requeued, now = 0, self.clock()
        for job_id, recorded in latest.items():
            if recorded.status == "sent":
                await self.queue.mark_sent(job_id)
            elif recorded.status == "queued":
                # Attempts start again; a report is repeated with the same event id (absorbed).
                known = {k: v for k, v in recorded.job.items() if k in _JOB_FIELDS}
                job = MailJob(**{**known, "attempts": 0, "first_try_at": None})  # type: ignore[arg-type]
                requeued += await self.queue.restore(job, now)
        await self.queue.mark_rebuilt()
        return requeued
