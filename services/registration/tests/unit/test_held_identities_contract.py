"""The held-identities port's contract, on the in-memory fake and on the Redis adapter (a real Redis of
the suite's own): an identity verified by FranceConnect waits, with that login's ID token, for the
sign-up form, and nothing else can be read with a made-up or released hold."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import pytest
from redis.asyncio import Redis

from services.registration.adapters.held_identities import RedisHeldIdentities
from services.registration.domain.identity import VerifiedIdentity
from services.registration.domain.nir import Sex
from services.registration.tests.unit.fakes import MemoryHeldIdentities
from services.registration.use_cases.identity import HeldIdentities

PERSON = VerifiedIdentity(
    subject="fc-subject-held",
    given_names=("Léa",),
    family_name="Martin",
    preferred_name=None,
    birthdate=date(1990, 3, 4),
    gender=Sex.FEMALE,
    birthplace="69123",
    birthcountry="99100",
    email="lea.martin@franceconnect.fr",
    acr="eidas1",
)


@pytest.fixture(params=["memory", "redis"])
async def held(request: pytest.FixtureRequest) -> AsyncIterator[HeldIdentities]:
    if request.param == "memory":
        yield MemoryHeldIdentities()
        return
    redis = Redis.from_url(request.getfixturevalue("redis_url"))
    await redis.flushdb()
    try:
        yield RedisHeldIdentities(redis)
    finally:
        await redis.aclose()


async def test_a_held_identity_comes_back_with_its_login_id_token(held: HeldIdentities) -> None:
    hold_id = await held.hold(PERSON, 600, "hdr.claims.sig")
    assert await held.held(hold_id) == PERSON
    assert await held.provider_id_token(hold_id) == "hdr.claims.sig"


async def test_a_hold_without_a_token_gives_an_empty_one(held: HeldIdentities) -> None:
    hold_id = await held.hold(PERSON, 600)
    assert await held.held(hold_id) == PERSON
    assert await held.provider_id_token(hold_id) == ""


async def test_two_holds_of_one_person_are_distinct_and_a_released_one_is_gone(held: HeldIdentities) -> None:
    first, second = await held.hold(PERSON, 600, "first"), await held.hold(PERSON, 600, "second")
    assert first != second
    await held.release(first)
    assert await held.held(first) is None and await held.provider_id_token(first) == ""
    assert await held.provider_id_token(second) == "second"


async def test_a_made_up_hold_gives_nothing(held: HeldIdentities) -> None:
    assert await held.held("not-a-hold") is None
    assert await held.provider_id_token("not-a-hold") == ""
