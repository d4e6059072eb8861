"""The CPF annual credit of one activity year (private sector), as pure functions.

A year's credit depends on everything known about that year (all employers' hours, ESAT admission,
self-employment, disability status, low-qualification) — never on the order those facts arrived in.
The ledger credits the difference between this entitlement and what the year already received, within
the ceiling.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

from .errors import ErrorCode, RightsError
from .events import WorkStatus, WorkYear
from .money import ZERO, ceil_to_cent, eur
from .parameters import RightsParameters
from .policy import RulesPolicy

_ONE = Fraction(1)
_NONE = Fraction(0)


def exact(value: Decimal | int) -> Fraction:
    """``value`` as an exact fraction, by the fast path of ``Fraction(int, int)`` (``Fraction(Decimal)``
    goes through the numeric tower's abstract-class checks: most of a small holder's time)."""
    if isinstance(value, int):
        return Fraction(value, 1)
    numerator, denominator = value.as_integer_ratio()
    return Fraction(numerator, denominator)


def ratio(numerator: Decimal, denominator: Decimal) -> Fraction:
    """``numerator / denominator`` exactly, as one Fraction (not three: two operands and a quotient)."""
    top, top_scale = numerator.as_integer_ratio()
    bottom, bottom_scale = denominator.as_integer_ratio()
    return Fraction(top * bottom_scale, top_scale * bottom)


@dataclass
class YearFacts:
    """What is known about one activity year."""

    year: int
    employee_time: dict[str, Fraction] = field(default_factory=dict)  # by event_id: share of full time
    self_employed_time: dict[str, Fraction] = field(default_factory=dict)
    esat: bool = False
    boeth: bool = False
    # Frozen and shared while empty: a set per year was one more object for the collector to follow for
    # every holder, and most holders never work in the public sector. A status is added by replacing it.
    public_statuses: frozenset[WorkStatus] = frozenset()

    def copy(self) -> YearFacts:
        return YearFacts(
            self.year,
            dict(self.employee_time),
            dict(self.self_employed_time),
            self.esat,
            self.boeth,
            self.public_statuses,
        )

    @property
    def employee_share(self) -> Fraction:
        """Share of full time over all employers, at most 1 (hours add up across contracts)."""
        return _at_most_one(self.employee_time)

    @property
    def self_employed_share(self) -> Fraction:
        return _at_most_one(self.self_employed_time)


def _at_most_one(shares: dict[str, Fraction]) -> Fraction:
    # One contract is the common case: no Fraction addition (Python-level, the costly part of a year).
    total = next(iter(shares.values())) if len(shares) == 1 else sum(shares.values(), _NONE)
    return total if total.numerator < total.denominator else _ONE  # (in integers: faster than Fraction's)


class YearEntitlement(NamedTuple):
    """(A named tuple, not a frozen dataclass: made for every year of work, and its ``__init__`` was a
    measurable part of a holder's first year.)"""

    amount: Decimal  # what the year earns, before the ceiling
    ceiling: Decimal  # the ceiling that applies to it (the most favourable, décret 2018-1329)


def time_share(event: WorkYear, parameters: RightsParameters) -> Fraction:
    """Share of the reference duration worked (R6323-1: 1 607 h, agreed hours, or forfait days capped at 218)."""
    if event.days is not None and event.reference_days is not None:
        # R6323-1: the reference of a forfait is its number of days, "dans la limite de 218 jours".
        cap = exact(parameters.max_forfait_days.for_activity_year(event.year))
        forfait = min(exact(event.reference_days), cap)
        return exact(event.days) / forfait  # (rare: forfait-jours)
    if event.hours is None:
        raise RightsError(ErrorCode.MISSING_MEASURE, "an employee's year needs hours or days", event_id=event.event_id)
    reference = event.reference_hours or parameters.reference_hours.for_activity_year(event.year)
    return ratio(event.hours, reference)


def self_employed_share(event: WorkYear) -> Fraction:
    """R6323-22: pro rata of the time the activity was carried out; counted in days (setting, §9.5)."""
    days_in_year = 366 if _is_leap(event.year) else 365
    return Fraction(event.days_active or 0, days_in_year)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def year_entitlement(
    facts: YearFacts, low_qualified: bool, parameters: RightsParameters, policy: RulesPolicy
) -> YearEntitlement:
    if facts.year < parameters.cpf_euro_first_activity_year.initial:
        return _transition_entitlement(facts, low_qualified, parameters)
    return _euro_entitlement(facts, low_qualified, parameters, policy)


def _transition_entitlement(facts: YearFacts, low_qualified: bool, parameters: RightsParameters) -> YearEntitlement:
    """2018 activity, posted in 2019: hours pro rata rounded up to a whole hour, at 15 €/h (S12, S16)."""
    conversion_day = parameters.legacy_conversion_date.initial
    hour_value = parameters.cpf_hour_value_eur.at(conversion_day)
    if low_qualified:
        full_year_hours = parameters.cpf_transition_hours_low_qualified.for_activity_year(facts.year)
        ceiling = parameters.low_qualified_ceiling_eur.at(conversion_day)
    else:
        full_year_hours = parameters.cpf_transition_hours.for_activity_year(facts.year)
        ceiling = parameters.cpf_ceiling_eur.at(conversion_day)
    share = max(facts.employee_share, facts.self_employed_share, _ONE if facts.esat else _NONE)
    hours = math.ceil(full_year_hours * share)
    return YearEntitlement(eur(hours * hour_value), ceiling)


def _euro_entitlement(
    facts: YearFacts, low_qualified: bool, parameters: RightsParameters, policy: RulesPolicy
) -> YearEntitlement:
    year = facts.year
    # Several situations in one year: the most favourable amount and ceiling apply (décret 2018-1329, S11).
    # (Kept as a running maximum, not a list of options: this runs for every year of work.)
    if low_qualified:
        ceiling = parameters.low_qualified_ceiling_eur.for_activity_year(year)
    else:
        ceiling = parameters.cpf_ceiling_eur.for_activity_year(year)
    amount = ZERO
    if facts.employee_time:
        employee_share = facts.employee_share
        if employee_share.numerator > 0:
            amount = _employee_amount(year, employee_share, low_qualified, parameters, policy)
    if facts.esat:
        # R6323-29: a fixed amount per year of admission, full- or part-time.
        amount = max(amount, parameters.esat_annual_eur.for_activity_year(year))
        ceiling = max(ceiling, parameters.esat_ceiling_eur.for_activity_year(year))
    if facts.self_employed_time:
        self_employed_share = facts.self_employed_share
        if self_employed_share.numerator > 0:
            annual = exact(parameters.self_employed_annual_eur.for_activity_year(year))
            amount = max(amount, ceil_to_cent(annual * self_employed_share))
            ceiling = max(ceiling, parameters.self_employed_ceiling_eur.for_activity_year(year))
    if facts.boeth and amount > ZERO:
        # D6323-3-3: +300 € a year, only if work earned at least a cent; within 800 €/year, 8 000 € (S5, S6).
        limit = parameters.boeth_annual_limit_eur.for_activity_year(year)
        amount = max(amount, min(amount + parameters.boeth_majoration_eur.for_activity_year(year), limit))
        ceiling = max(ceiling, parameters.boeth_ceiling_eur.for_activity_year(year))
    return YearEntitlement(amount, ceiling)


def _employee_amount(
    year: int, share: Fraction, low_qualified: bool, parameters: RightsParameters, policy: RulesPolicy
) -> Decimal:
    normal = parameters.cpf_annual_credit_eur.for_activity_year(year)
    majorated = parameters.low_qualified_annual_eur.for_activity_year(year)
    # In integers, not Fractions (a Fraction made, multiplied and rounded was most of a first year's
    # credit): the same exact comparison as Fraction's and the same rounding as ``ceil_to_cent``.
    numerator, denominator = share.numerator, share.denominator
    half_numerator, half_denominator = parameters.half_time_fraction.for_activity_year(year).as_integer_ratio()
    if numerator * half_denominator >= half_numerator * denominator:
        return majorated if low_qualified else normal  # R6323-1 I, R6323-3-1 I
    # R6323-1 II: below half-time, a fraction of the annual amount in proportion to the time worked
    # (against full time, S15), rounded up to the cent.
    base = majorated if low_qualified and policy.low_qualified_pro_rata_of_majorated else normal
    base_numerator, base_denominator = base.as_integer_ratio()
    cents = -(-base_numerator * numerator * 100 // (base_denominator * denominator))  # ceiling division
    return Decimal(cents).scaleb(-2)
