"""Accounts and history lines: dated, labelled amounts whose sum is a balance; the lines of the "Voir mes
droits" pages."""

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


@dataclass(frozen=True, slots=True)
class HistoryLine:
    """One line of a balance's history: when, what (in French), how much (signed), from which event."""

    account: Account
    on: date
    label: str
    amount: Decimal
    unit: Unit
    event_id: str
