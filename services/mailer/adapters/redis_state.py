"""The mailer's working state in Redis: the scheduled mail queue (implements ``ports.MailQueue``).

Nothing here is the source of truth: every change of a mail job's fate (queued, sent, failed) is written
to the mailer's journal (``mailer.mail-jobs.v1``) *before* Redis, so a wiped Redis gets its queue back
(:meth:`MailerState.restore`). The queue is a sorted set of job ids scored by the instant they are due; a
sender *claims* a job by pushing its score one lease ahead, so a sender that dies mid-send lets the job
reappear instead of losing it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

from contracts.mailer import MailJobRecorded
from eventing.redis_store import as_text
from services.mailer.domain.jobs import MailJob

log = logging.getLogger("mailer.state")
# Writes one record to the journal topic (``ports.Journal`` is the other end: reading it back).
JournalWriter = Callable[[MailJobRecorded], Awaitable[None]]
# What the journal never holds: the consumed record that queued the job (it is on its own topic already).
_NOT_JOURNALLED = ("trigger",)

QUEUE = "mail:queue"

# Atomically take the earliest due job and push it one lease ahead (the claim).
_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 1)
if #due == 0 then return false end
redis.call('ZADD', KEYS[1], ARGV[2], due[1])
return due[1]
"""

# Put a job in the queue unless it went out already (KEYS: job, sent marker, queue). Atomic, so that a
# refill racing a sender that just completed the same job can never queue it a second time.
_RESTORE = """
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then return 0 end
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
return 1
"""


def journalled(job: MailJob) -> dict[str, Any]:
    return {k: v for k, v in asdict(job).items() if k not in _NOT_JOURNALLED}


class MailerState:
    REBUILT = "mail:rebuilt"  # present while the working state is whole

    def __init__(self, redis: Redis, journal: JournalWriter) -> None:
        self._r = redis
        self._journal = journal
        self._claim = redis.register_script(_CLAIM)
        self._restore = redis.register_script(_RESTORE)

    # the queue
    async def enqueue(self, job: MailJob, due: datetime) -> bool:
        """Queue a job once: a job id already queued or already sent is not queued again.

        Journalled first: once the consumed event is committed, the job survives a Redis wipe."""
        if await self._r.exists(f"mail:sent:{job.job_id}", f"mail:job:{job.job_id}"):
            return False
        await self._journal(MailJobRecorded(job_id=job.job_id, status="queued", job=journalled(job)))
        return await self.restore(job, due)

    async def restore(self, job: MailJob, due: datetime) -> bool:
        """Put a journalled job back in the queue (no-op if it is there already, or went out)."""
        keys = [f"mail:job:{job.job_id}", f"mail:sent:{job.job_id}", QUEUE]
        return bool(await self._restore(keys=keys, args=[json.dumps(asdict(job)), due.timestamp(), job.job_id]))

    async def claim_due(self, now: datetime, lease_s: float) -> MailJob | None:
        job_id = await self._claim(keys=[QUEUE], args=[now.timestamp(), now.timestamp() + lease_s])
        if not job_id:
            return None
        raw = await self._r.get(f"mail:job:{as_text(job_id)}")
        if raw is None:  # completed by another sender meanwhile
            await self._r.zrem(QUEUE, job_id)
            return None
        return MailJob(**json.loads(raw))

    async def reschedule(self, job: MailJob, due: datetime) -> None:
        await self._r.set(f"mail:job:{job.job_id}", json.dumps(asdict(job)))
        await self._r.zadd(QUEUE, {job.job_id: due.timestamp()})

    async def complete(self, job: MailJob, keep_s: int = 30 * 24 * 3600) -> None:
        """Forget the job (and its token) and remember that it went out: in Redis first, so that the
        job's lease can never bring back a mail the SMTP server accepted while Kafka is down; then in
        the journal, retried until Kafka takes it (a Redis wipe before that would send it again)."""
        pipe = self._r.pipeline()
        pipe.set(f"mail:sent:{job.job_id}", b"1", ex=keep_s)
        pipe.delete(f"mail:job:{job.job_id}")
        pipe.zrem(QUEUE, job.job_id)
        await pipe.execute()
        delay = 0.2
        while True:
            try:
                await self._journal(MailJobRecorded(job_id=job.job_id, status="sent"))
                return
            except Exception:
                log.warning("journal unavailable; %s's 'sent' record retried in %.1f s", job.job_id, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def forget(self, job: MailJob) -> None:
        """Drop a job that failed for good: replaying its parked trigger may queue it again."""
        await self._journal(MailJobRecorded(job_id=job.job_id, status="failed"))
        pipe = self._r.pipeline()
        pipe.delete(f"mail:job:{job.job_id}")
        pipe.zrem(QUEUE, job.job_id)
        await pipe.execute()

    async def mark_sent(self, job_id: str, keep_s: int = 30 * 24 * 3600) -> None:
        await self._r.set(f"mail:sent:{job_id}", b"1", ex=keep_s)

    async def needs_rebuild(self) -> bool:
        return not await self._r.exists(self.REBUILT)

    async def mark_rebuilt(self) -> None:
        await self._r.set(self.REBUILT, b"1")

    async def was_sent(self, job_id: str) -> bool:
        return bool(await self._r.exists(f"mail:sent:{job_id}"))

    async def queued(self) -> int:
        return int(await self._r.zcard(QUEUE))

    # anti-bombing: a fixed one-hour window per recipient (hashed key: no address in Redis)
    async def count_send(self, recipient_key: str, window_s: int) -> int:
        key = f"mail:cap:{recipient_key}"
        pipe = self._r.pipeline()
        pipe.incr(key)
        pipe.expire(key, window_s, nx=True)
        count, _ = await pipe.execute()
        return int(count)
