"""The rights use cases against in-memory fakes of their ports (store, publisher, clock, topic replay,
session verifier): what a holder and a partner see, in milliseconds. The real stack is proven in
tests/integration/test_rights.py."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts import topics
from contracts.identity import holder_id
from contracts.registration import AccountActivated
from eventing.errors import PoisonMessage
from services.rights.adapters.session_tokens import AUDIENCE, ISSUER, SessionTokens
from services.rights.app.deps import NotLoggedIn, holder_of_header
from services.rights.tests.unit.fakes import KEY, NIR, MemoryPublisher, MemoryStore, MemoryTopics
from services.rights.use_cases.projection import RightsService
from services.rights.use_cases.queries import rights_view

TODAY = date(2030, 1, 1)
HOLDER_KEY = b"k" * 32
HOLDER = holder_id(NIR, HOLDER_KEY)


def declaration(event_id: str, body: dict[str, Any]) -> bytes:
    return json.dumps({"event_id": event_id, "nir": NIR, "nir_key": KEY, **body}).encode()


WORK_2023 = declaration("w23", {"type": "work_year", "year": 2023, "hours": 1607})
TOP_UP = declaration("a1", {"type": "abondement", "amount_eur": "300.00", "payer": "employer", "date": "2024-06-01"})


def service(store: MemoryStore | None = None) -> tuple[RightsService, MemoryPublisher]:
    publisher = MemoryPublisher()
    return RightsService(store or MemoryStore(), publisher, HOLDER_KEY, today=lambda: TODAY), publisher


async def test_declarations_before_activation_are_kept_and_published_once_the_account_is_active() -> None:
    rights, publisher = service()
    await rights.on_declaration(WORK_2023)
    assert publisher.published == []  # nobody to show them to yet
    await rights.on_account_activated(HOLDER, "1985-03", datetime(2024, 1, 1, tzinfo=UTC), "act-1")
    assert publisher.published[-1].cpf.rights_eur == Decimal("500.00")
    await rights.on_declaration(TOP_UP)
    assert publisher.published[-1].cpf.abondements_eur == Decimal("300.00")
    assert publisher.published[-1].as_of == TODAY


async def test_a_refused_declaration_is_parked_and_changes_nothing() -> None:
    rights, publisher = service()
    await rights.on_account_activated(HOLDER, "1985-03", datetime(2024, 1, 1, tzinfo=UTC), "act-1")
    late_dif = declaration("d1", {"type": "dif_registered", "hours": 90, "date": "2021-08-01"})
    with pytest.raises(PoisonMessage, match="dif_deadline_passed"):
        await rights.on_declaration(late_dif)
    assert await rights.store.declaration_count(HOLDER) == 0
    assert publisher.published[-1].cpf.dif_eur == Decimal("0.00")


async def test_a_redelivered_declaration_counts_once() -> None:
    rights, publisher = service()
    await rights.on_account_activated(HOLDER, "1985-03", datetime(2024, 1, 1, tzinfo=UTC), "act-1")
    await rights.on_declaration(TOP_UP)
    await rights.on_declaration(TOP_UP)
    assert publisher.published[-1].cpf.abondements_eur == Decimal("300.00")
    assert await rights.store.declaration_count(HOLDER) == 1


async def test_an_empty_store_rebuilt_from_the_topics_gives_the_same_balances() -> None:
    topics_kept = MemoryTopics()
    activated = AccountActivated(
        holder_id=HOLDER, request_id="r1", birth_year_month="1985-03", activated_at=datetime(2024, 1, 1, tzinfo=UTC)
    )
    topics_kept.append(topics.ACCOUNT_ACTIVATED, activated.model_dump_json().encode())
    refused = declaration("d1", {"type": "dif_registered", "hours": 90, "date": "2021-08-01"})
    for raw in (TOP_UP, refused, WORK_2023):
        topics_kept.append(topics.PARTNER_DECLARATIONS, raw)
    first, _ = service()
    await first.on_account_activated(HOLDER, "1985-03", datetime(2024, 1, 1, tzinfo=UTC), "act-1")
    for raw in (TOP_UP, WORK_2023):
        await first.on_declaration(raw)

    rebuilt, publisher = service()
    assert await rebuilt.store.needs_rebuild()
    await rebuilt.rebuild(topics_kept.replay)
    assert not await rebuilt.store.needs_rebuild()
    assert publisher.published == []  # a rebuild publishes nothing
    assert (await rights_view(rebuilt, HOLDER)).balances == (await rights_view(first, HOLDER)).balances
    assert await rebuilt.store.declarations(HOLDER) == await first.store.declarations(HOLDER)


async def test_the_holders_view_shows_todays_balances_and_every_history_line() -> None:
    rights, _ = service()
    nobody = await rights_view(rights, "h-nobody")
    assert nobody.balances.cpf.usable_eur == Decimal("0.00") and nobody.history == ()
    await rights.on_account_activated(HOLDER, "1985-03", datetime(2024, 1, 1, tzinfo=UTC), "act-1")
    for raw in (WORK_2023, TOP_UP):
        await rights.on_declaration(raw)
    view = await rights_view(rights, HOLDER)
    assert view.as_of == TODAY
    assert view.balances.cpf.usable_eur == Decimal("800.00")
    assert [line.event_id for line in view.history] == ["w23", "a1"]


class FakeSessions:
    def holder_of(self, token: str) -> str | None:
        return "h-1" if token == "good" else None


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "Connectez-vous pour consulter vos droits."),
        ("Basic abc", "Connectez-vous pour consulter vos droits."),
        ("Bearer forged", "Votre session a expiré : reconnectez-vous."),
    ],
)
def test_a_caller_without_a_valid_session_is_told_in_french(header: str | None, message: str) -> None:
    with pytest.raises(NotLoggedIn) as caught:
        holder_of_header(FakeSessions(), header)
    assert caught.value.message == message


def test_a_valid_session_names_its_holder() -> None:
    assert holder_of_header(FakeSessions(), "Bearer good") == "h-1"


def test_session_tokens_accept_only_registrations_signature_audience_and_issuer() -> None:
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    sessions = SessionTokens(lambda: public)
    soon = datetime.now(UTC) + timedelta(minutes=5)

    def token(signer: Ed25519PrivateKey = key, **claims: Any) -> str:
        body = {"sub": "h-1", "aud": AUDIENCE, "iss": ISSUER, "exp": soon, **claims}
        return jwt.encode(body, signer, algorithm="EdDSA")

    assert sessions.holder_of(token()) == "h-1"
    assert sessions.holder_of(token(Ed25519PrivateKey.generate())) is None  # not registration's key
    assert sessions.holder_of(token(aud="other")) is None
    assert sessions.holder_of(token(iss="someone")) is None
    assert sessions.holder_of(token(exp=datetime.now(UTC) - timedelta(minutes=1))) is None


NIR_2 = "2920613012345"


def declared(event_id: str, body: dict[str, Any], nir: str = NIR) -> bytes:
    return json.dumps({"event_id": event_id, "nir": nir, "nir_key": f"{97 - int(nir) % 97:02d}", **body}).encode()


def shuffled_partner_topic() -> list[bytes]:
    """Two holders' declarations interleaved, each holder's in no particular order: late work years, a
    cancellation before its booking, a redelivery, an event_id reused for another event, a booking id
    reused (the one that came second is refused, although it is the earlier), a DIF registered too late
    (refused in any order)."""
    first = [
        declared("k1", {"type": "training_booked", "booking_id": "T1", "price_eur": "400.00", "date": "2024-03-01"}),
        declared("w24", {"type": "work_year", "year": 2024, "hours": 1607}),
        declared("n1", {"type": "training_cancelled", "booking_id": "T1", "date": "2024-03-10"}),
        declared("w22", {"type": "work_year", "year": 2022, "hours": 800}),
        declared("w22", {"type": "work_year", "year": 2022, "hours": 800}),  # redelivered
        declared("w23", {"type": "work_year", "year": 2023, "hours": 1607}),
        declared("w23", {"type": "work_year", "year": 2021, "hours": 1607}),  # id reused: refused
        declared("k2", {"type": "training_booked", "booking_id": "T2", "price_eur": "150.00", "date": "2024-06-01"}),
        declared("k3", {"type": "training_booked", "booking_id": "T2", "price_eur": "90.00", "date": "2024-05-01"}),
        declared("d1", {"type": "dif_registered", "hours": 90, "date": "2021-08-01"}),
        declared("a1", {"type": "abondement", "amount_eur": "300.00", "payer": "employer", "date": "2024-06-01"}),
    ]
    second = [
        declared("x2", {"type": "work_year", "year": 2023, "hours": 700}, NIR_2),
        declared("x1", {"type": "work_year", "year": 2022, "hours": 1607}, NIR_2),
        declared("x3", {"type": "abondement", "amount_eur": "50.00", "payer": "region", "date": "2023-02-01"}, NIR_2),
    ]
    return [first[0], second[0], *first[1:5], second[1], *first[5:], second[2]]


@pytest.mark.parametrize("batch", [1, 3, 10_000])
async def test_a_rebuild_records_each_holders_declarations_as_they_arrived_the_first_time(
    batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A rebuild records each holder's declarations of a batch together (one sorted pass when some are
    # late): what it keeps, refuses and holds must be what the live service did with each message as it
    # came, whatever the batch size cuts through.
    topic = MemoryTopics()
    live, _ = service()
    refused = []
    for raw in shuffled_partner_topic():
        topic.append(topics.PARTNER_DECLARATIONS, raw)
        try:
            await live.on_declaration(raw)
        except PoisonMessage as parked:
            refused.append(str(parked))
    assert len(refused) == 3 and any("w23: conflicting_event_id" in r for r in refused)
    assert any("d1: dif_deadline_passed" in r for r in refused)
    assert any("k3: conflicts_with_later_event" in r for r in refused)

    monkeypatch.setattr("services.rights.use_cases.projection.REBUILD_BATCH", batch)
    rebuilt, publisher = service()
    await rebuilt.rebuild(topic.replay)
    assert publisher.published == []
    for nir in (NIR, NIR_2):
        holder = holder_id(nir, HOLDER_KEY)
        assert await rebuilt.store.declarations(holder) == await live.store.declarations(holder)
        assert await rebuilt.store.holder(holder) == await live.store.holder(holder)
        again = await rebuilt.rights_of(holder)
        first = await live.rights_of(holder)
        assert again is not None and first is not None
        assert again[1].balances(TODAY) == first[1].balances(TODAY)
        assert again[1].history() == first[1].history()
        assert again[1].held == first[1].held == ()


@pytest.mark.parametrize("fetch", [2, 5, 100])
async def test_a_fetch_of_declarations_is_what_each_message_alone_gives_and_names_exactly_the_refused(
    fetch: int,
) -> None:
    # The live service takes a fetch at a time (eventing.batches) and records each holder's declarations
    # of it together: whatever the fetch size cuts through, the same declarations are kept, held and
    # refused as one message at a time, and the refused ones are named by position, so exactly those
    # messages are parked, even the second of two messages carrying the same event_id.
    arrivals = shuffled_partner_topic()
    arrivals.insert(4, b'{"event_id": "broken", "type": "work_year"')  # not even JSON
    alone, alone_published = service()
    together, together_published = service()
    for rights in (alone, together):
        for nir in (NIR, NIR_2):
            activated = datetime(2024, 1, 1, tzinfo=UTC)
            await rights.on_account_activated(holder_id(nir, HOLDER_KEY), "1985-03", activated, "a")
    parked_alone: dict[int, str] = {}
    for position, raw in enumerate(arrivals):
        try:
            await alone.on_declaration(raw)
        except PoisonMessage as parked:
            parked_alone[position] = parked.reason
    parked_together: dict[int, str] = {}
    for start in range(0, len(arrivals), fetch):
        refused = await together.on_declarations(arrivals[start : start + fetch])
        parked_together.update({start + position: reason for position, reason in refused.items()})

    assert parked_together == parked_alone
    assert [arrivals[p] for p in parked_together] == [
        arrivals[4],  # the broken JSON
        declared("w23", {"type": "work_year", "year": 2021, "hours": 1607}),  # the reused id, not the first w23
        declared("k3", {"type": "training_booked", "booking_id": "T2", "price_eur": "90.00", "date": "2024-05-01"}),
        declared("d1", {"type": "dif_registered", "hours": 90, "date": "2021-08-01"}),
    ]
    for nir in (NIR, NIR_2):
        holder = holder_id(nir, HOLDER_KEY)
        assert await together.store.declarations(holder) == await alone.store.declarations(holder)
        mine, theirs = await together.rights_of(holder), await alone.rights_of(holder)
        assert mine is not None and theirs is not None
        assert mine[1].balances(TODAY) == theirs[1].balances(TODAY)
        assert mine[1].history() == theirs[1].history()
        # Partners see the same final balances, published once per holder and fetch instead of per message.
        last = [b for b in together_published.published if b.holder_id == holder][-1]
        assert last == [b for b in alone_published.published if b.holder_id == holder][-1]
    fetches = -(-len(arrivals) // fetch)
    assert len(together_published.published) <= 2 + 2 * fetches  # two activations, then per holder and fetch
    assert len(together_published.published) < len(alone_published.published)


async def test_a_partner_event_id_of_200_characters_is_applied_and_its_balances_published_never_parked() -> None:
    # The partner contract allows event ids of up to 200 characters, the envelope's correlation 100: the
    # balances it changed name it by its digest instead of failing after the declaration was stored.
    rights, publisher = service()
    await rights.on_account_activated(HOLDER, "1985-03", datetime(2024, 1, 1, tzinfo=UTC), "act-1")
    long_id = "p" * 200
    top_up = {"type": "abondement", "amount_eur": "300.00", "payer": "employer", "date": "2024-06-01"}
    await rights.on_declaration(declaration(long_id, top_up))
    assert publisher.published[-1].cpf.abondements_eur == Decimal("300.00")
    assert publisher.envelopes[-1].correlation_id.startswith("sha256:")
    assert await rights.store.declaration_count(HOLDER) == 1


async def test_the_balances_of_a_fetch_name_the_last_declaration_applied_not_one_refused() -> None:
    rights, publisher = service()
    await rights.on_account_activated(HOLDER, "1985-03", datetime(2024, 1, 1, tzinfo=UTC), "act-1")
    late_dif = declaration("d1", {"type": "dif_registered", "hours": 90, "date": "2021-08-01"})
    refused = await rights.on_declarations([TOP_UP, late_dif])
    assert list(refused) == [1] and refused[1].startswith("refused declaration d1: dif_deadline_passed")
    assert publisher.published[-1].cpf.abondements_eur == Decimal("300.00")
    assert publisher.envelopes[-1].correlation_id == "a1"  # the cause of the change, not the parked one
