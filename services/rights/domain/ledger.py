"""Ledgers: dated, labelled entries whose sum is a balance; the lines of the "Voir mes droits" pages."""

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


@dataclass(frozen=True)
class HistoryLine:
    """One line of a balance's history: when, what (in French), how much (signed), from which event."""

    account: Account
    on: date
    label: str
    amount: Decimal
    unit: Unit
    event_id: str


class Ledger:
    """An append-only list of entries for one account. Only the projection writes to it."""

    def __init__(self, account: Account) -> None:
        self.account = account
        self.unit = UNIT_OF[account]
        self._lines: list[HistoryLine] = []
        self._balance = Decimal(0)

    @property
    def balance(self) -> Decimal:
        return self._balance

    @property
    def lines(self) -> tuple[HistoryLine, ...]:
        return tuple(self._lines)

    def __len__(self) -> int:
        return len(self._lines)

    def prefix(self, length: int, balance: Decimal) -> Ledger:
        """A new ledger with the first ``length`` lines of this one (whose sum is ``balance``)."""
        ledger = Ledger(self.account)
        ledger._lines = self._lines[:length]
        ledger._balance = balance
        return ledger

    def post(self, on: date, label: str, amount: Decimal, event_id: str) -> HistoryLine:
        line = HistoryLine(self.account, on, label, amount, self.unit, event_id)
        self._lines.append(line)
        self._balance += amount
        return line
