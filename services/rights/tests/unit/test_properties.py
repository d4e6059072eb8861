"""Property tests: whatever partners send, the ledgers keep the law's invariants."""

from __future__ import annotations

import gc
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.rights.domain import (
    PARAMETERS,
    Abondement,
    Balances,
    C2pExposure,
    C2pPointsUsed,
    CecActivity,
    CecCategory,
    DifRegistered,
    DisabilityStatus,
    ErrorCode,
    Holder,
    HolderRights,
    LegacyCpfHours,
    LowQualificationDeclared,
    LowQualificationEnded,
    PointsUse,
    RightsError,
    RightsEvent,
    TrainingBooked,
    TrainingCancelled,
    TrainingRefunded,
    TrainingStarted,
    WorkStatus,
    WorkYear,
    YearMonth,
    holder_rights,
)
from services.rights.domain.undo import UndoLog

HOLDER = Holder(YearMonth(1975, 6))
BOOKINGS = ["B0", "B1", "B2", "B3"]

days = st.dates(min_value=date(2019, 1, 1), max_value=date(2027, 12, 31))
years = st.integers(min_value=2018, max_value=2026)
euros = st.integers(min_value=1, max_value=600_000).map(lambda cents: Decimal(cents) / 100)
hours = st.integers(min_value=0, max_value=8000).map(lambda quarter_hours: Decimal(quarter_hours) / 4)


def _events() -> st.SearchStrategy[RightsEvent]:
    return st.one_of(
        st.builds(lambda y, h: WorkYear("?", y, hours=h), years, hours),
        st.builds(lambda y: WorkYear("?", y, status=WorkStatus.ESAT), years),
        st.builds(
            lambda y, d: WorkYear("?", y, status=WorkStatus.SELF_EMPLOYED, days_active=d),
            years,
            st.integers(min_value=0, max_value=365),
        ),
        st.builds(lambda y: WorkYear("?", max(y, 2017), status=WorkStatus.PUBLIC_A_B), years),
        st.builds(lambda h: LegacyCpfHours("?", h), st.integers(min_value=0, max_value=400)),
        st.builds(
            lambda h, d: DifRegistered("?", h, d),
            st.integers(min_value=1, max_value=120),
            st.dates(min_value=date(2019, 1, 1), max_value=date(2021, 6, 30)),
        ),
        st.builds(lambda d: LowQualificationDeclared("?", d), st.dates(date(2017, 1, 1), date(2026, 12, 31))),
        st.builds(lambda d: LowQualificationEnded("?", d), st.dates(date(2017, 1, 1), date(2026, 12, 31))),
        st.builds(lambda y: DisabilityStatus("?", max(y, 2019)), years),
        st.builds(lambda a, d, p: Abondement("?", a, p, d), euros, days, st.sampled_from(["employer", "opco"])),
        st.builds(
            lambda b, p, d, x: TrainingBooked("?", b, p, d, x),
            st.sampled_from(BOOKINGS),
            euros,
            days,
            st.booleans(),
        ),
        st.builds(lambda b, d: TrainingCancelled("?", b, d), st.sampled_from(BOOKINGS), days),
        st.builds(lambda b, d: TrainingStarted("?", b, d), st.sampled_from(BOOKINGS), days),
        st.builds(lambda b, a, d: TrainingRefunded("?", b, a, d), st.sampled_from(BOOKINGS), euros, days),
        st.builds(
            lambda y, a, b: CecActivity(
                "?",
                max(y, 2017),
                CecCategory.ASSOCIATION_BOARD,
                hours_by_association=(Decimal(a), Decimal(b)),
            ),
            years,
            st.integers(0, 300),
            st.integers(0, 300),
        ),
        st.builds(
            lambda y, c, n: CecActivity("?", y, c, days=Decimal(n)),
            years,
            st.sampled_from([CecCategory.MILITARY_RESERVE, CecCategory.HEALTH_RESERVE]),
            st.integers(0, 120),
        ),
        st.builds(lambda y, q, f: C2pExposure("?", y, q, f), years, st.integers(1, 4), st.integers(1, 6)),
        st.builds(
            lambda p, u, d: C2pPointsUsed("?", p, u, d),
            st.integers(1, 40),
            st.sampled_from(list(PointsUse)),
            days,
        ),
    )


@st.composite
def histories(draw: st.DrawFn) -> list[RightsEvent]:
    events = draw(st.lists(_events(), min_size=1, max_size=18))
    return [replace(event, event_id=f"e{index:02d}") for index, event in enumerate(events)]


def one_by_one(events: list[RightsEvent]) -> tuple[HolderRights, list[RightsError]]:
    """Each event recorded as it arrives, as the service does (``record_all`` may take one sorted pass)."""
    rights, refused = HolderRights(HOLDER), []
    for event in events:
        try:
            rights = rights.record(event)
        except RightsError as error:
            refused.append(error)
    return rights, refused


def accepted(events: list[RightsEvent]) -> HolderRights:
    rights, _ = HolderRights.record_all(HOLDER, events)
    return rights


def effective_dates(rights: HolderRights) -> list[date]:
    return sorted({event.effective_on(PARAMETERS) for event in rights.events})


def without_date(balances: Balances) -> Balances:
    return replace(balances, as_of=None)


SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(histories())
def test_no_balance_ever_exceeds_its_ceiling(events: list[RightsEvent]) -> None:
    # Refunds are left out: refunded rights come back whole, even above the ceiling (L6323-3).
    rights = accepted([event for event in events if not isinstance(event, TrainingRefunded)])
    highest_ceiling = Decimal(0)
    for day in effective_dates(rights):
        balances = rights.balances(as_of=day)
        highest_ceiling = max(highest_ceiling, balances.cpf.ceiling_eur)
        # Rights from work, converted hours and DIF stay within the ceiling (reserved money included:
        # a cancellation restores it without crossing the ceiling). Abondements are outside it.
        assert balances.cpf.rights_eur + balances.cpf.dif_eur <= highest_ceiling
        assert balances.cpf.ceiling_eur in (Decimal("5000.00"), Decimal("8000.00"))
        assert Decimal(0) <= balances.cec.eur <= Decimal("720.00")
        assert min(balances.cpf.rights_eur, balances.cpf.dif_eur, balances.cpf.abondements_eur) >= 0
        assert balances.c2p.points >= balances.c2p.reserved_for_training >= 0
        assert balances.public_hours <= 150
        assert balances.cpf.usable_eur == balances.cpf.rights_eur + balances.cpf.dif_eur + balances.cpf.abondements_eur


@SETTINGS
@given(histories(), st.randoms(use_true_random=False))
def test_shuffled_input_replays_to_identical_balances_and_history(events: list[RightsEvent], rnd: object) -> None:
    rights = accepted(events)
    shuffled = list(rights.events)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    replayed = HolderRights.replay(HOLDER, shuffled)
    assert replayed.balances() == rights.balances()
    assert replayed.history() == rights.history()
    assert replayed.events == rights.events


@SETTINGS
@given(histories())
def test_replay_from_scratch_equals_recording_one_by_one(events: list[RightsEvent]) -> None:
    rights = accepted(events)
    assert HolderRights.replay(HOLDER, rights.events).balances() == rights.balances()


@SETTINGS
@given(histories(), euros, st.booleans(), st.integers(min_value=0, max_value=30))
def test_a_cancelled_booking_restores_the_balances_exactly(
    events: list[RightsEvent], price: Decimal, exempt: bool, delay: int
) -> None:
    rights = accepted(events)
    last = max([*effective_dates(rights), date(2019, 1, 1)])
    booked_on = last + timedelta(days=1)
    booking = TrainingBooked("book", "NEW", price, booked_on, exempt)
    cancel = TrainingCancelled("cancel", "NEW", booked_on + timedelta(days=delay))
    after = rights.record(booking).record(cancel)
    assert without_date(after.balances()) == without_date(rights.balances())


@SETTINGS
@given(histories(), euros)
def test_a_booking_cancelled_the_same_day_changes_nothing_later(events: list[RightsEvent], price: Decimal) -> None:
    rights = accepted(events)
    taken = {event.effective_on(PARAMETERS) for event in rights.events}
    day = next(d for d in (date(2020, 5, 1) + timedelta(days=n) for n in range(4000)) if d not in taken)
    # Booked and cancelled before anything else happens that day: every later event sees the same funds.
    after = rights.record(TrainingBooked("book", "MID", price, day)).record(TrainingCancelled("cancel", "MID", day))
    assert without_date(after.balances()) == without_date(rights.balances())
    assert [line for line in after.history() if line.event_id not in ("book", "cancel")] == list(rights.history())


@SETTINGS
@given(histories())
def test_refused_events_change_nothing(events: list[RightsEvent]) -> None:
    rights, refused = HolderRights.record_all(HOLDER, events)
    refused_ids = {error.event_id for error in refused}
    assert {event.event_id for event in rights.received} == {e.event_id for e in events} - refused_ids
    assert HolderRights.replay(HOLDER, rights.events).balances() == rights.balances()


@SETTINGS
@given(histories(), st.randoms(use_true_random=False))
def test_any_arrival_order_gives_the_sorted_replay(events: list[RightsEvent], rnd: object) -> None:
    # A real history: the events the law accepts when replayed in date order. Partners send them in any
    # order (Kafka orders only within a partition and a producer); recording them one by one, as the
    # service does, holds what waits for a predecessor and ends with the sorted replay's balances and
    # history, nothing refused and nothing left waiting.
    history = list(accepted(events).events)
    sorted_replay = HolderRights.replay(HOLDER, history)
    arrival = list(history)
    rnd.shuffle(arrival)  # type: ignore[attr-defined]
    recorded, refused = one_by_one(arrival)
    assert refused == []
    assert recorded.held == ()
    assert recorded.balances() == sorted_replay.balances()
    assert recorded.history() == sorted_replay.history()


@SETTINGS
@given(histories(), st.randoms(use_true_random=False), st.integers(min_value=1, max_value=4))
def test_rewinding_for_late_events_gives_the_sorted_replay(events: list[RightsEvent], rnd: object, gap: int) -> None:
    # Late events rewind the state with the undo log, which covers the last `gap` events here (4 096 in
    # production; an event later than that rebuilds from the start): the result must be that of the
    # sorted replay, and earlier HolderRights
    # objects (immutable) must keep their own balances while later ones append to the shared state.
    history = list(accepted(events).events)
    arrival = list(history)
    rnd.shuffle(arrival)  # type: ignore[attr-defined]
    with patch.object(holder_rights, "UNDO_HORIZON", gap):
        steps = [HolderRights(HOLDER)]
        for event in arrival:
            steps.append(steps[-1].record(event))
        branch = steps[len(steps) // 2]
        branch_before = branch.balances()
        sibling = branch.record(Abondement("other", Decimal("1.00"), "employer", date(2030, 1, 1)))
    assert steps[-1].balances() == HolderRights.replay(HOLDER, history).balances()
    assert steps[-1].history() == HolderRights.replay(HOLDER, history).history()
    assert branch.balances() == branch_before
    assert branch.balances() == HolderRights.replay(HOLDER, branch.events).balances()
    assert sibling.balances() == HolderRights.replay(HOLDER, sibling.events).balances()


@SETTINGS
@given(histories(), st.randoms(use_true_random=False), st.integers(min_value=1, max_value=4))
def test_what_is_kept_rebuilds_to_the_same_rights(events: list[RightsEvent], rnd: object, gap: int) -> None:
    # Any input, any order, whatever is held or refused on the way: the events the service keeps
    # (applied and held) rebuild — from scratch, as after a restart — to the same balances, history
    # and held events as the incremental path (fast appends, rewinds, rebuilds, held events skipped).
    arrival = list(events)
    rnd.shuffle(arrival)  # type: ignore[attr-defined]
    with patch.object(holder_rights, "UNDO_HORIZON", gap):
        recorded, _ = one_by_one(arrival)
    rebuilt = HolderRights.restore(HOLDER, recorded.received)
    assert rebuilt.balances() == recorded.balances()
    assert rebuilt.history() == recorded.history()
    assert {e.event_id for e, _ in rebuilt.held} == {e.event_id for e, _ in recorded.held}


@SETTINGS
@given(histories(), st.randoms(use_true_random=False), st.floats(min_value=0, max_value=1))
def test_recording_many_at_once_is_recording_one_by_one(events: list[RightsEvent], rnd: object, split: float) -> None:
    # ``record_many`` (``record_all`` from nothing: the simulator's --keep-going; a rebuild's batch of a
    # holder's declarations on top of those recorded before) takes one sorted pass when nothing would be
    # refused and goes one by one otherwise: any input, refused events and reused ids included, in any
    # order, must end as recording each event as it arrives does (the service's path) — same balances
    # and history, the same events refused for the same reasons, the same ones held.
    arrival = [*events, *events[: len(events) // 3]]  # some redelivered
    rnd.shuffle(arrival)  # type: ignore[attr-defined]
    before = int(len(arrival) * split)
    earlier, _ = one_by_one(arrival[:before])
    at_once, refused_at_once = earlier.record_each(arrival[before:])
    recorded, refused = earlier, {}
    for position, event in enumerate(arrival[before:]):
        try:
            recorded = recorded.record(event)
        except RightsError as error:
            refused[position] = error
    assert at_once.balances() == recorded.balances()
    assert at_once.history() == recorded.history()
    # The same messages refused (by position: a service parks those), for the same reasons.
    assert {p: (e.event_id, e.code) for p, e in refused_at_once.items()} == {
        p: (e.event_id, e.code) for p, e in refused.items()
    }
    assert [(e.event_id, e.code) for e in earlier.record_many(arrival[before:])[1]] == [
        (e.event_id, e.code) for e in refused.values()
    ]
    assert sorted((e.event_id, why.code) for e, why in at_once.held) == sorted(
        (e.event_id, why.code) for e, why in recorded.held
    )
    assert HolderRights.record_all(HOLDER, arrival)[0].balances() == one_by_one(arrival)[0].balances()


def test_an_event_held_in_the_end_keeps_the_refusal_it_caused_while_applied() -> None:
    # Found by review: 300 legacy hours are converted while a low-qualification period allows more than
    # 150; a second conversion is then refused (legacy_already_converted); the period's end, arriving
    # last and dated before, holds the first conversion. The sorted replay of all four applies the second
    # one instead: recording them all at once must still refuse it, as one by one does.
    arrival: list[RightsEvent] = [
        LowQualificationDeclared("d", date(2017, 6, 1)),
        LegacyCpfHours("a", 300),
        LegacyCpfHours("b", 100),
        LowQualificationEnded("z", date(2017, 12, 1)),
    ]
    recorded, refused = one_by_one(arrival)
    at_once, refused_at_once = HolderRights.record_all(HOLDER, arrival)
    assert [(e.event_id, e.code) for e in refused] == [("b", ErrorCode.LEGACY_ALREADY_CONVERTED)]
    assert [(e.event_id, e.code) for e in refused_at_once] == [("b", ErrorCode.LEGACY_ALREADY_CONVERTED)]
    assert at_once.balances() == recorded.balances()
    assert [event.event_id for event, _ in at_once.held] == ["a"]


def test_a_shuffled_history_recorded_all_at_once_takes_one_sorted_pass() -> None:
    # What makes it linear: no rewind per late event. Counted, not timed (bench/rights_bench.py times it).
    history = [
        Abondement(f"a{n}", Decimal("10.00"), "employer", date(2024, 1, 1) + timedelta(days=n)) for n in range(200)
    ]
    with patch.object(UndoLog, "undo_to", side_effect=AssertionError("rewound")) as undo:
        recorded, refused = HolderRights.record_all(HOLDER, list(reversed(history)))
    assert refused == () and undo.call_count == 0
    assert recorded.balances() == HolderRights.replay(HOLDER, history).balances()


def test_a_refused_late_event_leaves_the_rights_as_they_were_even_past_the_undo_horizon() -> None:
    # A booking id reused by an earlier-dated booking would make the stored booking a duplicate: the
    # late one is refused (conflicts_with_later_event) and the holder's rights must be exactly as before,
    # also when it falls further back than the undo log reaches (horizon 2 here: rebuilt, not rewound).
    later = [Abondement(f"a{n}", Decimal("10.00"), "employer", date(2024, 3, 1) + timedelta(days=n)) for n in range(30)]
    history: list[RightsEvent] = [TrainingBooked("k1", "T1", Decimal("100.00"), date(2024, 2, 1)), *later]
    with patch.object(holder_rights, "UNDO_HORIZON", 2):
        rights, refused = HolderRights.record_all(HOLDER, history)
        before_balances, before_history = rights.balances(), rights.history()
        with pytest.raises(RightsError) as caught:
            rights.record(TrainingBooked("k0", "T1", Decimal("50.00"), date(2024, 1, 15)))
        assert caught.value.code is ErrorCode.CONFLICTS_WITH_LATER_EVENT
        assert (rights.balances(), rights.history()) == (before_balances, before_history)
        late = Abondement("late", Decimal("5.00"), "employer", date(2024, 1, 20))
        after = rights.record(late)
    assert refused == ()
    assert after.history() == HolderRights.replay(HOLDER, [*history, late]).history()
    assert after.balances() == HolderRights.replay(HOLDER, [*history, late]).balances()


@SETTINGS
@given(histories(), st.randoms(use_true_random=False))
def test_rights_no_longer_used_are_freed_without_the_cyclic_collector(events: list[RightsEvent], rnd: object) -> None:
    # The service keeps many holders' rights in memory and makes CPython's full collections rare
    # (app/collector.py): that is safe only if rights it drops (a holder leaving its cache) form no
    # reference cycle, so that reference counting frees them at once — after appends, late events
    # rewound through the undo log, held events and reads alike.
    arrival = list(accepted(events).events)
    rnd.shuffle(arrival)  # type: ignore[attr-defined]
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        rights = HolderRights(HOLDER)
        for event in arrival:
            rights = rights.record(event)
        rights.balances(), rights.history()
        del rights
        assert gc.collect() == 0  # nothing was left for the collector to find
    finally:
        if was_enabled:
            gc.enable()
