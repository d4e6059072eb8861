"""One contract for the rights store port (``ports.HolderStore``), run against the in-memory fake the
use-case tests use and against the Redis adapter on a real Redis (started by the project's own
deploy/local/stack.py on a free port: the root conftest's ``redis_url``): what the use cases rely on holds
for both."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from services.rights.adapters.redis_ledger import RightsStore
from services.rights.tests.unit.fakes import MemoryStore
from services.rights.use_cases.ports import HolderRecord, HolderStore


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.integration)])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[HolderStore]:
    if request.param == "memory":
        yield MemoryStore()
        return
    redis = Redis.from_url(request.getfixturevalue("redis_url"))
    await redis.flushdb()
    try:
        yield RightsStore(redis)
    finally:
        await redis.aclose()


async def test_an_unknown_holder_has_no_record_and_no_declarations(store: HolderStore) -> None:
    assert await store.holder("h-unknown") is None
    assert await store.declarations("h-unknown") == {}
    assert await store.declaration_count("h-unknown") == 0


async def test_a_saved_holder_reads_back_the_same_and_a_second_save_replaces_it(store: HolderStore) -> None:
    await store.save_holder(HolderRecord("h1", "1985-03", False))
    assert await store.holder("h1") == HolderRecord("h1", "1985-03", False)
    activated = HolderRecord("h1", "1985-03", True, "2024-01-01T00:00:00+00:00")
    await store.save_holder(activated)
    assert await store.holder("h1") == activated


async def test_declarations_are_kept_per_holder_by_event_id_and_counted(store: HolderStore) -> None:
    work = {"type": "work_year", "year": 2023, "hours": "1607", "status": "employee"}
    top_up = {"type": "abondement", "amount_eur": "300.00", "payer": "employer", "date": "2024-06-01"}
    await store.add_declarations("h1", {"e1": work})
    await store.add_declarations("h1", {"e2": top_up})
    await store.add_declarations("h2", {"e1": top_up})
    assert await store.declarations("h1") == {"e1": work, "e2": top_up}
    assert await store.declaration_count("h1") == 2
    assert await store.declarations("h2") == {"e1": top_up}


async def test_several_declarations_are_kept_in_one_write_and_nothing_is_a_no_op(store: HolderStore) -> None:
    work = {"type": "work_year", "year": 2023, "hours": "1607", "status": "employee"}
    top_up = {"type": "abondement", "amount_eur": "300.00", "payer": "employer", "date": "2024-06-01"}
    await store.add_declarations("h1", {"e1": work, "e2": top_up})
    await store.add_declarations("h1", {})
    await store.add_declarations("h2", {})
    assert await store.declarations("h1") == {"e1": work, "e2": top_up}
    assert await store.declaration_count("h2") == 0


async def test_a_redelivered_declaration_is_kept_once(store: HolderStore) -> None:
    body = {"type": "retired", "date": "2030-01-01"}
    await store.add_declarations("h1", {"e1": body})
    await store.add_declarations("h1", {"e1": body})
    assert await store.declaration_count("h1") == 1
    assert await store.declarations("h1") == {"e1": body}


async def test_an_empty_store_needs_a_rebuild_until_marked_rebuilt(store: HolderStore) -> None:
    assert await store.needs_rebuild()
    await store.mark_rebuilt()
    assert not await store.needs_rebuild()
