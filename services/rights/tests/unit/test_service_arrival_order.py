"""The service path (``RightsService.on_declaration``) in any arrival order (issue 14, point 2).

Partners write from different systems; Kafka orders only within a partition and a producer. A
declaration whose predecessor has not arrived (a cancellation before its booking, points used before
their exposures) is stored and held, then applied when the predecessor arrives; only what the law
refuses whatever the order goes to the dead-letter topic. Fakes for the store and the publisher (a
use-case test); the real stack is in tests/integration/test_rights.py.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.identity import holder_id
from eventing.errors import PoisonMessage
from services.rights.domain import Holder, HolderRights, YearMonth
from services.rights.tests.unit.fakes import KEY, NIR, MemoryPublisher, MemoryStore
from services.rights.use_cases.partner_mapping import balances_to_contract, message_to_domain
from services.rights.use_cases.projection import RightsService

TODAY = date(2030, 1, 1)


# A real history: work, a low-qualification period, DIF, C2P points earned then used, an abondement,
# a training booked, started and partly refunded, another booked then cancelled.
HISTORY: list[dict[str, Any]] = [
    {"type": "work_year", "year": 2019, "hours": 1607},
    {"type": "work_year", "year": 2020, "hours": 800},
    {"type": "work_year", "year": 2020, "hours": 500},
    {"type": "low_qualification_declared", "date": "2021-03-01"},
    {"type": "work_year", "year": 2021, "hours": 1607},
    {"type": "low_qualification_ended", "date": "2022-09-01"},
    {"type": "work_year", "year": 2022, "hours": 1607},
    {"type": "dif_registered", "hours": 60, "date": "2020-02-01"},
    {"type": "c2p_exposure", "year": 2021, "quarters": 4, "factors": 2},
    {"type": "c2p_points_used", "points": 6, "use": "training", "date": "2022-06-01"},
    {"type": "abondement", "amount_eur": "500.00", "payer": "employer", "date": "2023-01-10"},
    {"type": "training_booked", "booking_id": "T1", "price_eur": "1500.00", "date": "2023-02-01"},
    {"type": "training_started", "booking_id": "T1", "date": "2023-03-01"},
    {"type": "training_refunded", "booking_id": "T1", "amount_eur": "200.00", "date": "2023-05-15"},
    {"type": "training_booked", "booking_id": "T2", "price_eur": "700.00", "date": "2023-06-01"},
    {"type": "training_cancelled", "booking_id": "T2", "date": "2023-07-01"},
    {"type": "work_year", "year": 2023, "hours": 1607},
]


def message(index: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"event_id": f"p-{index:02d}", "nir": NIR, "nir_key": KEY, **body}


def wire(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode()


def new_service() -> tuple[RightsService, MemoryPublisher]:
    publisher = MemoryPublisher()
    return RightsService(MemoryStore(), publisher, b"k" * 32, today=lambda: TODAY), publisher


async def deliver(service: RightsService, order: list[int]) -> None:
    holder_id = _holder_id()
    await service.on_account_activated(holder_id, "1985-03", datetime(2024, 1, 1, tzinfo=UTC), "act")
    for index in order:
        await service.on_declaration(wire(message(index, HISTORY[index])))


def _holder_id() -> str:
    return holder_id(NIR, b"k" * 32)


def sorted_replay() -> HolderRights:
    events = [message_to_domain(message(i, body))[1] for i, body in enumerate(HISTORY)]
    return HolderRights.replay(Holder(YearMonth(1985, 3)), events)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.permutations(list(range(len(HISTORY)))))
def test_any_arrival_order_publishes_the_sorted_replays_balances(order: list[int]) -> None:
    service, publisher = new_service()
    asyncio.run(deliver(service, order))  # no PoisonMessage: nothing is parked
    expected = sorted_replay()
    assert publisher.published[-1] == balances_to_contract(_holder_id(), expected.balances(TODAY), TODAY)
    found = asyncio.run(service.rights_of(_holder_id()))
    assert found is not None and found[1].held == ()
    assert found[1].history() == expected.history()
    # A fresh process (empty cache) rebuilds the same rights from the store.
    again = RightsService(service.store, MemoryPublisher(), b"k" * 32, today=lambda: TODAY)
    rebuilt = asyncio.run(again.rights_of(_holder_id()))
    assert rebuilt is not None and rebuilt[1].history() == expected.history()


def test_a_cancellation_before_its_booking_is_held_then_applied() -> None:
    service, publisher = new_service()
    cancel, book = 15, 14
    asyncio.run(deliver(service, [0, cancel]))
    found = asyncio.run(service.rights_of(_holder_id()))
    assert found is not None
    assert [(event.event_id, error.code.value) for event, error in found[1].held] == [("p-15", "unknown_booking")]
    assert publisher.published[-1].cpf.rights_eur == Decimal("500.00")  # the held cancellation changed nothing yet
    asyncio.run(service.on_declaration(wire(message(book, HISTORY[book]))))
    latest = publisher.published[-1].cpf
    # Booked, then the held cancellation applied after it: everything restored.
    assert (latest.rights_eur, latest.reserved_eur) == (Decimal("500.00"), Decimal("0.00"))
    found = asyncio.run(service.rights_of(_holder_id()))
    assert found is not None and found[1].held == ()


def test_a_held_declaration_survives_a_restart_and_is_applied_when_its_predecessor_arrives() -> None:
    # Held, not parked: the cancellation is stored with the holder's declarations, so a new process
    # (empty cache, same store) holds it again and applies it once its booking arrives.
    service, _ = new_service()
    cancel, book = 15, 14
    asyncio.run(deliver(service, [0, cancel]))
    publisher = MemoryPublisher()
    restarted = RightsService(service.store, publisher, b"k" * 32, today=lambda: TODAY)
    found = asyncio.run(restarted.rights_of(_holder_id()))
    assert found is not None
    assert [(event.event_id, error.code.value) for event, error in found[1].held] == [("p-15", "unknown_booking")]
    asyncio.run(restarted.on_declaration(wire(message(book, HISTORY[book]))))
    latest = publisher.published[-1].cpf
    assert (latest.rights_eur, latest.reserved_eur) == (Decimal("500.00"), Decimal("0.00"))


def test_what_the_law_refuses_in_any_order_is_parked() -> None:
    service, _ = new_service()
    asyncio.run(deliver(service, [0]))
    late_dif = message(99, {"type": "dif_registered", "hours": 90, "date": "2021-08-01"})
    with pytest.raises(PoisonMessage, match="dif_deadline_passed"):
        asyncio.run(service.on_declaration(wire(late_dif)))
    assert "p-99" not in asyncio.run(service.store.declarations(_holder_id()))
