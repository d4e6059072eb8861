"""C2P (compte professionnel de prévention), every rule in one place: points earned per exposure year
(L4163-1, S31–S32), points reserved for training (R4163-13), and their uses (R4163-12)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from .errors import ErrorCode, RightsError
from .events import C2pExposure, C2pPointsUsed, PointsUse
from .ledger import Account, LineKind
from .money import eur
from .parameters import C2pRule, C2pScale, Parameter, RightsParameters
from .policy import C2pYearRule, RulesPolicy

if TYPE_CHECKING:
    from .projection import Projection


# Per exposure year, computed once and shared by every holder: both are pure functions of the year and
# of the parameter. Keyed by the parameter's identity, and each entry keeps the parameter alive, so an
# identity is never reused for another one while its entries exist (a parameter replaced in a test gets
# its own). At most one entry per parameter, year asked for and rule.
_SCALES: dict[tuple[int, int, C2pYearRule], tuple[Parameter[C2pScale], C2pScale]] = {}
_FACTORS: dict[tuple[int, int], tuple[Parameter[int], int]] = {}


def scale_for_year(year: int, parameters: RightsParameters, policy: RulesPolicy) -> C2pScale:
    """The acquisition rule for an exposure year; a year straddling 1 Sep 2023 follows the policy."""
    rule, known = parameters.c2p_scale, policy.c2p_year_rule
    found = _SCALES.get((id(rule), year, known))
    if found is None:
        day = date(year, 1, 1) if known is C2pYearRule.START_OF_YEAR else date(year, 12, 31)
        found = _SCALES[(id(rule), year, known)] = (rule, rule.at(day))
    return found[1]


def factors_existing_in(year: int, parameters: RightsParameters) -> int:
    """The most factors that existed at any time in ``year`` (4, then 10 from Jul 2016, 6 from Oct 2017)."""
    count = parameters.c2p_factor_count
    found = _FACTORS.get((id(count), year))
    if found is None:
        in_force = [count.at(max(date(year, 1, 1), count.first_effect))]
        in_force += [value for start, value in count.steps if start.year == year]
        found = _FACTORS[(id(count), year)] = (count, max(in_force))
    return found[1]


def points_for(exposure: C2pExposure, scale: C2pScale) -> int:
    if scale.rule is C2pRule.ONE_OR_TWO_PER_QUARTER:
        # Until 31 Aug 2023: 1 point a quarter for one factor, 2 for several (S31).
        return exposure.quarters * (1 if exposure.factors == 1 else 2)
    # From 1 Sep 2023: 1 point per factor per quarter, no yearly limit (S32).
    return exposure.quarters * exposure.factors


def reserved_quota(birth: date, parameters: RightsParameters) -> int:
    """R4163-13: the first 20 points are reserved for training; 10 if born 1960–1962; none before 1960."""
    return parameters.c2p_reserved_points_by_birth.at(birth)


def reserved_for_training(state: Projection) -> int:
    """The points on the account that only training may use (the first ones acquired, R4163-13)."""
    quota = reserved_quota(state.holder.birth.first_day, state.parameters)
    reserved = max(0, min(state.c2p_acquired, quota) - state.c2p_used_training)
    return min(reserved, int(state.balance(Account.C2P)))


def apply_exposure(state: Projection, event: C2pExposure, on: date) -> None:
    p = state.parameters
    state.check_activity_year(event.year, p.c2p_first_year.initial, "c2p_exposure")
    existing = factors_existing_in(event.year, p)
    if event.factors > existing:
        raise RightsError(ErrorCode.INVALID_FACTORS, f"only {existing} exposure factors existed in {event.year}")
    scale = scale_for_year(event.year, p, state.policy)
    points = points_for(event, scale)
    if scale.yearly_cap is not None:
        # Old rule: at most 8 points a year, whatever the number of employers (S31).
        points = min(points, max(0, scale.yearly_cap - state.c2p_year_points.get(event.year, 0)))
    if scale.career_cap is not None:
        points = min(points, max(0, scale.career_cap - state.c2p_acquired_under_cap))
        state.c2p_acquired_under_cap += points
    state.c2p_year_points[event.year] = state.c2p_year_points.get(event.year, 0) + points
    state.c2p_acquired += points
    details = (event.year, event.quarters, event.factors)
    state.post(Account.C2P, on, LineKind.C2P_EXPOSURE, details, Decimal(points), event.event_id)


def apply_points_used(state: Projection, event: C2pPointsUsed, on: date) -> None:
    p = state.parameters
    available = int(state.balance(Account.C2P))
    if event.points > available:
        raise RightsError(ErrorCode.INSUFFICIENT_POINTS, f"{event.points} points asked, {available} on the account")
    if event.use is PointsUse.TRAINING:
        # Points become a CPF top-up, outside the ceiling (L6323-15); one by one (R4163-12).
        value = p.c2p_point_training_value_eur.at(on)
        amount = eur(event.points * value)
        state.c2p_used_training += event.points
        state.post(Account.C2P, on, LineKind.C2P_USED_FOR_TRAINING, (value,), Decimal(-event.points), event.event_id)
        state.post(Account.ABONDEMENTS, on, LineKind.C2P_TOP_UP, (event.points, value), amount, event.event_id)
        return
    block = p.c2p_points_per_block.at(on)
    if event.points % block:
        raise RightsError(
            ErrorCode.POINTS_NOT_IN_BLOCKS,
            f"{event.use.value} uses points by blocks of {block} (R4163-12)",
        )
    free = available - reserved_for_training(state)
    if event.points > free:
        raise RightsError(
            ErrorCode.POINTS_RESERVED_FOR_TRAINING,
            f"only {free} points are free: the first points are reserved for training (R4163-13)",
        )
    if event.use is PointsUse.RETIREMENT:
        most = p.c2p_retirement_max_quarters.at(on) * block
        if state.c2p_used_retirement + event.points > most:
            raise RightsError(
                ErrorCode.RETIREMENT_QUARTERS_EXCEEDED,
                f"points buy at most {most // block} retirement quarters",
            )
        state.c2p_used_retirement += event.points
        kind = LineKind.C2P_RETIREMENT
    else:
        kind = LineKind.C2P_PART_TIME
    state.post(Account.C2P, on, kind, (event.points // block,), Decimal(-event.points), event.event_id)
