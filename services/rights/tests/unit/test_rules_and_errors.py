"""Rules and refusals of the domain, through its public API (HolderRights, events, Nir)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from services.rights.app.labels import label
from services.rights.domain import (
    PARAMETERS,
    Abondement,
    Account,
    C2pExposure,
    C2pPointsUsed,
    CecActivity,
    CecCategory,
    DifRegistered,
    ErrorCode,
    Holder,
    HolderRights,
    LegacyCpfHours,
    LowQualificationDeclared,
    LowQualificationEnded,
    Nir,
    Parameter,
    PointsUse,
    RightsError,
    RightsEvent,
    RulesPolicy,
    Shortfall,
    TrainingBooked,
    TrainingCancelled,
    WorkStatus,
    WorkYear,
    YearMonth,
)

HOLDER = Holder(YearMonth(1985, 3))


def rights(*events: RightsEvent) -> HolderRights:
    return HolderRights.replay(HOLDER, events)


def refused(code: ErrorCode, *events: RightsEvent) -> RightsError:
    with pytest.raises(RightsError) as caught:
        rights(*events)
    assert caught.value.code is code, caught.value
    return caught.value


# --- events that refuse themselves ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (lambda: WorkYear("e", 2023, hours=Decimal(-1)), ErrorCode.INVALID_HOURS),
        (lambda: WorkYear("e", 2023, hours=Decimal(9000)), ErrorCode.INVALID_HOURS),
        (lambda: WorkYear("e", 2023), ErrorCode.MISSING_MEASURE),
        (lambda: WorkYear("e", 2023, days=Decimal(10)), ErrorCode.MISSING_MEASURE),
        (
            lambda: WorkYear("e", 2023, hours=Decimal(1), reference_hours=Decimal(0)),
            ErrorCode.INVALID_REFERENCE,
        ),
        (lambda: WorkYear("e", 2023, status=WorkStatus.SELF_EMPLOYED), ErrorCode.MISSING_MEASURE),
        (
            lambda: WorkYear("e", 2023, status=WorkStatus.SELF_EMPLOYED, days_active=366),
            ErrorCode.INVALID_DAYS,
        ),
        (lambda: WorkYear("", 2023, hours=Decimal(1)), ErrorCode.INVALID_EVENT_ID),
        (lambda: WorkYear("e", 12023, hours=Decimal(1)), ErrorCode.INVALID_YEAR),
        (lambda: LegacyCpfHours("e", -5), ErrorCode.INVALID_HOURS),
        (lambda: DifRegistered("e", 0, date(2020, 1, 1)), ErrorCode.INVALID_HOURS),
        (lambda: C2pExposure("e", 2022, 5, 1), ErrorCode.INVALID_QUARTERS),
        (lambda: C2pExposure("e", 2022, 4, 0), ErrorCode.INVALID_FACTORS),
        (lambda: C2pPointsUsed("e", 0, PointsUse.TRAINING, date(2024, 1, 1)), ErrorCode.INVALID_POINTS),
        (lambda: Abondement("e", Decimal("10.005"), "employer", date(2024, 1, 1)), ErrorCode.INVALID_AMOUNT),
        (lambda: Abondement("e", Decimal("0"), "employer", date(2024, 1, 1)), ErrorCode.INVALID_AMOUNT),
        (lambda: Abondement("e", Decimal("10"), " ", date(2024, 1, 1)), ErrorCode.INVALID_PAYER),
        (lambda: TrainingBooked("e", "", Decimal("10"), date(2024, 1, 1)), ErrorCode.INVALID_BOOKING_ID),
        (lambda: TrainingBooked("e", "B", Decimal("-1"), date(2024, 1, 1)), ErrorCode.INVALID_AMOUNT),
        (lambda: CecActivity("e", 2022, "knitting"), ErrorCode.UNKNOWN_CEC_CATEGORY),  # type: ignore[arg-type]
        (lambda: YearMonth(1985, 13), ErrorCode.INVALID_BIRTH),
        (lambda: YearMonth.parse("1985/03"), ErrorCode.INVALID_BIRTH),
    ],
)
def test_invalid_events_are_refused_with_a_stable_code(build: object, code: ErrorCode) -> None:
    with pytest.raises(RightsError) as caught:
        build()  # type: ignore[operator]
    assert caught.value.code is code
    assert caught.value.reason


# --- refusals that need the rules or the ledger ---------------------------------------------------


def test_dif_after_the_deadline() -> None:
    error = refused(ErrorCode.DIF_DEADLINE_PASSED, DifRegistered("d", 90, date(2021, 7, 15)))
    assert error.event_id == "d"
    assert "2021-06-30" in error.reason


def test_dif_deadline_in_force_on_the_registration_date() -> None:
    # Before the Covid-era extension the deadline was 2020-12-31; registrations up to then were valid.
    assert rights(DifRegistered("d", 10, date(2020, 12, 31))).balances().cpf.dif_eur == Decimal("150.00")
    assert rights(DifRegistered("d", 10, date(2021, 6, 30))).balances().cpf.dif_eur == Decimal("150.00")


def test_dif_hours_capped_at_120_in_all() -> None:
    refused(
        ErrorCode.DIF_HOURS_EXCEEDED,
        DifRegistered("d1", 100, date(2020, 1, 1)),
        DifRegistered("d2", 21, date(2020, 2, 1)),
    )


def test_work_years_before_2018_go_through_legacy_hours() -> None:
    error = refused(ErrorCode.YEAR_BEFORE_REGIME, WorkYear("w", 2016, hours=Decimal(1607)))
    assert "legacy_cpf_hours" in error.reason


def test_work_before_the_eligibility_age() -> None:
    young = Holder(YearMonth(2010, 5))
    with pytest.raises(RightsError) as caught:
        HolderRights.replay(young, [WorkYear("w", 2024, hours=Decimal(100))])
    assert caught.value.code is ErrorCode.BEFORE_ELIGIBILITY_AGE
    assert HolderRights.replay(young, [WorkYear("w", 2025, hours=Decimal(100))]).balances().cpf.rights_eur > 0


def test_legacy_hours_converted_once_and_at_most_400() -> None:
    refused(ErrorCode.LEGACY_ALREADY_CONVERTED, LegacyCpfHours("a", 10), LegacyCpfHours("b", 20))
    refused(ErrorCode.INVALID_HOURS, LegacyCpfHours("a", 401))


def test_low_qualification_state_errors() -> None:
    refused(ErrorCode.NOT_LOW_QUALIFIED, LowQualificationEnded("e", date(2022, 1, 1)))
    refused(
        ErrorCode.ALREADY_LOW_QUALIFIED,
        LowQualificationDeclared("a", date(2020, 1, 1)),
        LowQualificationDeclared("b", date(2021, 1, 1)),
    )
    refused(ErrorCode.INVALID_DATE, LowQualificationDeclared("a", date(2016, 6, 1)))


def test_booking_errors() -> None:
    booking = TrainingBooked("b", "T1", Decimal("100.00"), date(2024, 1, 1))
    refused(ErrorCode.UNKNOWN_BOOKING, TrainingCancelled("c", "T9", date(2024, 2, 1)))
    refused(ErrorCode.DUPLICATE_BOOKING, booking, replace(booking, event_id="b2"))
    refused(
        ErrorCode.BOOKING_ALREADY_CANCELLED,
        booking,
        TrainingCancelled("c1", "T1", date(2024, 2, 1)),
        TrainingCancelled("c2", "T1", date(2024, 3, 1)),
    )
    refused(ErrorCode.UNKNOWN_BOOKING, booking, TrainingCancelled("c", "T1", date(2023, 12, 1)))


def test_booking_shortfall_is_paid_by_the_holder_or_refused() -> None:
    funds = Abondement("a", Decimal("300.00"), "employer", date(2024, 1, 1))
    booking = TrainingBooked("b", "T1", Decimal("1000.00"), date(2024, 1, 2))
    holder_pays = rights(funds, booking)
    assert holder_pays.balances().cpf.reserved_eur == Decimal("300.00")
    assert "reste à payer par le titulaire 700,00 €" in label(holder_pays.history()[-1])
    strict = RulesPolicy(booking_shortfall=Shortfall.REFUSE)
    with pytest.raises(RightsError) as caught:
        HolderRights.replay(HOLDER, [funds, booking], policy=strict)
    assert caught.value.code is ErrorCode.INSUFFICIENT_RIGHTS


def test_c2p_refusals() -> None:
    points = C2pExposure("x", 2022, 4, 2)  # 8 points
    refused(ErrorCode.INSUFFICIENT_POINTS, points, C2pPointsUsed("u", 9, PointsUse.TRAINING, date(2024, 1, 1)))
    refused(ErrorCode.POINTS_NOT_IN_BLOCKS, points, C2pPointsUsed("u", 5, PointsUse.PART_TIME, date(2024, 1, 1)))
    refused(ErrorCode.INVALID_FACTORS, C2pExposure("x", 2015, 4, 5))  # 4 factors existed in 2015
    old = Holder(YearMonth(1955, 1))
    many = [C2pExposure(f"x{y}", y, 4, 2) for y in range(2015, 2027)]
    uses = [C2pPointsUsed(f"r{i}", 10, PointsUse.RETIREMENT, date(2027, 6, i + 1)) for i in range(9)]
    with pytest.raises(RightsError) as caught:
        HolderRights.replay(old, [*many, *uses])
    assert caught.value.code is ErrorCode.RETIREMENT_QUARTERS_EXCEEDED


def test_c2p_old_rule_caps_at_100_points_in_a_career() -> None:
    years = [C2pExposure(f"x{y}", y, 4, 2) for y in range(2010 + 5, 2023)]  # 8 × 8 = 64
    twice = [C2pExposure(f"z{y}", y, 4, 2) for y in range(2015, 2023)]  # same years, other employer
    assert rights(*years).balances().c2p.points == 64
    assert rights(*years, *twice).balances().c2p.points == 64  # at most 8 a year under the old rule
    late = [C2pExposure(f"n{y}", y, 4, 6) for y in range(2024, 2026)]  # new rule: 24 a year, no cap
    assert rights(*years, *late).balances().c2p.points == 64 + 48


def test_cec_measure_missing_and_once_per_category_and_year() -> None:
    refused(ErrorCode.MISSING_MEASURE, CecActivity("c", 2022, CecCategory.MILITARY_RESERVE, months=Decimal(3)))
    first = CecActivity("c1", 2022, CecCategory.MILITARY_RESERVE, days=Decimal(95))
    again = CecActivity("c2", 2022, CecCategory.MILITARY_RESERVE, days=Decimal(100))
    assert rights(first, again).balances().cec.eur == Decimal("240.00")
    refused(ErrorCode.YEAR_BEFORE_REGIME, CecActivity("c", 2016, CecCategory.MILITARY_RESERVE, days=Decimal(95)))


def test_civic_reserve_needs_100_hours_at_one_host() -> None:
    ok = CecActivity("c1", 2022, CecCategory.CIVIC_RESERVE, hours_by_host=(Decimal(120), Decimal(90)))
    ko = CecActivity("c2", 2023, CecCategory.CIVIC_RESERVE, hours_by_host=(Decimal(99), Decimal(99), Decimal(99)))
    assert rights(ok, ko).balances().cec.eur == Decimal("240.00")


# --- ledger behaviour -----------------------------------------------------------------------------


def test_a_refused_event_changes_nothing() -> None:
    holder_rights = rights(WorkYear("w", 2022, hours=Decimal(1607)))
    before = holder_rights.balances()
    with pytest.raises(RightsError):
        holder_rights.record(DifRegistered("late", 90, date(2021, 7, 15)))
    assert holder_rights.balances() == before
    assert len(holder_rights.events) == 1


def test_record_is_idempotent_on_event_id_and_refuses_a_reused_id() -> None:
    event = WorkYear("w", 2022, hours=Decimal(1607))
    holder_rights = HolderRights(HOLDER).record(event)
    assert holder_rights.record(event) is holder_rights
    with pytest.raises(RightsError) as caught:
        holder_rights.record(WorkYear("w", 2023, hours=Decimal(1607)))
    assert caught.value.code is ErrorCode.CONFLICTING_EVENT_ID


def test_a_late_event_lands_in_date_order() -> None:
    late_first_year = HolderRights(HOLDER).record(WorkYear("w23", 2023, hours=Decimal(1607)))
    late_first_year = late_first_year.record(WorkYear("w19", 2019, hours=Decimal(1607)))
    assert [e.event_id for e in late_first_year.events] == ["w19", "w23"]
    assert late_first_year.balances().cpf.rights_eur == Decimal("1000.00")


def test_an_event_that_takes_what_a_later_one_used_holds_the_later_one_until_points_arrive() -> None:
    # 8 points (2022), 8 used on 2024-01-01; then a use of 4 on 2023-06-01 arrives: in date order it comes
    # first, so the 2024 use waits (held, not applied) until exposures earn the points it needs.
    holder_rights = rights(C2pExposure("x", 2022, 4, 2), C2pPointsUsed("u", 8, PointsUse.TRAINING, date(2024, 1, 1)))
    holder_rights = holder_rights.record(C2pPointsUsed("early", 4, PointsUse.TRAINING, date(2023, 6, 1)))
    assert [(event.event_id, error.code) for event, error in holder_rights.held] == [
        ("u", ErrorCode.INSUFFICIENT_POINTS)
    ]
    assert holder_rights.balances().c2p.points == 4
    holder_rights = holder_rights.record(C2pExposure("y", 2021, 2, 2))  # +4 points, posted 2022-04-30
    assert holder_rights.held == ()
    assert [event.event_id for event in holder_rights.events] == ["y", "x", "early", "u"]
    assert holder_rights.balances().c2p.points == 0


def test_an_event_that_would_invalidate_a_later_applied_one_for_good_is_refused() -> None:
    # A booking T1 on 2024-06-01 is applied; a second T1 booked earlier would make it a duplicate.
    holder_rights = rights(TrainingBooked("b", "T1", Decimal("100.00"), date(2024, 6, 1)))
    with pytest.raises(RightsError) as caught:
        holder_rights.record(TrainingBooked("early", "T1", Decimal("100.00"), date(2024, 1, 1)))
    assert caught.value.code is ErrorCode.CONFLICTS_WITH_LATER_EVENT
    assert caught.value.event_id == "early"


def test_history_lines_have_date_french_label_and_amount() -> None:
    holder_rights = rights(
        LegacyCpfHours("l", 72),
        WorkYear("w", 2019, hours=Decimal(1607)),
        TrainingBooked("b", "T1", Decimal("700.00"), date(2024, 6, 1)),
    )
    lines = holder_rights.history(account=Account.CPF_RIGHTS)
    assert [(line.on, line.amount) for line in lines] == [
        (date(2019, 1, 1), Decimal("1080.00")),
        (date(2020, 4, 30), Decimal("500.00")),
        (date(2024, 6, 1), Decimal("-600.00")),
    ]
    assert label(lines[0]) == "Conversion des 72 h CPF acquises avant 2019 (15,00 €/h)"
    assert label(lines[2]) == "Formation T1 réservée (prix 700,00 €, participation forfaitaire 100,00 €)"
    balances = holder_rights.balances()
    assert (balances.legacy_hours, balances.legacy_eur) == (72, Decimal("1080.00"))


def test_a_new_parameter_step_changes_only_later_dates() -> None:
    cheaper = replace(
        PARAMETERS,
        participation_forfaitaire_eur=Parameter(
            "PARTICIPATION_FORFAITAIRE_EUR",
            "test",
            "test",
            (*PARAMETERS.participation_forfaitaire_eur.steps, (date(2027, 1, 1), Decimal("110.00"))),
        ),
    )
    funds = Abondement("a", Decimal("5000.00"), "employer", date(2024, 1, 1))
    old = TrainingBooked("b1", "T1", Decimal("1000.00"), date(2026, 6, 1))
    new = TrainingBooked("b2", "T2", Decimal("1000.00"), date(2027, 6, 1))
    result = HolderRights.replay(HOLDER, [funds, old, new], parameters=cheaper)
    assert result.balances().cpf.reserved_eur == Decimal("896.80") + Decimal("890.00")


def test_policy_low_qualified_pro_rata_of_800() -> None:
    events: list[RightsEvent] = [
        LowQualificationDeclared("q", date(2023, 1, 1)),
        WorkYear("w", 2023, hours=Decimal(400)),
    ]
    assert rights(*events).balances().cpf.rights_eur == Decimal("124.46")
    policy = RulesPolicy(low_qualified_pro_rata_of_majorated=True)
    assert HolderRights.replay(HOLDER, events, policy=policy).balances().cpf.rights_eur == Decimal("199.13")


# --- NIR ------------------------------------------------------------------------------------------


def _key(number: str) -> str:
    return f"{97 - int(number.replace('2A', '19').replace('2B', '18')) % 97:02d}"


def test_nir_key_and_birth() -> None:
    number = "1850375123456"
    nir = Nir.parse(number, _key(number))
    assert nir.birth(2026) == YearMonth(1985, 3)
    assert "123456" not in repr(nir)
    corsica = "206032A123456"  # born March 2006 in Corsica (department 2A)
    assert Nir.parse(corsica, _key(corsica)).birth(2026) == YearMonth(2006, 3)


@pytest.mark.parametrize(
    ("number", "key", "code"),
    [
        ("185037512345", "00", ErrorCode.INVALID_NIR),
        ("9850375123456", "00", ErrorCode.INVALID_NIR),
        ("18503751234X6", "00", ErrorCode.INVALID_NIR),
        ("1850375123456", "4", ErrorCode.INVALID_NIR_KEY),
        ("1850375123456", "00", ErrorCode.INVALID_NIR_KEY),
    ],
)
def test_bad_nir_is_refused(number: str, key: str, code: ErrorCode) -> None:
    with pytest.raises(RightsError) as caught:
        Nir.parse(number, key)
    assert caught.value.code is code


def test_why_reserved_money_counts_in_the_ceiling() -> None:
    # 5 000 € of rights, a 1 000 € booking, two more years of credits, then the cancellation.
    events: list[RightsEvent] = [
        LegacyCpfHours("l", 150),
        DifRegistered("d", 120, date(2019, 2, 1)),
        WorkYear("w19", 2019, hours=Decimal(1607)),
        WorkYear("w20", 2020, hours=Decimal(1607)),
        TrainingBooked("b", "T1", Decimal("1000.00"), date(2021, 1, 10)),
        WorkYear("w21", 2021, hours=Decimal(1607)),
        WorkYear("w22", 2022, hours=Decimal(1607)),
        TrainingCancelled("c", "T1", date(2023, 6, 1)),
    ]
    kept = rights(*events).balances().cpf
    assert kept.rights_eur + kept.dif_eur == Decimal("5000.00")  # no credit while the money was reserved
    free = HolderRights.replay(HOLDER, events, policy=RulesPolicy(reserved_counts_in_ceiling=False))
    freed = free.balances().cpf
    assert freed.rights_eur + freed.dif_eur == Decimal("6000.00")  # the alternative crosses the ceiling
