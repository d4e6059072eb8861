"""From partner contracts (pydantic, ``contracts.partners``) to rights-domain events, and from domain
balances to the ``BalancesProjected`` contract. The domain never sees pydantic or a contract."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from contracts import partners as c
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


def _hours_list(values: list[Decimal] | None) -> tuple[Decimal, ...] | None:
    return None if values is None else tuple(values)


def to_domain_event(event: c.PartnerEvent, event_id: str) -> RightsEvent:
    """The domain event for a validated partner body; raises ``RightsError`` if the domain refuses it."""
    if isinstance(event, c.WorkYear):
        return WorkYear(
            event_id=event_id,
            year=event.year,
            status=WorkStatus(event.status),
            hours=event.hours,
            reference_hours=event.reference_hours,
            days=event.days,
            reference_days=event.reference_days,
            days_active=event.days_active,
            cfp_contribution_paid=event.cfp_contribution_paid,
            apprenticeship=event.apprenticeship,
        )
    if isinstance(event, c.LegacyCpfHours):
        return LegacyCpfHours(event_id=event_id, hours=event.hours)
    if isinstance(event, c.LowQualificationDeclared):
        return LowQualificationDeclared(event_id=event_id, on=event.date)
    if isinstance(event, c.LowQualificationEnded):
        return LowQualificationEnded(event_id=event_id, on=event.date)
    if isinstance(event, c.Retirement):
        return Retired(event_id=event_id, on=event.date)
    if isinstance(event, c.DisabilityStatus):
        return DisabilityStatus(event_id=event_id, year=event.year)
    if isinstance(event, c.DifRegistered):
        return DifRegistered(event_id=event_id, hours=event.hours, on=event.date)
    if isinstance(event, c.CecActivity):
        return CecActivity(
            event_id=event_id,
            year=event.year,
            category=CecCategory(event.category),
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
    if isinstance(event, c.C2pExposure):
        return C2pExposure(event_id=event_id, year=event.year, quarters=event.quarters, factors=event.factors)
    if isinstance(event, c.C2pPointsUsed):
        return C2pPointsUsed(event_id=event_id, points=event.points, use=PointsUse(event.use), on=event.date)
    if isinstance(event, c.Abondement):
        return Abondement(event_id=event_id, amount_eur=event.amount_eur, payer=event.payer, on=event.date)
    if isinstance(event, c.TrainingBooked):
        return TrainingBooked(
            event_id=event_id,
            booking_id=event.booking_id,
            price_eur=event.price_eur,
            on=event.date,
            participation_exempt=event.participation_exempt,
        )
    if isinstance(event, c.TrainingStarted):
        return TrainingStarted(event_id=event_id, booking_id=event.booking_id, on=event.date)
    if isinstance(event, c.TrainingRefunded):
        return TrainingRefunded(
            event_id=event_id, booking_id=event.booking_id, amount_eur=event.amount_eur, on=event.date
        )
    return TrainingCancelled(event_id=event_id, booking_id=event.booking_id, on=event.date)


def declaration_to_domain(declaration: c.PartnerDeclaration) -> tuple[Nir, RightsEvent]:
    """The holder (NIR, key checked) and the domain event of one topic message."""
    nir = Nir.parse(declaration.nir, declaration.nir_key)
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
