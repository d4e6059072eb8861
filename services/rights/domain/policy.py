"""Settings for the points the sources leave open (research note §9), with the issue's defaults.

These are choices, not law: each one is documented in ``docs/rights.md`` with the alternative. A
service or a test builds another :class:`RulesPolicy` with :func:`dataclasses.replace`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Fund(StrEnum):
    """The sub-balances a booking can draw on."""

    ABONDEMENTS = "abondements"
    CPF_RIGHTS = "cpf_rights"
    DIF = "dif"
    CEC = "cec"


class CecCeilingBasis(StrEnum):
    BALANCE = "balance"  # the 720 € cap limits what the holder has now (refills after a use)
    LIFETIME = "lifetime"  # the cap limits everything ever acquired


class C2pYearRule(StrEnum):
    START_OF_YEAR = "start_of_year"  # a year straddling a change uses the rule in force on 1 January
    END_OF_YEAR = "end_of_year"  # ... or the rule in force on 31 December


class Shortfall(StrEnum):
    HOLDER_PAYS = "holder_pays"  # the funds cover what they can; the holder pays the rest
    REFUSE = "refuse"  # a booking the funds cannot cover is refused


@dataclass(frozen=True)
class RulesPolicy:
    # §9.1–2: legacy hours and DIF are credits towards the ceiling, reduced like any other credit.
    cap_conversions_at_ceiling: bool = True
    # Funds reserved by a booking stay counted in the ceiling until the booking is cancelled, so that a
    # cancellation can restore them exactly without ever taking the balance over its ceiling.
    reserved_counts_in_ceiling: bool = True
    # §9.3: below half-time a low-qualified worker gets a fraction of 500 € (False) or of 800 € (True).
    low_qualified_pro_rata_of_majorated: bool = False
    # §9.7: order in which a booking uses the funds; only "CEC last" is sourced (D5151-11).
    debit_order: tuple[Fund, ...] = (Fund.ABONDEMENTS, Fund.CPF_RIGHTS, Fund.DIF, Fund.CEC)
    # §9.10
    cec_ceiling_basis: CecCeilingBasis = CecCeilingBasis.BALANCE
    # §9.12: how a year straddling the 1 Sep 2023 C2P reform is counted.
    c2p_year_rule: C2pYearRule = C2pYearRule.START_OF_YEAR
    # A booking larger than the funds: moncompteformation lets the holder pay the difference.
    booking_shortfall: Shortfall = Shortfall.HOLDER_PAYS


DEFAULT_POLICY = RulesPolicy()
