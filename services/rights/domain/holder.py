"""The holder and what the engine tells about them: birth month, balances, status periods.

Plain values only; the state a replay builds is :class:`.projection.Projection`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .errors import ErrorCode, RightsError


@dataclass(frozen=True)
class YearMonth:
    """A birth year and month: all the NIR tells about the birth date."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not (1900 <= self.year <= 9998 and 1 <= self.month <= 12):
            raise RightsError(ErrorCode.INVALID_BIRTH, f"{self.year:04d}-{self.month:02d} is not a birth month")

    @classmethod
    def parse(cls, text: str) -> YearMonth:
        parts = text.split("-") if isinstance(text, str) else []
        if len(parts) != 2 or not all(part.isdigit() for part in parts) or len(parts[0]) != 4:
            raise RightsError(ErrorCode.INVALID_BIRTH, f"birth must be YYYY-MM, got {text!r}")
        return cls(int(parts[0]), int(parts[1]))

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)


@dataclass(frozen=True)
class Holder:
    birth: YearMonth


@dataclass(frozen=True)
class CpfBalances:
    rights_eur: Decimal
    dif_eur: Decimal
    abondements_eur: Decimal
    reserved_eur: Decimal
    usable_eur: Decimal
    ceiling_eur: Decimal


@dataclass(frozen=True)
class CecBalances:
    eur: Decimal


@dataclass(frozen=True)
class PreventionBalances:
    points: int
    reserved_for_training: int


@dataclass(frozen=True)
class Balances:
    as_of: date | None  # the requested date, else the effective date of the last event applied
    cpf: CpfBalances
    cec: CecBalances
    c2p: PreventionBalances
    public_hours: int
    legacy_hours: int  # CPF hours held on 2018-12-31 …
    legacy_eur: Decimal  # … and the euros they became (shown converted)
    dif_hours: int


@dataclass(frozen=True)
class LowQualificationPeriod:
    """A low-qualification status, from its declaration to its end (if declared)."""

    declared_on: date
    ended_on: date | None = None

    def covers_year(self, year: int) -> bool:
        # R6323-3-1: from the credit for the year of the declaration; after losing the status, not
        # from the following calendar year.
        return self.declared_on.year <= year and (self.ended_on is None or year <= self.ended_on.year)

    def covers_day(self, day: date) -> bool:
        return self.declared_on <= day and (self.ended_on is None or day.year <= self.ended_on.year)
