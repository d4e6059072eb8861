"""CEC (compte d'engagement citoyen): does an activity meet its minimum, and what does it earn."""

from __future__ import annotations

from decimal import Decimal

from .errors import ErrorCode, RightsError
from .events import CecActivity
from .money import eur
from .parameters import CecMinimum, RightsParameters


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
