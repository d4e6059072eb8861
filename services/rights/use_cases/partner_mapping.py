"""From partner contracts (pydantic, ``contracts.partners``) to rights-domain events, and from domain
balances to the ``BalancesProjected`` contract. The domain never sees pydantic or a contract."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from contracts import partners as c
from contracts.base import EventData
from contracts.rights import (
    BalancesProjected,
    C2pBalance,
    CecBalance,
    CpfBalances,
    LegacyHoursConverted,
)
from services.rights.domain import (
    Abondement,
    Balances,
    C2pExposure,
    C2pPointsUsed,
    CecActivity,
    CecCategory,
    DifRegistered,
    DisabilityStatus,
    LegacyCpfHours,
    LowQualificationDeclared,
    LowQualificationEnded,
    Nir,
    PointsUse,
    Retired,
    RightsEvent,
    TrainingBooked,
    TrainingCancelled,
    TrainingRefunded,
    TrainingStarted,
    WorkStatus,
    WorkYear,
)
from services.rights.domain.events import built

# Enum members by value, looked up in a dict (calling the enum class costs more, for every message).
_WORK_STATUS = {status.value: status for status in WorkStatus}
_CEC_CATEGORY = {category.value: category for category in CecCategory}


def _hours_list(values: list[Decimal] | None) -> tuple[Decimal, ...] | None:
    return None if values is None else tuple(values)


def _work_year(event: c.WorkYear, event_id: str) -> WorkYear:
    return built(
        WorkYear,
        event_id=event_id,
        year=event.year,
        status=_WORK_STATUS[event.status],
        hours=event.hours,
        reference_hours=event.reference_hours,
        days=event.days,
        reference_days=event.reference_days,
        days_active=event.days_active,
        cfp_contribution_paid=event.cfp_contribution_paid,
        apprenticeship=event.apprenticeship,
    )


def _cec_activity(event: c.CecActivity, event_id: str) -> CecActivity:
    return built(
        CecActivity,
        event_id=event_id,
        year=event.year,
        category=_CEC_CATEGORY[event.category],
        months=event.months,
        days=event.days,
        hours=event.hours,
        shifts=event.shifts,
        interventions=event.interventions,
        hours_by_association=_hours_list(event.hours_by_association),
        hours_by_host=_hours_list(event.hours_by_host),
        commitment_signed=event.commitment_signed,
        agreement_minimum_met=event.agreement_minimum_met,
    )


def _training_booked(event: c.TrainingBooked, event_id: str) -> TrainingBooked:
    return built(
        TrainingBooked,
        event_id=event_id,
        booking_id=event.booking_id,
        price_eur=event.price_eur,
        on=event.date,
        participation_exempt=event.participation_exempt,
    )


# Each partner model (contracts.partners.PartnerEvent) and how it becomes its domain event (one of
# domain.declarations.DECLARATIONS); test_contracts_and_mapping keeps the three covering the same kinds.
TO_DOMAIN: Mapping[type[EventData], Callable[[Any, str], RightsEvent]] = {
    c.WorkYear: _work_year,
    c.LegacyCpfHours: lambda e, i: built(LegacyCpfHours, event_id=i, hours=e.hours),
    c.LowQualificationDeclared: lambda e, i: built(LowQualificationDeclared, event_id=i, on=e.date),
    c.LowQualificationEnded: lambda e, i: built(LowQualificationEnded, event_id=i, on=e.date),
    c.Retirement: lambda e, i: built(Retired, event_id=i, on=e.date),
    c.DisabilityStatus: lambda e, i: built(DisabilityStatus, event_id=i, year=e.year),
    c.DifRegistered: lambda e, i: built(DifRegistered, event_id=i, hours=e.hours, on=e.date),
    c.CecActivity: _cec_activity,
    c.C2pExposure: lambda e, i: built(C2pExposure, event_id=i, year=e.year, quarters=e.quarters, factors=e.factors),
    c.C2pPointsUsed: lambda e, i: built(C2pPointsUsed, event_id=i, points=e.points, use=PointsUse(e.use), on=e.date),
    c.Abondement: lambda e, i: built(Abondement, event_id=i, amount_eur=e.amount_eur, payer=e.payer, on=e.date),
    c.TrainingBooked: _training_booked,
    c.TrainingStarted: lambda e, i: built(TrainingStarted, event_id=i, booking_id=e.booking_id, on=e.date),
    c.TrainingRefunded: lambda e, i: built(
        TrainingRefunded, event_id=i, booking_id=e.booking_id, amount_eur=e.amount_eur, on=e.date
    ),
    c.TrainingCancelled: lambda e, i: built(TrainingCancelled, event_id=i, booking_id=e.booking_id, on=e.date),
}


def to_domain_event(event: c.PartnerEvent, event_id: str) -> RightsEvent:
    """The domain event for a validated partner body; raises ``RightsError`` if the domain refuses it."""
    return TO_DOMAIN[type(event)](event, event_id)


def declaration_to_domain(declaration: c.PartnerDeclaration) -> tuple[Nir, RightsEvent]:
    """The holder (NIR, key checked) and the domain event of one topic message."""
    nir = Nir.parse_well_formed(declaration.nir, declaration.nir_key)  # (the contract matched its shape)
    return nir, to_domain_event(declaration.declaration, declaration.event_id)


def message_to_domain(body: Mapping[str, Any]) -> tuple[Nir, RightsEvent]:
    """Parse a flat topic message body; ``InvalidPartnerEvent`` or ``RightsError`` if it is refused."""
    return declaration_to_domain(c.PartnerDeclaration.from_message(body))


def balances_to_contract(holder_id: str, balances: Balances, as_of: date) -> BalancesProjected:
    return BalancesProjected(
        holder_id=holder_id,
        as_of=as_of,
        cpf=CpfBalances(
            rights_eur=balances.cpf.rights_eur,
            dif_eur=balances.cpf.dif_eur,
            abondements_eur=balances.cpf.abondements_eur,
            reserved_eur=balances.cpf.reserved_eur,
            usable_eur=balances.cpf.usable_eur,
            ceiling_eur=balances.cpf.ceiling_eur,
        ),
        cec=CecBalance(eur=balances.cec.eur),
        c2p=C2pBalance(points=balances.c2p.points, reserved_for_training=balances.c2p.reserved_for_training),
        public_hours=balances.public_hours,
        legacy_hours_converted=LegacyHoursConverted(hours=balances.legacy_hours, eur=balances.legacy_eur),
        dif_hours=balances.dif_hours,
    )
