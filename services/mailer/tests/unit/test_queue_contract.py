"""The ``MailQueue`` port's contract, run against the in-memory fake and the Redis ``MailerState``.

The use-case tests trust the fake; these tests are why they may: whatever the fake does here, Redis does
too (a real redis-server, started on a free port by the local stack's script).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from services.mailer.adapters.redis_state import MailerState
from services.mailer.domain.jobs import MailJob
from services.mailer.tests.unit.conftest import NOW
from services.mailer.tests.unit.fakes import FakeJournal, FakeMailQueue
from services.mailer.use_cases.ports import MailQueue

LEASE_S = 60.0


class Queue:
    """The queue under test and the journal it writes to."""

    def __init__(self, queue: MailQueue, journal: FakeJournal) -> None:
        self.q = queue
        self.journal = journal


@pytest.fixture(params=["fake", "redis"])
async def queue(request: pytest.FixtureRequest) -> AsyncIterator[Queue]:
    journal = FakeJournal()
    if request.param == "fake":
        yield Queue(FakeMailQueue(journal), journal)
        return
    redis = Redis.from_url(request.getfixturevalue("redis_url"))
    await redis.flushdb()
    try:
        yield Queue(MailerState(redis, journal.write), journal)
    finally:
        await redis.aclose()


def job(job_id: str = "confirmation:r1:first", **changes: object) -> MailJob:
    base = MailJob(
        job_id=job_id,
        kind="confirmation",
        to="lea@example.org",
        first_name="Léa",
        cause_event_id="evt-1",
        correlation_id="r1",
        subject_id="r1",
        link_issued_at=NOW.isoformat(),
        link_expires_at=(NOW + timedelta(hours=24)).isoformat(),
        trigger={"topic": "registration.mail-requested.v1", "partition": 0, "offset": 7, "key": "r1"},
    )
    return replace(base, **changes)  # type: ignore[arg-type]


async def test_a_mail_id_is_queued_once_and_journalled_first(queue: Queue) -> None:
    assert await queue.q.enqueue(job(), NOW)
    assert not await queue.q.enqueue(job(cause_event_id="evt-2"), NOW)  # the command, redelivered
    assert await queue.q.queued() == 1
    [record] = queue.journal.written
    assert record.status == "queued" and record.job["to"] == "lea@example.org"
    assert "trigger" not in record.job  # the consumed record stays on its own topic


async def test_a_job_is_claimed_when_due_earliest_first_and_leased(queue: Queue) -> None:
    await queue.q.enqueue(job("later"), NOW + timedelta(seconds=10))
    await queue.q.enqueue(job("sooner"), NOW + timedelta(seconds=5))
    assert await queue.q.claim_due(NOW, LEASE_S) is None  # nothing due yet

    claimed = await queue.q.claim_due(NOW + timedelta(seconds=20), LEASE_S)
    assert claimed is not None and claimed.job_id == "sooner"
    assert claimed == job("sooner")  # handed back whole, trigger included
    again = await queue.q.claim_due(NOW + timedelta(seconds=25), LEASE_S)
    assert again is not None and again.job_id == "later"
    # Both leased: nothing until a lease runs out (a sender died), then the job comes back.
    assert await queue.q.claim_due(NOW + timedelta(seconds=26), LEASE_S) is None
    back = await queue.q.claim_due(NOW + timedelta(seconds=20 + LEASE_S), LEASE_S)
    assert back is not None and back.job_id == "sooner"


async def test_a_rescheduled_job_keeps_what_the_sender_wrote_on_it(queue: Queue) -> None:
    await queue.q.enqueue(job(), NOW)
    claimed = await queue.q.claim_due(NOW, LEASE_S)
    assert claimed is not None
    claimed.attempts, claimed.last_error = 1, "451 try later"
    await queue.q.reschedule(claimed, NOW + timedelta(seconds=2))

    assert await queue.q.claim_due(NOW + timedelta(seconds=1), LEASE_S) is None
    retried = await queue.q.claim_due(NOW + timedelta(seconds=2), LEASE_S)
    assert retried is not None and (retried.attempts, retried.last_error) == (1, "451 try later")
    assert len(queue.journal.written) == 1  # a retry is no change of fate: not journalled


async def test_a_completed_job_is_never_queued_again(queue: Queue) -> None:
    await queue.q.enqueue(job(), NOW)
    claimed = await queue.q.claim_due(NOW, LEASE_S)
    assert claimed is not None
    await queue.q.complete(claimed)

    assert await queue.q.was_sent(claimed.job_id)
    assert await queue.q.queued() == 0
    assert await queue.q.claim_due(NOW + timedelta(hours=1), LEASE_S) is None
    assert not await queue.q.enqueue(job(), NOW)  # the command replayed
    assert not await queue.q.restore(job(), NOW)  # a refill that read the "queued" record only
    assert queue.journal.statuses(claimed.job_id) == ["queued", "sent"]


async def test_a_forgotten_job_leaves_the_queue_and_may_be_asked_for_again(queue: Queue) -> None:
    await queue.q.enqueue(job(), NOW)
    claimed = await queue.q.claim_due(NOW, LEASE_S)
    assert claimed is not None
    await queue.q.forget(claimed)

    assert await queue.q.queued() == 0 and not await queue.q.was_sent(claimed.job_id)
    assert queue.journal.statuses(claimed.job_id) == ["queued", "failed"]
    assert await queue.q.enqueue(job(), NOW)  # its parked command, replayed by an operator


async def test_restore_puts_a_journalled_job_back_once_unless_it_went_out(queue: Queue) -> None:
    assert await queue.q.restore(job("a"), NOW)
    assert not await queue.q.restore(job("a"), NOW)
    await queue.q.mark_sent("b")
    assert not await queue.q.restore(job("b"), NOW)
    assert await queue.q.was_sent("b") and not await queue.q.was_sent("a")
    assert await queue.q.queued() == 1
    assert queue.journal.written == []  # a refill writes nothing back


async def test_sends_are_counted_per_recipient(queue: Queue) -> None:
    assert [await queue.q.count_send("k1", 3600) for _ in range(3)] == [1, 2, 3]
    assert await queue.q.count_send("k2", 3600) == 1


async def test_the_queue_says_whether_it_was_rebuilt(queue: Queue) -> None:
    assert await queue.q.needs_rebuild()
    await queue.q.mark_rebuilt()
    assert not await queue.q.needs_rebuild()
