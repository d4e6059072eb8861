"""Accounts and history lines: dated amounts whose sum is a balance, each saying what it records (the lines
of the "Voir mes droits" pages; their French words are the presentation's)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum


class Account(StrEnum):
    """The holder's separate counters (research note §7, design notes)."""

    CPF_RIGHTS = "cpf_rights"  # euros earned from work, converted legacy hours included
    DIF = "dif"  # registered DIF, in euros
    ABONDEMENTS = "abondements"  # top-ups, outside the ceiling
    CEC = "cec"  # compte d'engagement citoyen, euros
    C2P = "c2p"  # compte professionnel de prévention, points
    PUBLIC_CPF = "public_cpf"  # public-sector CPF, hours


class Unit(StrEnum):
    EUR = "EUR"
    POINTS = "points"
    HOURS = "hours"


UNIT_OF: dict[Account, Unit] = {
    Account.CPF_RIGHTS: Unit.EUR,
    Account.DIF: Unit.EUR,
    Account.ABONDEMENTS: Unit.EUR,
    Account.CEC: Unit.EUR,
    Account.C2P: Unit.POINTS,
    Account.PUBLIC_CPF: Unit.HOURS,
}


class LineKind(StrEnum):
    """What a history line records. The line's ``details`` are plain values, in the order given here;
    the words shown to the holder are the presentation's (``services/rights/app/labels.py``)."""

    NOT_CREDITED = "not_credited"  # year, why (NotCredited), retired on (date | None)
    WORK_YEAR = "work_year"  # year, low-qualified (bool), CreditOutcome, ceiling, reserved shown (Decimal | None)
    BOETH = "boeth"  # year, CreditOutcome, ceiling, reserved shown (Decimal | None)
    PUBLIC_HOURS = "public_hours"  # year, ceiling in hours if the credit was cut (int | None)
    LEGACY_CONVERSION = "legacy_conversion"  # hours, € per hour, ceiling if the credit was cut (Decimal | None)
    RETIRED = "retired"  # nothing
    DIF_REGISTERED = "dif_registered"  # hours, € per hour, ceiling if the credit was cut (Decimal | None)
    CEC_ACTIVITY = "cec_activity"  # year, category, CecOutcome, article (minimum not met) or ceiling (cut)
    C2P_EXPOSURE = "c2p_exposure"  # year, quarters, factors
    C2P_USED_FOR_TRAINING = "c2p_used_for_training"  # € per point
    C2P_TOP_UP = "c2p_top_up"  # points, € per point
    C2P_RETIREMENT = "c2p_retirement"  # retirement quarters bought
    C2P_PART_TIME = "c2p_part_time"  # blocks used
    ABONDEMENT = "abondement"  # payer (as the partner sent it)
    TRAINING_BOOKED = "training_booked"  # booking id, price, participation, left to the holder, no rights used
    TRAINING_STARTED = "training_started"  # booking id, rights spent
    TRAINING_REFUNDED = "training_refunded"  # booking id
    TRAINING_CANCELLED = "training_cancelled"  # booking id


class NotCredited(StrEnum):
    """Why a year of work credits nothing (L5151-2, L6323-27)."""

    RETIRED = "retired"
    UNDER_16_WITHOUT_APPRENTICESHIP = "under_16_without_apprenticeship"
    CFP_CONTRIBUTION_UNPAID = "cfp_contribution_unpaid"


class CreditOutcome(StrEnum):
    """How a year's credit went against the ceiling."""

    CREDITED = "credited"
    CUT_AT_CEILING = "cut_at_ceiling"
    NOTHING_MORE = "nothing_more"  # the year had already received its entitlement


class CecOutcome(StrEnum):
    CREDITED = "credited"
    ALREADY_ACQUIRED = "already_acquired"  # the category was already credited for that year
    MINIMUM_NOT_MET = "minimum_not_met"
    CUT_AT_CEILING = "cut_at_ceiling"


Detail = str | int | bool | Decimal | date | None


@dataclass(frozen=True, slots=True)
class HistoryLine:
    """One line of a balance's history: when, what (a kind and its details), how much (signed), from
    which event."""

    account: Account
    on: date
    kind: LineKind
    details: tuple[Detail, ...]
    amount: Decimal
    unit: Unit
    event_id: str
