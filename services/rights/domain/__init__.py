"""The rights engine: a pure, dated rules engine for CPF, DIF, CEC, C2P and public-sector hours.

No I/O and no framework here. The public API::

    rights = HolderRights(Holder(YearMonth(1975, 3)))          # or HolderRights.replay(holder, events)
    rights = rights.record(WorkYear("e1", 2023, hours=Decimal(400)))   # RightsError if refused
    rights.balances(as_of=date(2024, 5, 1))                     # -> Balances
    rights.history(account=Account.CPF_RIGHTS)                   # -> HistoryLine(date, kind, details, amount)

Every amount and threshold lives in :mod:`.parameters` with its date of effect; the choices the sources
leave open live in :mod:`.policy`.
"""

from .declarations import DECLARATIONS, SAME_DAY_RANK, replay_key
from .errors import ErrorCode, RightsError
from .events import (
    Abondement,
    C2pExposure,
    C2pPointsUsed,
    CecActivity,
    DifRegistered,
    DisabilityStatus,
    LegacyCpfHours,
    LowQualificationDeclared,
    LowQualificationEnded,
    PointsUse,
    Retired,
    RightsEvent,
    TrainingBooked,
    TrainingCancelled,
    TrainingRefunded,
    TrainingStarted,
    WorkStatus,
    WorkYear,
)
from .holder import (
    Balances,
    CecBalances,
    CpfBalances,
    Holder,
    PreventionBalances,
    YearMonth,
)
from .holder_rights import WAITING_FOR_PREDECESSOR, HolderRights
from .ledger import Account, CecOutcome, CreditOutcome, HistoryLine, LineKind, NotCredited, Unit
from .nir import Nir
from .parameters import PARAMETERS, CecCategory, Parameter, RightsParameters
from .policy import DEFAULT_POLICY, C2pYearRule, CecCeilingBasis, Fund, RulesPolicy, Shortfall

__all__ = [
    "DECLARATIONS",
    "DEFAULT_POLICY",
    "PARAMETERS",
    "SAME_DAY_RANK",
    "WAITING_FOR_PREDECESSOR",
    "Abondement",
    "Account",
    "Balances",
    "C2pExposure",
    "C2pPointsUsed",
    "C2pYearRule",
    "CecActivity",
    "CecBalances",
    "CecCategory",
    "CecCeilingBasis",
    "CecOutcome",
    "CpfBalances",
    "CreditOutcome",
    "DifRegistered",
    "DisabilityStatus",
    "ErrorCode",
    "Fund",
    "HistoryLine",
    "Holder",
    "HolderRights",
    "LegacyCpfHours",
    "LineKind",
    "LowQualificationDeclared",
    "LowQualificationEnded",
    "Nir",
    "NotCredited",
    "Parameter",
    "PointsUse",
    "PreventionBalances",
    "Retired",
    "RightsError",
    "RightsEvent",
    "RightsParameters",
    "RulesPolicy",
    "Shortfall",
    "TrainingBooked",
    "TrainingCancelled",
    "TrainingRefunded",
    "TrainingStarted",
    "Unit",
    "WorkStatus",
    "WorkYear",
    "YearMonth",
    "replay_key",
]
