"""The NIR (numéro d'inscription au répertoire): how partners name a holder.

13 characters — sex, birth year (2 digits), birth month, department (digits, or 2A/2B for Corsica),
commune, order — and a 2-digit key: ``97 − (NIR mod 97)``, with 2A read as 19 and 2B as 18.
The NIR never leaves the rights service's inbound side: projections use a pseudonymous holder_id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import ErrorCode, RightsError
from .holder import YearMonth

_SHAPE = re.compile(r"^[1-478][0-9]{4}(?:[0-9]{2}|2A|2B)[0-9]{6}$")
_FIRST_DIGITS = frozenset("123478")  # (what ``_SHAPE`` allows first)
_BAD_SHAPE = "a NIR is 13 characters: digits, with 2A or 2B as department for Corsica"


@dataclass(frozen=True)
class Nir:
    number: str
    key: str

    def __repr__(self) -> str:  # never print a NIR in clear in logs or tracebacks
        return f"Nir({self.number[:1]}************)"

    @classmethod
    def parse(cls, number: str, key: str) -> Nir:
        # A number already in shape (the usual case) is what strip() and upper() would leave unchanged.
        if not (isinstance(number, str) and _SHAPE.fullmatch(number)):
            number = number.strip().upper() if isinstance(number, str) else ""
            if not _SHAPE.match(number):
                raise RightsError(ErrorCode.INVALID_NIR, _BAD_SHAPE)
        if not (isinstance(key, str) and len(key) == 2 and key.isdigit()):
            raise RightsError(ErrorCode.INVALID_NIR_KEY, "the NIR key is 2 digits")
        return cls.parse_well_formed(number, key)

    @classmethod
    def parse_well_formed(cls, number: str, key: str) -> Nir:
        """``parse`` for a number known to be 13 ASCII characters, digits with 2A or 2B as department
        (``[0-9]{5}(?:[0-9]{2}|2[AB])[0-9]{6}``), and a key of 2 ASCII digits: what the partner contract's
        patterns let through, checked in pydantic-core before a message reaches the domain. The first
        digit and the key are checked here, with the same refusals as ``parse``."""
        if number[:1] not in _FIRST_DIGITS:
            raise RightsError(ErrorCode.INVALID_NIR, _BAD_SHAPE)
        numeric = int(number) if number.isdigit() else int(number.replace("2A", "19").replace("2B", "18"))
        if 97 - numeric % 97 != int(key):
            raise RightsError(ErrorCode.INVALID_NIR_KEY, "the NIR key does not match the number")
        return cls(number, key)

    @property
    def value(self) -> str:
        """The 13-character number without the key (what ``contracts.identity.holder_id`` hashes)."""
        return self.number

    @property
    def birth_month(self) -> int | None:
        """The birth month, or None when the NIR carries an unknown-month code (20–99)."""
        month = int(self.number[3:5])
        return month if 1 <= month <= 12 else None

    def birth(self, reference_year: int) -> YearMonth | None:
        """Year and month of birth, choosing the century so that the holder is not born after
        ``reference_year`` (the NIR has only two digits of year)."""
        month = self.birth_month
        if month is None:
            return None
        two_digits = int(self.number[1:3])
        year = (reference_year // 100) * 100 + two_digits
        if year > reference_year:
            year -= 100
        return YearMonth(year, month)
