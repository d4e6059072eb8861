"""The captcha's use cases wired to in-memory fakes (``fakes.py``), a fixed clock and a seeded random."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from services.captcha.domain.challenge import Answer, Challenge, ChallengeSettings
from services.captcha.tests.unit.fakes import FakeClock, MemoryChallengeStore, RecordedEvents
from services.captcha.use_cases.checks import SecurityChecks

REQUEST_LIFETIME = timedelta(days=7)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> MemoryChallengeStore:
    return MemoryChallengeStore(clock)


@pytest.fixture
def events() -> RecordedEvents:
    return RecordedEvents()


@pytest.fixture
def checks(store: MemoryChallengeStore, events: RecordedEvents, clock: FakeClock) -> SecurityChecks:
    return SecurityChecks(store, events, ChallengeSettings(), random.Random(20260302), clock)


def right_answer(challenge: Challenge) -> Answer:
    return Answer(challenge.request_id, choice_id=challenge.expected.choice_id)


def wrong_answer(challenge: Challenge) -> Answer:
    wrong = next(c.choice_id for c in challenge.choices if c.choice_id != challenge.expected.choice_id)
    return Answer(challenge.request_id, choice_id=wrong)
