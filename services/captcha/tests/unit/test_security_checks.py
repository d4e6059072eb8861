"""A request's security check through the use cases, on in-memory fakes: issue, answer, renew, fail."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from services.captcha.domain.challenge import Answer, Challenge, Reason, RenewalVerdict, Verdict
from services.captcha.tests.unit.conftest import REQUEST_LIFETIME, right_answer, wrong_answer
from services.captcha.tests.unit.fakes import FakeClock, MemoryChallengeStore, RecordedEvents
from services.captcha.use_cases.checks import SecurityChecks
from services.captcha.use_cases.ports import EventIdentity
from services.captcha.use_cases.queries import current_challenge

REQUEST = "req-holder-0001"


async def requested(checks: SecurityChecks, clock: FakeClock, cause: str = "evt-check-requested-1") -> Challenge:
    return await checks.on_check_requested(REQUEST, cause, clock() + REQUEST_LIFETIME)


async def test_an_account_request_gets_a_first_challenge_announced_with_its_public_part(
    checks: SecurityChecks, clock: FakeClock, store: MemoryChallengeStore, events: RecordedEvents
) -> None:
    challenge = await requested(checks, clock)

    [(issued, identity)] = events.issued
    assert identity == EventIdentity("evt-check-requested-1", "challenge")
    assert (issued.request_id, issued.challenge_id) == (REQUEST, challenge.challenge_id)
    assert issued.prompt == challenge.prompt_word
    assert len(issued.picture_urls) == 5
    assert (issued.attempts_left, issued.renewals_left) == (3, 5)
    assert issued.expires_at == clock() + timedelta(minutes=10)
    view = await current_challenge(store, REQUEST)
    assert view is not None and view.challenge_id == challenge.challenge_id
    assert [p.url for p in view.pictures] == issued.picture_urls  # the page and the event show the same
    assert await store.is_open(REQUEST)


async def test_a_redelivered_account_request_announces_the_same_challenge_under_the_same_id(
    checks: SecurityChecks, clock: FakeClock, events: RecordedEvents
) -> None:
    first = await requested(checks, clock)
    again = await requested(checks, clock)

    assert again == first
    assert [e.challenge_id for e, _ in events.issued] == [first.challenge_id] * 2
    assert events.issued[0][1] == events.issued[1][1]  # same event id: absorbed downstream


async def test_the_right_answer_passes_once_and_closes_the_request(
    checks: SecurityChecks, clock: FakeClock, store: MemoryChallengeStore, events: RecordedEvents
) -> None:
    challenge = await requested(checks, clock)

    outcome = await checks.answer(challenge.challenge_id, right_answer(challenge))
    replayed = await checks.answer(challenge.challenge_id, right_answer(challenge))

    assert outcome is not None and outcome.verdict is Verdict.PASSED
    [(passed, identity)] = events.passes
    assert (passed.request_id, passed.challenge_id, passed.passed_at) == (REQUEST, challenge.challenge_id, clock())
    assert identity == EventIdentity(challenge.challenge_id, "passed")
    assert not await store.is_open(REQUEST)
    assert replayed is not None and (replayed.verdict, replayed.reason) == (Verdict.REFUSED, Reason.ALREADY_PASSED)


async def test_two_simultaneous_right_answers_pass_only_once(
    checks: SecurityChecks, clock: FakeClock, events: RecordedEvents
) -> None:
    challenge = await requested(checks, clock)

    outcomes = await asyncio.gather(*(checks.answer(challenge.challenge_id, right_answer(challenge)) for _ in "ab"))

    assert sorted(o.verdict for o in outcomes if o) == [Verdict.PASSED, Verdict.REFUSED]
    assert len(events.passes) == 1


async def test_wrong_answers_use_up_the_three_attempts_then_only_renewal_helps(
    checks: SecurityChecks, clock: FakeClock, events: RecordedEvents
) -> None:
    challenge = await requested(checks, clock)

    verdicts = [await checks.answer(challenge.challenge_id, wrong_answer(challenge)) for _ in range(3)]
    late_right = await checks.answer(challenge.challenge_id, right_answer(challenge))

    assert [(o.verdict, o.challenge.attempts_left) for o in verdicts if o] == [
        (Verdict.WRONG, 2),
        (Verdict.WRONG, 1),
        (Verdict.DEAD, 0),
    ]
    assert late_right is not None and (late_right.verdict, late_right.reason) == (
        Verdict.DEAD,
        Reason.ATTEMPTS_EXHAUSTED,
    )
    assert events.passes == []
    renewal = await checks.renew(REQUEST)
    assert renewal is not None and renewal.challenge is not None
    assert (await checks.answer(renewal.challenge.challenge_id, right_answer(renewal.challenge))) is not None
    assert len(events.passes) == 1


async def test_an_empty_answer_or_another_requests_answer_costs_no_attempt(
    checks: SecurityChecks, clock: FakeClock
) -> None:
    challenge = await requested(checks, clock)

    empty = await checks.answer(challenge.challenge_id, Answer(REQUEST, typed="  "))
    stranger = await checks.answer(challenge.challenge_id, Answer("req-someone-else", challenge.expected.choice_id))

    assert empty is not None and (empty.verdict, empty.reason) == (Verdict.REFUSED, Reason.EMPTY_ANSWER)
    assert stranger is not None and (stranger.verdict, stranger.reason) == (Verdict.REFUSED, Reason.REQUEST_MISMATCH)
    assert stranger.challenge.attempts_left == 3


async def test_an_expired_challenge_is_dead_and_a_renewal_gives_a_fresh_one(
    checks: SecurityChecks, clock: FakeClock, store: MemoryChallengeStore
) -> None:
    challenge = await requested(checks, clock)
    clock.advance(timedelta(minutes=10))

    late = await checks.answer(challenge.challenge_id, right_answer(challenge))
    renewal = await checks.renew(REQUEST)

    assert late is not None and (late.verdict, late.reason) == (Verdict.DEAD, Reason.EXPIRED)
    assert renewal is not None and renewal.verdict is RenewalVerdict.RENEWED and renewal.challenge is not None
    assert renewal.challenge.expires_at == clock() + timedelta(minutes=10)
    view = await current_challenge(store, REQUEST)
    assert view is not None and view.challenge_id == renewal.challenge.challenge_id


async def test_renewals_are_capped_then_the_request_fails_once_with_a_reason(
    checks: SecurityChecks, clock: FakeClock, store: MemoryChallengeStore, events: RecordedEvents
) -> None:
    first = await requested(checks, clock)

    renewals = [await checks.renew(REQUEST) for _ in range(6)]
    after_failure = await checks.renew(REQUEST)

    assert [r.verdict for r in renewals if r] == [RenewalVerdict.RENEWED] * 5 + [RenewalVerdict.FAILED]
    assert [e.renewals_left for e, _ in events.issued] == [5, 4, 3, 2, 1, 0]
    [(failed, identity)] = events.failures
    assert (failed.request_id, failed.reason) == (REQUEST, "renewals_exhausted")
    last = renewals[4]
    assert last is not None and last.challenge is not None
    assert identity == EventIdentity(last.challenge.challenge_id, "failed")
    assert not await store.is_open(REQUEST)
    assert after_failure is not None and (after_failure.verdict, after_failure.reason) == (
        RenewalVerdict.REFUSED,
        Reason.REQUEST_FAILED,
    )
    superseded = await checks.answer(first.challenge_id, right_answer(first))
    assert superseded is not None and (superseded.verdict, superseded.reason) == (Verdict.REFUSED, Reason.SUPERSEDED)
    assert events.passes == []


async def test_a_renewed_challenge_is_announced_under_an_id_of_its_own(
    checks: SecurityChecks, clock: FakeClock, events: RecordedEvents
) -> None:
    await requested(checks, clock)

    renewal = await checks.renew(REQUEST)

    assert renewal is not None and renewal.challenge is not None
    assert events.issued[-1][1] == EventIdentity(renewal.challenge.challenge_id, "issued")
    assert events.issued[-1][0].challenge_id == renewal.challenge.challenge_id


async def test_unknown_challenges_and_requests_are_not_found(checks: SecurityChecks) -> None:
    assert await checks.answer("never-issued-0000", Answer(REQUEST, choice_id="x")) is None
    assert await checks.renew("never-requested-0000") is None


async def test_a_request_past_its_own_expiry_cannot_be_renewed_once_its_challenge_is_gone(
    checks: SecurityChecks, clock: FakeClock, store: MemoryChallengeStore
) -> None:
    await requested(checks, clock)
    clock.advance(REQUEST_LIFETIME)
    store.wipe()

    assert await checks.renew(REQUEST) is None
