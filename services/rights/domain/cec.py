"""CEC (compte d'engagement citoyen): does an activity meet its minimum, what does it earn, and the
rule that credits it within the ceiling."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from .errors import ErrorCode, RightsError
from .events import CecActivity
from .ledger import Account, CecOutcome, Detail, LineKind
from .money import ZERO, eur
from .parameters import CecCategory, CecMinimum, RightsParameters
from .policy import CecCeilingBasis, Fund

if TYPE_CHECKING:
    from .projection import Projection


def minimum_met(activity: CecActivity, minimum: CecMinimum, earlier: tuple[Decimal, ...] = ()) -> bool:
    """D5151-14 I: the category's minimum over the year (or the commitment signed that year).
    ``earlier``: hours by organisation already declared for the same year and category."""
    value = getattr(activity, minimum.measure)
    if value is None:
        raise RightsError(
            ErrorCode.MISSING_MEASURE,
            f"a {activity.category.value} activity needs '{minimum.measure}' ({minimum.article})",
            event_id=activity.event_id,
        )
    if isinstance(value, bool):
        return value
    if isinstance(value, tuple):
        value = (*earlier, *value)
        # Total over the organisations, with a part of it in one organisation (associations, hosts).
        in_one = minimum.minimum_in_one if minimum.minimum_in_one is not None else Decimal(0)
        return sum(value, Decimal(0)) >= minimum.minimum and any(hours >= in_one for hours in value)
    return bool(Decimal(value) >= minimum.minimum)


def credit_and_ceiling(year: int, parameters: RightsParameters) -> tuple[Decimal, Decimal]:
    """What one qualifying category earns in ``year`` and the CEC ceiling, in euros.

    2017–2018 activity earned 20 h per category within 60 h, converted at 12 €/h on 2019-01-01
    (décret 2018-1349, S28): the same 240 € and 720 € as the euro regime from 2019.
    """
    if year < parameters.cec_euro_first_activity_year.initial:
        hour_value = parameters.cec_hour_value_eur.for_activity_year(year)
        hours = parameters.cec_hours_per_activity.for_activity_year(year)
        ceiling_hours = parameters.cec_hours_ceiling.for_activity_year(year)
        return eur(hours * hour_value), eur(ceiling_hours * hour_value)
    return parameters.cec_credit_eur.for_activity_year(year), parameters.cec_ceiling_eur.for_activity_year(year)


# Members read once here: reading an enum member off its class (or its ``value``) costs about five
# plain attribute reads in CPython 3.11, and a CEC activity read a dozen.
_ALREADY, _NOT_MET = CecOutcome.ALREADY_ACQUIRED, CecOutcome.MINIMUM_NOT_MET
_CUT, _CREDITED = CecOutcome.CUT_AT_CEILING, CecOutcome.CREDITED
_CEC, _CEC_LINE, _CEC_FUND, _LIFETIME = Account.CEC, LineKind.CEC_ACTIVITY, Fund.CEC, CecCeilingBasis.LIFETIME
_VALUE: dict[StrEnum, str] = {member: member.value for kind in (CecOutcome, CecCategory) for member in kind}


def apply_activity(state: Projection, event: CecActivity, on: date) -> None:
    p = state.parameters
    state.check_activity_year(event.year, p.cec_first_activity_year.initial, "cec_activity")
    minimum = p.cec_minima.for_activity_year(event.year).get(event.category)
    if minimum is None:
        raise RightsError(ErrorCode.UNKNOWN_CEC_CATEGORY, f"no CEC minimum for {event.category.value} in {event.year}")
    # Hours in several associations (or hosts) add up over the year, whichever declaration brings
    # them, like work hours across employers (D5151-14 7°: 200 h "in one or more" associations).
    category = _VALUE[event.category]
    # One key for the year's category, by its value: a tuple of plain values that the collector stops
    # following (an enum member kept it tracked for the holder's lifetime), built once, not four times.
    year_category = (event.year, category)
    so_far = state.cec_measures.get(year_category, ())
    met = minimum_met(event, minimum, so_far)
    measure = getattr(event, minimum.measure)
    if isinstance(measure, tuple):
        state.cec_measures[year_category] = (*so_far, *measure)
    credit = ZERO
    note: Detail = None
    if year_category in state.cec_awarded:
        outcome = _ALREADY
    elif not met:
        outcome, note = _NOT_MET, minimum.article
    else:
        amount, ceiling = credit_and_ceiling(event.year, p)
        credit = min(amount, max(ZERO, ceiling - _counted(state)))
        outcome = _CUT if credit < amount else _CREDITED
        note = ceiling if credit < amount else None
        state.cec_awarded.add(year_category)
        state.cec_acquired += credit
    details = (event.year, category, _VALUE[outcome], note)
    state.post(_CEC, on, _CEC_LINE, details, credit, event.event_id)


def _counted(state: Projection) -> Decimal:
    """What the CEC ceiling is compared with (policy: the balance, or everything ever acquired)."""
    if state.policy.cec_ceiling_basis is _LIFETIME:
        return state.cec_acquired
    counted = state.balance(_CEC)
    if state.policy.reserved_counts_in_ceiling:
        counted += state.reserved_from(_CEC_FUND)
    return counted
