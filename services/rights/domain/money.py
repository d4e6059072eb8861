"""Money in the domain: ``Decimal`` euros with two places, and the law's rounding."""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from fractions import Fraction

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def eur(value: Decimal | int | str) -> Decimal:
    """An exact euro amount with two places (never rounds: more decimals are a caller's bug)."""
    amount = Decimal(value)
    quantized = amount.quantize(CENT)
    if quantized != amount:
        raise ValueError(f"{value} has more than two decimals")
    return quantized


def ceil_to_cent(value: Fraction | Decimal) -> Decimal:
    """Round up to the next euro cent: R6323-1 II ("arrondi au centime d'euro supérieur")."""
    if isinstance(value, Decimal):
        return value.quantize(CENT, rounding=ROUND_CEILING)
    cents = -(-value.numerator * 100 // value.denominator)  # ceiling, in integers (no Fraction arithmetic)
    return Decimal(cents).scaleb(-2)


def has_at_most_two_decimals(value: Decimal) -> bool:
    return value.is_finite() and value == value.quantize(CENT)


def fr_eur(amount: Decimal) -> str:
    """French display of an amount (refusal reasons here, history labels in ``app/labels.py``): ``1 350,00 €``."""
    quantized = amount.quantize(CENT)
    sign = "-" if quantized < 0 else ""
    units, cents = f"{abs(quantized):.2f}".split(".")
    groups: list[str] = []
    while units:
        groups.insert(0, units[-3:])
        units = units[:-3]
    return f"{sign}{' '.join(groups)},{cents} €"
