"""C2P (compte professionnel de prévention): points earned per exposure year, and points reserved."""

from __future__ import annotations

from datetime import date

from .events import C2pExposure
from .parameters import C2pRule, C2pScale, RightsParameters
from .policy import C2pYearRule, RulesPolicy


def scale_for_year(year: int, parameters: RightsParameters, policy: RulesPolicy) -> C2pScale:
    """The acquisition rule for an exposure year; a year straddling 1 Sep 2023 follows the policy."""
    day = date(year, 1, 1) if policy.c2p_year_rule is C2pYearRule.START_OF_YEAR else date(year, 12, 31)
    return parameters.c2p_scale.at(day)


def factors_existing_in(year: int, parameters: RightsParameters) -> int:
    """The most factors that existed at any time in ``year`` (4, then 10 from Jul 2016, 6 from Oct 2017)."""
    in_force = [parameters.c2p_factor_count.at(max(date(year, 1, 1), parameters.c2p_factor_count.first_effect))]
    in_force += [value for start, value in parameters.c2p_factor_count.steps if start.year == year]
    return max(in_force)


def points_for(exposure: C2pExposure, scale: C2pScale) -> int:
    if scale.rule is C2pRule.ONE_OR_TWO_PER_QUARTER:
        # Until 31 Aug 2023: 1 point a quarter for one factor, 2 for several (S31).
        return exposure.quarters * (1 if exposure.factors == 1 else 2)
    # From 1 Sep 2023: 1 point per factor per quarter, no yearly limit (S32).
    return exposure.quarters * exposure.factors


def reserved_quota(birth: date, parameters: RightsParameters) -> int:
    """R4163-13: the first 20 points are reserved for training; 10 if born 1960–1962; none before 1960."""
    return parameters.c2p_reserved_points_by_birth.at(birth)
