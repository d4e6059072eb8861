"""Public-sector CPF, still kept in hours (décret 2017-928 as amended by décret 2019-1392)."""

from __future__ import annotations

from .parameters import HourScale


def hours_credit(balance: int, wanted: int, scale: HourScale) -> int:
    """Hours actually credited for ``wanted`` hours on a ``balance``: the yearly amount up to the tier,
    the reduced amount after it, never past the ceiling ("24 h until 120 h, then 12 h up to 150 h")."""
    if balance >= scale.ceiling or wanted <= 0:
        return 0
    if balance < scale.tier_cap:
        return min(wanted, scale.tier_cap - balance)
    return min(wanted, scale.after_tier, scale.ceiling - balance)
