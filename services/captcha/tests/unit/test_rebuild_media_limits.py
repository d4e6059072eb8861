"""The other use cases on in-memory fakes: rebuilding a wiped store, serving media, rate limits, views."""

from __future__ import annotations

import random
from datetime import timedelta

from services.captcha.domain.challenge import ChallengeKind, ChallengeSettings, RenewalVerdict
from services.captcha.domain.rate_limit import RateAction
from services.captcha.tests.unit.conftest import REQUEST_LIFETIME, right_answer
from services.captcha.tests.unit.fakes import (
    FakeClock,
    FakeRenderer,
    ListedHistory,
    MemoryChallengeStore,
    MemoryMediaCache,
    MemoryRateCounter,
    RecordedEvents,
)
from services.captcha.use_cases.checks import SecurityChecks
from services.captcha.use_cases.limits import admit
from services.captcha.use_cases.media import PNG, WAV, ChallengeMedia, Media, MediaRefused
from services.captcha.use_cases.ports import RequestClosed, RequestOpened
from services.captcha.use_cases.queries import current_challenge
from services.captcha.use_cases.rebuild import rebuild


async def test_after_a_wipe_only_requests_still_awaiting_their_check_come_back_and_can_finish(
    checks: SecurityChecks, clock: FakeClock, store: MemoryChallengeStore, events: RecordedEvents
) -> None:
    later = clock() + REQUEST_LIFETIME
    for request_id in ("req-waiting", "req-passed", "req-failed"):
        await checks.on_check_requested(request_id, f"evt-{request_id}", later)
    store.wipe()
    history = ListedHistory(
        [
            RequestOpened("req-waiting", later),
            RequestOpened("req-passed", later),
            RequestOpened("req-failed", later),
            RequestOpened("req-expired", clock() - timedelta(seconds=1)),
            RequestClosed("req-passed"),
            RequestClosed("req-failed"),
        ]
    )

    reopened = await rebuild(store, history, clock)

    assert reopened == 1
    assert not await store.needs_rebuild()
    assert [await checks.renew(r) for r in ("req-passed", "req-failed", "req-expired")] == [None] * 3
    renewal = await checks.renew("req-waiting")
    assert renewal is not None and renewal.verdict is RenewalVerdict.RENEWED and renewal.challenge is not None
    assert events.issued[-1][0].challenge_id == renewal.challenge.challenge_id  # the page learns of it
    outcome = await checks.answer(renewal.challenge.challenge_id, right_answer(renewal.challenge))
    assert outcome is not None and outcome.passed


async def test_an_empty_history_still_marks_the_store_rebuilt(clock: FakeClock, store: MemoryChallengeStore) -> None:
    assert await store.needs_rebuild()
    assert await rebuild(store, ListedHistory(), clock) == 0
    assert not await store.needs_rebuild()


def media_of(store: MemoryChallengeStore, clock: FakeClock) -> tuple[ChallengeMedia, FakeRenderer]:
    renderer = FakeRenderer()
    return ChallengeMedia(store, MemoryMediaCache(), renderer, clock), renderer


async def test_a_picture_is_rendered_once_and_reloads_show_the_same_one(
    checks: SecurityChecks, clock: FakeClock, store: MemoryChallengeStore
) -> None:
    challenge = await checks.on_check_requested("req-media", "evt-media", clock() + REQUEST_LIFETIME)
    media, renderer = media_of(store, clock)
    choice = challenge.choices[0]

    first = await media.picture(challenge.challenge_id, choice.choice_id)
    again = await media.picture(challenge.challenge_id, choice.choice_id)

    assert isinstance(first, Media) and first.media_type == PNG
    assert again == first
    assert renderer.renders == [f"pictogram:{choice.pictogram.emoji}:{challenge.challenge_id}/{choice.choice_id}"]


async def test_the_spoken_version_says_the_word_to_find(
    checks: SecurityChecks, clock: FakeClock, store: MemoryChallengeStore
) -> None:
    challenge = await checks.on_check_requested("req-audio", "evt-audio", clock() + REQUEST_LIFETIME)
    media, renderer = media_of(store, clock)

    sound = await media.speech(challenge.challenge_id)

    assert isinstance(sound, Media) and sound.media_type == WAV
    assert renderer.renders == [f"speech:{challenge.prompt_word}:{challenge.challenge_id}"]


async def test_media_of_unknown_or_expired_challenges_are_refused_without_rendering(
    checks: SecurityChecks, clock: FakeClock, store: MemoryChallengeStore
) -> None:
    challenge = await checks.on_check_requested("req-gone", "evt-gone", clock() + REQUEST_LIFETIME)
    media, renderer = media_of(store, clock)

    assert await media.picture(challenge.challenge_id, "not-a-choice-id") is MediaRefused.NOT_FOUND
    assert await media.characters(challenge.challenge_id) is MediaRefused.NOT_FOUND  # an image challenge
    assert await media.speech("never-issued-0000") is MediaRefused.NOT_FOUND
    clock.advance(timedelta(minutes=10))
    assert await media.speech(challenge.challenge_id) is MediaRefused.EXPIRED
    assert renderer.renders == []


async def test_a_text_challenge_shows_its_characters_in_one_picture(
    clock: FakeClock, store: MemoryChallengeStore, events: RecordedEvents
) -> None:
    text_checks = SecurityChecks(store, events, ChallengeSettings(kind=ChallengeKind.TEXT), random.Random(5), clock)
    challenge = await text_checks.on_check_requested("req-text", "evt-text", clock() + REQUEST_LIFETIME)
    media, renderer = media_of(store, clock)

    picture = await media.characters(challenge.challenge_id)
    view = await current_challenge(store, "req-text")

    assert isinstance(picture, Media)
    assert renderer.renders == [f"characters:{challenge.expected.characters}:{challenge.challenge_id}"]
    assert view is not None and [p.picture_id for p in view.pictures] == ["text"]
    assert events.issued[0][0].prompt == "Saisissez les caractères de l'image"
    assert events.issued[0][0].picture_urls == [view.pictures[0].url]


async def test_a_client_over_its_answer_limit_is_told_when_to_come_back_and_others_are_not(clock: FakeClock) -> None:
    counter = MemoryRateCounter()

    decisions = [await admit(counter, clock, RateAction.ANSWER, "203.0.113.7") for _ in range(121)]
    neighbour = await admit(counter, clock, RateAction.ANSWER, "203.0.113.8")

    assert all(d.allowed for d in decisions[:120])
    assert not decisions[120].allowed and decisions[120].retry_after_seconds > 0
    assert neighbour.allowed
