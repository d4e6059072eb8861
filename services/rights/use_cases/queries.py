"""Reads: what the holder's "Mes droits" page shows, through the use cases' cache, never the store directly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.rights.domain import Balances, HistoryLine, Holder, HolderRights, YearMonth
from services.rights.use_cases.projection import RightsService

# A holder no partner has declared anything for yet: every balance is zero, whatever the birth month.
_NOBODY_YET = Holder(YearMonth(1970, 1))


@dataclass(frozen=True)
class RightsView:
    holder_id: str
    as_of: date
    balances: Balances
    history: tuple[HistoryLine, ...]


async def rights_view(service: RightsService, holder_id: str) -> RightsView:
    """The holder's balances as of today and the history of every line, oldest first."""
    found = await service.rights_of(holder_id)
    rights = found[1] if found else HolderRights(_NOBODY_YET)
    today = service.today()
    return RightsView(holder_id, today, rights.balances(today), rights.history())
