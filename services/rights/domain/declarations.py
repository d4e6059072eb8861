"""The one table of what partners can declare, as domain events: for each kind of event, the rule that
applies it and — by its place in the table — its rank among events taking effect on the same day.

Everything else about the kinds is derived from here (:data:`SAME_DAY_RANK`, :data:`RULE_OF`,
:func:`replay_key`); the contract side pairs each partner model with its domain event in
``adapters/partner_mapping.py``, and a test keeps the two tables, the ``RightsEvent`` union and the
contract's ``PartnerEvent`` union covering the same kinds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from . import bookings, cec, crediting, prevention
from .events import (
    Abondement,
    C2pExposure,
    C2pPointsUsed,
    CecActivity,
    DifRegistered,
    DisabilityStatus,
    LegacyCpfHours,
    LowQualificationDeclared,
    LowQualificationEnded,
    Retired,
    RightsEvent,
    TrainingBooked,
    TrainingCancelled,
    TrainingRefunded,
    TrainingStarted,
    WorkYear,
)
from .parameters import RightsParameters
from .projection import Projection

Rule = Callable[[Projection, Any, date], None]


@dataclass(frozen=True)
class Declaration:
    event: type
    rule: Rule


# In same-day order: statuses and conversions before credits, credits before uses, a booking before its
# entry, refund or cancellation; then event_id. The order never depends on the order the events arrived
# in, so a shuffled input replays to the same balances.
DECLARATIONS: tuple[Declaration, ...] = (
    Declaration(LowQualificationDeclared, crediting.apply_low_qualification_declared),
    Declaration(LowQualificationEnded, crediting.apply_low_qualification_ended),
    Declaration(Retired, crediting.apply_retired),
    Declaration(LegacyCpfHours, crediting.apply_legacy_hours),
    Declaration(DifRegistered, crediting.apply_dif_registered),
    Declaration(WorkYear, crediting.apply_work_year),
    Declaration(DisabilityStatus, crediting.apply_disability_status),
    Declaration(CecActivity, cec.apply_activity),
    Declaration(C2pExposure, prevention.apply_exposure),
    Declaration(Abondement, crediting.apply_abondement),
    Declaration(C2pPointsUsed, prevention.apply_points_used),
    Declaration(TrainingBooked, bookings.apply_booked),
    Declaration(TrainingStarted, bookings.apply_started),
    Declaration(TrainingRefunded, bookings.apply_refunded),
    Declaration(TrainingCancelled, bookings.apply_cancelled),
)

SAME_DAY_RANK: dict[type, int] = {declaration.event: rank for rank, declaration in enumerate(DECLARATIONS)}
RULE_OF: dict[type, Rule] = {declaration.event: declaration.rule for declaration in DECLARATIONS}


def replay_key(event: RightsEvent, parameters: RightsParameters) -> tuple[date, int, str]:
    """The total order events are applied in: (effective date, same-day rank, event_id)."""
    return (event.effective_on(parameters), SAME_DAY_RANK[type(event)], event.event_id)


def apply(projection: Projection, event: RightsEvent, on: date) -> None:
    """Apply one event at its effective date ``on``. A refused event raises; what a rule changed before
    refusing is undone by the caller (:class:`.holder_rights._Timeline` rewinds to its mark)."""
    RULE_OF[type(event)](projection, event, on)
