"""Events produced by the rights service (topic ``rights.balances-projected.v1``).

Personal data: none beyond the pseudonymous ``holder_id`` (keyed hash of the NIR) and the balances.
Amounts are euros as decimal strings with two decimals (``"2500.00"``); points and hours are integers.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from contracts.base import EventData
from contracts.partners import EuroAmount


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class CpfBalances(_Part):
    rights_eur: EuroAmount = Field(description="CPF rights from work, converted pre-2019 hours included")
    dif_eur: EuroAmount = Field(description="registered DIF hours, in euros (15 €/h)")
    abondements_eur: EuroAmount = Field(description="top-ups, outside the ceiling")
    reserved_eur: EuroAmount = Field(description="taken by trainings booked and not cancelled")
    usable_eur: EuroAmount = Field(description="rights + DIF + abondements (CEC is shown on its own)")
    ceiling_eur: EuroAmount = Field(description="the CPF ceiling that applies (5000.00, or 8000.00)")


class CecBalance(_Part):
    eur: EuroAmount


class C2pBalance(_Part):
    points: int = Field(ge=0)
    reserved_for_training: int = Field(ge=0, description="points only usable for training (R4163-13)")


class LegacyHoursConverted(_Part):
    """CPF hours held on 2018-12-31, and the euros they became on 2019-01-01 (already in rights_eur)."""

    hours: int = Field(ge=0)
    eur: EuroAmount


class BalancesProjected(EventData):
    """A holder's balances, after the account is activated and after every change."""

    EVENT_TYPE: ClassVar[str] = "fr.mcf.rights.balances_projected"

    holder_id: str = Field(description="pseudonymous holder id (keyed hash of the NIR); never the NIR")
    as_of: date = Field(description="the balances include every right taking effect up to this date")
    cpf: CpfBalances
    cec: CecBalance
    c2p: C2pBalance
    public_hours: int = Field(ge=0, description="public-sector CPF, in hours")
    legacy_hours_converted: LegacyHoursConverted
    dif_hours: int = Field(default=0, ge=0, description="DIF hours registered (their euros are dif_eur)")
