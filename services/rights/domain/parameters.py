"""The parameter table: every amount and threshold of the rules, each with its date of effect and source.

(Over 300 lines on purpose: it is the dated rules table, every amount with its dates of effect and its
source, audited as one table.)

A :class:`Parameter` is a series of steps ``(date of effect, value)``. The engine asks for the value in
force on a date: for acquisition rules that date is **1 January of the activity year** (the rule of the
year the rights were earned); for uses (bookings, points used) it is the date of the use; for the
C2P reserve it is the holder's birth date. Source ids (``S1``…) refer to
``research/rights-rules.md`` §0 and are listed in ``docs/rights.md``.

To change the law, add a step here (never edit a past step): replaying a holder's events then gives
the balances under the new rule from its date of effect, and the same balances as before for earlier
dates.

This module is long (~470 lines) because it is the dated rules table: one entry per amount or
threshold, each with its steps and sources; splitting it would scatter the law it transcribes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Generic, TypeVar

from .errors import ErrorCode, RightsError

T = TypeVar("T")


@dataclass(frozen=True)
class Parameter(Generic[T]):
    """A rule's value over time: ``steps`` are ``(date of effect, value)`` in increasing date order."""

    name: str
    meaning: str
    source: str
    steps: tuple[tuple[date, T], ...]
    # The value for each activity year asked so far: the rules ask for the same few years for every
    # event (a table lookup instead of a scan and a date). Not part of the value (never compared).
    _by_year: dict[int, T] = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        if not self.steps:
            raise ValueError(f"parameter {self.name} has no step")
        dates = [start for start, _ in self.steps]
        if dates != sorted(dates) or len(set(dates)) != len(dates):
            raise ValueError(f"parameter {self.name}: steps must be in strictly increasing date order")

    def at(self, on: date) -> T:
        """The value in force on ``on``; a date before the first step is refused (no rule then)."""
        in_force: tuple[date, T] | None = None
        for step in self.steps:
            if step[0] > on:
                break
            in_force = step
        if in_force is None:
            raise RightsError(
                ErrorCode.RULE_NOT_IN_FORCE,
                f"no value of {self.name} before {self.steps[0][0].isoformat()} (asked for {on.isoformat()})",
            )
        return in_force[1]

    def for_activity_year(self, year: int) -> T:
        """The value for rights earned in ``year``: the rule in force on 1 January of that year."""
        try:
            return self._by_year[year]
        except KeyError:
            value = self._by_year[year] = self.at(date(year, 1, 1))  # raises, and keeps nothing, if none
            return value

    @property
    def first_effect(self) -> date:
        return self.steps[0][0]

    @property
    def initial(self) -> T:
        """The first value (for parameters that are a fixed date or year, e.g. when a regime starts)."""
        return self.steps[0][1]


@dataclass(frozen=True)
class HourScale:
    """A CPF scale in hours: ``annual`` hours a year up to ``tier_cap``, then ``after_tier`` a year
    up to ``ceiling`` (the 2015–2019 "24 h until 120 h, then 12 h up to 150 h" shape)."""

    annual: int
    tier_cap: int
    after_tier: int
    ceiling: int


class C2pRule(StrEnum):
    """How C2P points are counted per quarter of exposure."""

    # Until 31 Aug 2023: 1 point per quarter for one factor, 2 for several (S31).
    ONE_OR_TWO_PER_QUARTER = "one_or_two_per_quarter"
    # From 1 Sep 2023: 1 point per factor per quarter (S32).
    ONE_PER_FACTOR_PER_QUARTER = "one_per_factor_per_quarter"


@dataclass(frozen=True)
class C2pScale:
    rule: C2pRule
    yearly_cap: int | None  # 8 points a year until 31 Aug 2023 (4 quarters × 2), none after (S31, S32)
    career_cap: int | None  # 100 points until 31 Aug 2023, none after (S31, S32)


@dataclass(frozen=True)
class CecMinimum:
    """What a CEC category needs in a year to earn its credit (D5151-14 I).

    ``measure`` names the event field that carries the measure. For ``*_by_*`` measures the total must
    reach ``minimum`` and one organisation ``minimum_in_one``. For boolean measures ``minimum`` is 1.
    """

    measure: str
    minimum: Decimal
    article: str
    minimum_in_one: Decimal | None = None


class CecCategory(StrEnum):
    """The activities of L5151-9 (S27) the engine knows."""

    CIVIC_SERVICE = "civic_service"
    MILITARY_RESERVE = "military_reserve"
    POLICE_OPERATIONAL_RESERVE = "police_operational_reserve"
    DEFENCE_CITIZEN_RESERVE = "defence_citizen_reserve"
    MUNICIPAL_CIVIL_SECURITY_RESERVE = "municipal_civil_security_reserve"
    EDUCATION_CITIZEN_RESERVE = "education_citizen_reserve"
    POLICE_CITIZEN_RESERVE = "police_citizen_reserve"
    CIVIC_RESERVE = "civic_reserve"
    HEALTH_RESERVE = "health_reserve"
    APPRENTICE_MASTER = "apprentice_master"
    ASSOCIATION_BOARD = "association_board"
    CARER = "carer"
    VOLUNTEER_FIREFIGHTER = "volunteer_firefighter"


def _d(value: str) -> Decimal:
    return Decimal(value)


def _once(start: date, value: T) -> tuple[tuple[date, T], ...]:
    return ((start, value),)


_CEC_MINIMA: Mapping[CecCategory, CecMinimum] = MappingProxyType(
    {
        CecCategory.CIVIC_SERVICE: CecMinimum("months", _d("6"), "D5151-14 I 1°"),
        CecCategory.MILITARY_RESERVE: CecMinimum("days", _d("90"), "D5151-14 I 2°"),
        CecCategory.POLICE_OPERATIONAL_RESERVE: CecMinimum("shifts", _d("75"), "D5151-14 I 2° bis"),
        CecCategory.DEFENCE_CITIZEN_RESERVE: CecMinimum("commitment_signed", _d("1"), "D5151-14 I 3°"),
        CecCategory.MUNICIPAL_CIVIL_SECURITY_RESERVE: CecMinimum("commitment_signed", _d("1"), "D5151-14 I 3°"),
        CecCategory.EDUCATION_CITIZEN_RESERVE: CecMinimum("interventions", _d("25"), "D5151-14 I 3°"),
        CecCategory.POLICE_CITIZEN_RESERVE: CecMinimum("hours", _d("350"), "D5151-14 I 3°"),
        CecCategory.CIVIC_RESERVE: CecMinimum("hours_by_host", _d("200"), "D5151-14 I 3°", _d("100")),
        CecCategory.HEALTH_RESERVE: CecMinimum("days", _d("30"), "D5151-14 I 4°"),
        CecCategory.APPRENTICE_MASTER: CecMinimum("months", _d("6"), "D5151-14 I 5°"),
        CecCategory.ASSOCIATION_BOARD: CecMinimum("hours_by_association", _d("200"), "D5151-14 I 7°", _d("100")),
        CecCategory.CARER: CecMinimum("agreement_minimum_met", _d("1"), "L5151-9 7°"),
        CecCategory.VOLUNTEER_FIREFIGHTER: CecMinimum("commitment_signed", _d("1"), "D5151-14 I 8°"),
    }
)


@dataclass(frozen=True)
class RightsParameters:
    """Every amount, threshold and date the engine uses. ``PARAMETERS`` below is the law as read."""

    # --- CPF, private sector -------------------------------------------------------------------
    cpf_first_activity_year: Parameter[int] = Parameter(
        "CPF_FIRST_ACTIVITY_YEAR",
        "first activity year a work_year may declare; 2015–2017 hours are sent as legacy_cpf_hours",
        "S10, S12",
        _once(date(2018, 1, 1), 2018),
    )
    cpf_euro_first_activity_year: Parameter[int] = Parameter(
        "CPF_EURO_FIRST_ACTIVITY_YEAR",
        "first activity year credited in euros (décret 2018-1329, in force 2019-01-01)",
        "S11, S12",
        _once(date(2019, 1, 1), 2019),
    )
    cpf_transition_hours: Parameter[int] = Parameter(
        "CPF_TRANSITION_HOURS",
        "2018 activity: hours a full year earns (pro rata rounded up to a whole hour), paid in euros",
        "S12, S16",
        _once(date(2018, 1, 1), 24),
    )
    cpf_transition_hours_low_qualified: Parameter[int] = Parameter(
        "CPF_TRANSITION_HOURS_LOW_QUALIFIED",
        "2018 activity, low-qualified worker: hours a full year earns (UNCONFIRMED, 48 h × 15 € = 720 €)",
        "S16 (UNCONFIRMED)",
        _once(date(2017, 1, 1), 48),
    )
    cpf_hour_value_eur: Parameter[Decimal] = Parameter(
        "CPF_HOUR_VALUE_EUR",
        "value of one CPF hour (legacy hours held on 2018-12-31, 2018 transition)",
        "S10 (décret 2018-1153)",
        _once(date(2019, 1, 1), _d("15.00")),
    )
    legacy_conversion_date: Parameter[date] = Parameter(
        "LEGACY_CONVERSION_DATE",
        "date the CPF hours held on 2018-12-31 became euros",
        "S10",
        _once(date(2019, 1, 1), date(2019, 1, 1)),
    )
    legacy_max_hours: Parameter[int] = Parameter(
        "LEGACY_MAX_HOURS",
        "most CPF hours anyone could hold on 2018-12-31 (low-qualified ceiling of 400 h)",
        "S16",
        _once(date(2019, 1, 1), 400),
    )
    legacy_max_hours_not_low_qualified: Parameter[int] = Parameter(
        "LEGACY_MAX_HOURS_NOT_LOW_QUALIFIED",
        "most CPF hours a holder not declared low-qualified could hold on 2018-12-31 (the 150 h ceiling)",
        "S16",
        _once(date(2019, 1, 1), 150),
    )
    cpf_annual_credit_eur: Parameter[Decimal] = Parameter(
        "CPF_ANNUAL_CREDIT_EUR",
        "credit for a year at half-time or more; the base of the pro rata below half-time",
        "S1 (R6323-1 I)",
        _once(date(2019, 1, 1), _d("500.00")),
    )
    cpf_ceiling_eur: Parameter[Decimal] = Parameter(
        "CPF_CEILING_EUR",
        "CPF ceiling (rights + converted hours + DIF)",
        "S1 (R6323-1 I)",
        _once(date(2019, 1, 1), _d("5000.00")),
    )
    half_time_fraction: Parameter[Decimal] = Parameter(
        "HALF_TIME_FRACTION",
        "share of the reference duration from which the full annual credit is due",
        "S1 (R6323-1 I, II), S15",
        _once(date(2019, 1, 1), _d("0.5")),
    )
    reference_hours: Parameter[Decimal] = Parameter(
        "REFERENCE_HOURS",
        "reference duration when no agreement sets another one",
        "S1 (R6323-1)",
        _once(date(2018, 1, 1), _d("1607")),
    )
    max_forfait_days: Parameter[int] = Parameter(
        "MAX_FORFAIT_DAYS",
        "reference in days of a forfait-jours: the forfait's days, at most this (a longer forfait counts as 218)",
        "S1 (R6323-1)",
        _once(date(2018, 1, 1), 218),
    )
    low_qualified_annual_eur: Parameter[Decimal] = Parameter(
        "LOW_QUALIFIED_ANNUAL_EUR",
        "annual credit of a low-qualified worker at half-time or more",
        "S2 (R6323-3-1), S3",
        _once(date(2019, 1, 1), _d("800.00")),
    )
    low_qualified_ceiling_eur: Parameter[Decimal] = Parameter(
        "LOW_QUALIFIED_CEILING_EUR",
        "CPF ceiling of a low-qualified worker",
        "S2 (R6323-3-1)",
        _once(date(2019, 1, 1), _d("8000.00")),
    )
    low_qualified_first_declaration: Parameter[date] = Parameter(
        "LOW_QUALIFIED_FIRST_DECLARATION",
        "earliest date a low-qualification declaration has effect (majoration in force 2017-01-01)",
        "S16",
        _once(date(2017, 1, 1), date(2017, 1, 1)),
    )
    boeth_majoration_eur: Parameter[Decimal] = Parameter(
        "BOETH_MAJORATION_EUR",
        "yearly majoration for a worker with disability status (applied by the CDC from 2019 activity)",
        "S5 (D6323-3-3, décret 2019-566), S6",
        _once(date(2019, 1, 1), _d("300.00")),
    )
    boeth_annual_limit_eur: Parameter[Decimal] = Parameter(
        "BOETH_ANNUAL_LIMIT_EUR",
        "most a BOETH holder's year can earn, majoration included",
        "S6",
        _once(date(2019, 1, 1), _d("800.00")),
    )
    boeth_ceiling_eur: Parameter[Decimal] = Parameter(
        "BOETH_CEILING_EUR",
        "CPF ceiling of a BOETH holder",
        "S5, S6",
        _once(date(2019, 1, 1), _d("8000.00")),
    )
    esat_annual_eur: Parameter[Decimal] = Parameter(
        "ESAT_ANNUAL_EUR",
        "credit per year of admission in an ESAT, full- or part-time",
        "S8 (R6323-29)",
        _once(date(2019, 1, 1), _d("800.00")),
    )
    esat_ceiling_eur: Parameter[Decimal] = Parameter(
        "ESAT_CEILING_EUR",
        "CPF ceiling of an ESAT worker",
        "S8 (R6323-29)",
        _once(date(2019, 1, 1), _d("8000.00")),
    )
    self_employed_annual_eur: Parameter[Decimal] = Parameter(
        "SELF_EMPLOYED_ANNUAL_EUR",
        "credit of a self-employed worker for a full year of activity (pro rata of the days active)",
        "S9 (R6323-22, L6323-27)",
        _once(date(2019, 1, 1), _d("500.00")),
    )
    self_employed_ceiling_eur: Parameter[Decimal] = Parameter(
        "SELF_EMPLOYED_CEILING_EUR",
        "CPF ceiling of a self-employed worker",
        "S9 (R6323-22)",
        _once(date(2019, 1, 1), _d("5000.00")),
    )
    annual_posting_day: Parameter[tuple[int, int]] = Parameter(
        "ANNUAL_POSTING_DAY",
        "(month, day) of year N+1 on which year-N rights take effect (CDC: 'before 30 April')",
        "S13",
        _once(date(2015, 1, 1), (4, 30)),
    )
    eligibility_age: Parameter[int] = Parameter(
        "ELIGIBILITY_AGE",
        "age from which activity earns rights with an apprenticeship contract (younger: refused)",
        "S36 (L5151-2)",
        _once(date(2015, 1, 1), 15),
    )
    eligibility_age_without_apprenticeship: Parameter[int] = Parameter(
        "ELIGIBILITY_AGE_WITHOUT_APPRENTICESHIP",
        "age from which activity earns rights without an apprenticeship contract",
        "S36 (L5151-2)",
        _once(date(2015, 1, 1), 16),
    )
    participation_forfaitaire_eur: Parameter[Decimal] = Parameter(
        "PARTICIPATION_FORFAITAIRE_EUR",
        "holder's flat co-payment per training booked (revalued every 1 January)",
        "S20 (décret 2024-394; arrêtés of 26 Dec 2024 and 30 Dec 2025)",
        (
            (date(2015, 1, 1), _d("0.00")),
            (date(2024, 5, 2), _d("100.00")),
            (date(2025, 1, 1), _d("102.23")),
            (date(2026, 1, 1), _d("103.20")),
        ),
    )
    # --- DIF -----------------------------------------------------------------------------------
    dif_hour_value_eur: Parameter[Decimal] = Parameter(
        "DIF_HOUR_VALUE_EUR",
        "value of one registered DIF hour",
        "S10, S23",
        _once(date(2015, 1, 1), _d("15.00")),
    )
    dif_max_hours: Parameter[int] = Parameter(
        "DIF_MAX_HOURS", "most DIF hours a holder can register", "S23", _once(date(2015, 1, 1), 120)
    )
    dif_registration_deadline: Parameter[date] = Parameter(
        "DIF_REGISTRATION_DEADLINE",
        "last day to register DIF hours, as set by the text in force on the registration date "
        "(loi 2014-288 then ordonnance 2019-861: 2020-12-31; Covid-era law of November 2020: 2021-06-30 — "
        "its exact date of effect was not read, 2020-11-01 is used)",
        "S23",
        ((date(2015, 1, 1), date(2020, 12, 31)), (date(2020, 11, 1), date(2021, 6, 30))),
    )
    # --- CEC -----------------------------------------------------------------------------------
    cec_first_activity_year: Parameter[int] = Parameter(
        "CEC_FIRST_ACTIVITY_YEAR", "first activity year of the CEC", "S28", _once(date(2017, 1, 1), 2017)
    )
    cec_hours_per_activity: Parameter[int] = Parameter(
        "CEC_HOURS_PER_ACTIVITY",
        "2017–2018 activity: hours per category per year (converted at CEC_HOUR_VALUE_EUR)",
        "S28",
        _once(date(2017, 1, 1), 20),
    )
    cec_hours_ceiling: Parameter[int] = Parameter(
        "CEC_HOURS_CEILING", "2017–2018 CEC ceiling in hours", "S28", _once(date(2017, 1, 1), 60)
    )
    cec_hour_value_eur: Parameter[Decimal] = Parameter(
        "CEC_HOUR_VALUE_EUR",
        "value of a CEC hour held on 2018-12-31 (décret 2018-1349)",
        "S28",
        _once(date(2017, 1, 1), _d("12.00")),
    )
    cec_euro_first_activity_year: Parameter[int] = Parameter(
        "CEC_EURO_FIRST_ACTIVITY_YEAR",
        "first CEC activity year credited in euros",
        "S28",
        _once(date(2019, 1, 1), 2019),
    )
    cec_credit_eur: Parameter[Decimal] = Parameter(
        "CEC_CREDIT_EUR",
        "credit per category per year once its minimum is met",
        "S26, S28, S29",
        _once(date(2019, 1, 1), _d("240.00")),
    )
    cec_ceiling_eur: Parameter[Decimal] = Parameter(
        "CEC_CEILING_EUR", "CEC ceiling", "S28, S29", _once(date(2019, 1, 1), _d("720.00"))
    )
    cec_minima: Parameter[Mapping[CecCategory, CecMinimum]] = Parameter(
        "CEC_MINIMA",
        "minimum per category (D5151-14 I): civic service 6 months, military reserve 90 days, police "
        "operational reserve 75 shifts, defence/municipal reserve commitment signed, education reserve 25 "
        "interventions, police citizens' reserve 350 h, other civic reserves 200 h with 100 h at one host, "
        "health reserve 30 days, apprentice master 6 months, association board 200 h with 100 h in one "
        "association, carer per branch agreement, volunteer firefighter commitment signed",
        "S26, S27",
        _once(date(2017, 1, 1), _CEC_MINIMA),
    )
    # --- C2P -----------------------------------------------------------------------------------
    c2p_first_year: Parameter[int] = Parameter(
        "C2P_FIRST_YEAR", "first exposure year (C3P created 2015-01-01)", "S35", _once(date(2015, 1, 1), 2015)
    )
    c2p_scale: Parameter[C2pScale] = Parameter(
        "C2P_SCALE",
        "points per quarter of exposure; yearly and career caps (8 and 100 points until 2023-08-31, none after)",
        "S31, S32",
        (
            (date(2015, 1, 1), C2pScale(C2pRule.ONE_OR_TWO_PER_QUARTER, 8, 100)),
            (date(2023, 9, 1), C2pScale(C2pRule.ONE_PER_FACTOR_PER_QUARTER, None, None)),
        ),
    )
    c2p_factor_count: Parameter[int] = Parameter(
        "C2P_FACTOR_COUNT",
        "number of exposure factors that exist",
        "S35",
        ((date(2015, 1, 1), 4), (date(2016, 7, 1), 10), (date(2017, 10, 1), 6)),
    )
    c2p_point_training_value_eur: Parameter[Decimal] = Parameter(
        "C2P_POINT_TRAINING_VALUE_EUR",
        "CPF top-up per point used for training (25 h × 15 € = 375 € before the reform; start UNCONFIRMED)",
        "S31, S32, S35",
        ((date(2015, 1, 1), _d("375.00")), (date(2023, 9, 1), _d("500.00"))),
    )
    c2p_reserved_points_by_birth: Parameter[int] = Parameter(
        "C2P_RESERVED_POINTS_BY_BIRTH",
        "first points reserved for training, by birth date (R4163-13): 0 before 1960, 10 for 1960–1962, 20",
        "S33",
        ((date(1900, 1, 1), 0), (date(1960, 1, 1), 10), (date(1963, 1, 1), 20)),
    )
    c2p_points_per_block: Parameter[int] = Parameter(
        "C2P_POINTS_PER_BLOCK",
        "part-time and retirement uses consume points by blocks of this size (R4163-12)",
        "S34, S35",
        _once(date(2015, 1, 1), 10),
    )
    c2p_retirement_max_quarters: Parameter[int] = Parameter(
        "C2P_RETIREMENT_MAX_QUARTERS",
        "most retirement quarters points can buy (one per block)",
        "S35, S31",
        _once(date(2015, 1, 1), 8),
    )
    # --- Public sector (hours) ------------------------------------------------------------------
    public_first_activity_year: Parameter[int] = Parameter(
        "PUBLIC_FIRST_ACTIVITY_YEAR",
        "first activity year of the public-sector CPF (décret 2017-928)",
        "S22",
        _once(date(2017, 1, 1), 2017),
    )
    public_scale_hours: Parameter[HourScale] = Parameter(
        "PUBLIC_SCALE_HOURS",
        "public agents: 24 h/yr to 120 h then 12 h/yr to 150 h; from 2020, 25 h/yr to 150 h",
        "S22 (décret 2019-1392)",
        ((date(2017, 1, 1), HourScale(24, 120, 12, 150)), (date(2020, 1, 1), HourScale(25, 150, 25, 150))),
    )
    public_c_unqualified_scale_hours: Parameter[HourScale] = Parameter(
        "PUBLIC_C_UNQUALIFIED_SCALE_HOURS",
        "category C agents below level 3: 48 h/yr to 400 h; from 2020, 50 h/yr to 400 h",
        "S22",
        ((date(2017, 1, 1), HourScale(48, 400, 48, 400)), (date(2020, 1, 1), HourScale(50, 400, 50, 400))),
    )
    # --- sanity bounds (not law: a year outside them is an impossible declaration) ---------------
    last_plausible_year: Parameter[int] = Parameter(
        "LAST_PLAUSIBLE_YEAR",
        "largest year accepted in an event (guards typos)",
        "design",
        _once(date(2015, 1, 1), 2199),
    )

    all_parameters: tuple[Parameter[object], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        found = tuple(v for v in vars(self).values() if isinstance(v, Parameter))
        object.__setattr__(self, "all_parameters", found)


PARAMETERS = RightsParameters()
