"""A holder's projection: the state that replaying their events, in replay order, builds up.

:class:`Projection` holds the state, posts history lines and reads balances; the rules that change it
live by subject — :mod:`.crediting` (CPF, DIF, statuses, abondements), :mod:`.cec`, :mod:`.prevention`
(C2P) and :mod:`.bookings` — and :data:`.declarations.DECLARATIONS` says which rule applies each kind of
event. :class:`.holder_rights.HolderRights` decides which events to apply and when.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from .bookings import Booking
from .cpf import YearFacts
from .errors import ErrorCode, RightsError
from .holder import Balances, CecBalances, CpfBalances, Holder, LowQualificationPeriod, PreventionBalances
from .ledger import UNIT_OF, Account, Detail, HistoryLine, LineKind
from .money import ZERO, eur
from .parameters import RightsParameters
from .policy import Fund, RulesPolicy
from .prevention import reserved_for_training
from .undo import APPENDED, SET_ATTRIBUTE, SET_ITEM, LoggedDict, LoggedSet, UndoLog

# Accounts and kinds by name in the journal: a tuple of plain values is not followed by the garbage
# collector, which dominated long histories.
_ACCOUNT_NAME = {account: str(account.value) for account in Account}
_KIND_NAME = {kind: str(kind.value) for kind in LineKind}

_ZERO_TOTALS = {account: Decimal(0) for account in Account}
_ZERO_RESERVED = {fund: ZERO for fund in Fund}


class Projection:
    """The mutable working state of a replay: apply events in replay order, read balances and history.
    Only :mod:`.holder_rights` creates and drives it.

    Every change goes through ``undo`` (see :mod:`.undo`): containers are logged dicts and sets, and
    assigning an attribute logs the old value, so the state can be rewound to any applied event.
    Values stored in the state (year facts, bookings, status periods) are never changed in place."""

    undo: UndoLog
    holder: Holder
    parameters: RightsParameters
    policy: RulesPolicy
    totals: LoggedDict[Account, Decimal]
    journal: list[tuple[Any, ...]]  # (account name, date, kind name, amount, event_id, *details)
    years: LoggedDict[int, YearFacts]
    year_credited: LoggedDict[int, Decimal]
    latest_year_ceiling: tuple[int, Decimal] | None = None
    low_qualification: tuple[LowQualificationPeriod, ...] = ()
    legacy_hours: int | None = None
    legacy_eur: Decimal = ZERO
    dif_hours: int = 0
    cec_awarded: LoggedSet[tuple[int, str]]  # (year, category's value)
    cec_acquired: Decimal = ZERO
    c2p_acquired: int = 0
    c2p_acquired_under_cap: int = 0
    c2p_year_points: LoggedDict[int, int]
    c2p_used_training: int = 0
    c2p_used_retirement: int = 0
    public_credited: LoggedDict[int, int]
    retired_on: date | None = None
    cec_measures: LoggedDict[tuple[int, str], tuple[Decimal, ...]]  # by (year, category's value)
    bookings: LoggedDict[str, Booking]
    reserved: LoggedDict[Fund, Decimal]

    def __init__(self, holder: Holder, parameters: RightsParameters, policy: RulesPolicy) -> None:
        log = UndoLog()
        init = object.__setattr__  # not logged: nothing to undo before the first event
        init(self, "undo", log)
        init(self, "holder", holder)
        init(self, "parameters", parameters)
        init(self, "policy", policy)
        # Each account's balance, and every history line in replay order as one flat tuple (account,
        # date, kind, amount, event_id, *details): HistoryLine objects are made when it is read. (Flat:
        # a nested details tuple was one more object per line for the collector's young passes.)
        init(self, "totals", LoggedDict(log, "totals", _ZERO_TOTALS))
        init(self, "journal", [])
        init(self, "years", LoggedDict(log, "years"))
        init(self, "year_credited", LoggedDict(log, "year_credited"))
        init(self, "cec_awarded", LoggedSet(log, "cec_awarded"))
        init(self, "c2p_year_points", LoggedDict(log, "c2p_year_points"))
        init(self, "public_credited", LoggedDict(log, "public_credited"))
        init(self, "cec_measures", LoggedDict(log, "cec_measures"))
        init(self, "bookings", LoggedDict(log, "bookings"))
        init(self, "reserved", LoggedDict(log, "reserved", _ZERO_RESERVED))
        # The other attributes start at the class's values (immutable) until a rule sets them.

    def __setattr__(self, name: str, value: object) -> None:
        self.undo.entries += (None, name, getattr(self, name), SET_ATTRIBUTE)
        object.__setattr__(self, name, value)

    # --- changing (by the rules) ---------------------------------------------------------------
    def post(
        self, account: Account, on: date, kind: LineKind, details: tuple[Detail, ...], amount: Decimal, event_id: str
    ) -> None:
        # The logged dict's set and the append, logged in one step (this runs for nearly every event).
        totals, journal = self.totals, self.journal
        old = totals[account]
        self.undo.entries += ("totals", account, old, SET_ITEM, "journal", None, None, APPENDED)
        dict.__setitem__(totals, account, old + amount)
        # (concatenated: unpacking ``*details`` in the literal builds a list, then the tuple)
        journal.append((_ACCOUNT_NAME[account], on, _KIND_NAME[kind], amount, event_id) + details)  # noqa: RUF005

    def facts_to_change(self, year: int) -> YearFacts:
        """The year's facts, as a fresh copy stored in their place: stored facts are never changed in
        place, so the undo log keeps the old ones (copy on write)."""
        facts = self.years[year].copy() if year in self.years else YearFacts(year)
        self.years[year] = facts
        return facts

    def reserve(self, taken: Iterable[tuple[Fund, Decimal]], sign: int) -> None:
        """Add (sign +1) or take back (-1) what a booking holds, fund by fund."""
        reserved, entries = self.reserved, self.undo.entries
        for fund, amount in taken:  # (the logged dict's set, inlined as in ``post``)
            old = reserved[fund]
            entries += ("reserved", fund, old, SET_ITEM)
            dict.__setitem__(reserved, fund, old + amount if sign > 0 else old - amount)

    def check_activity_year(self, year: int, first_year: int, what: str) -> None:
        if year > self.parameters.last_plausible_year.for_activity_year(first_year):
            raise RightsError(ErrorCode.INVALID_YEAR, f"{what}: year {year} is not plausible")
        if year < first_year:
            raise RightsError(ErrorCode.YEAR_BEFORE_REGIME, f"{what}: no rule before activity year {first_year}")
        age_year = self.holder.birth.year + self.parameters.eligibility_age.for_activity_year(year)
        if year < age_year:
            raise RightsError(
                ErrorCode.BEFORE_ELIGIBILITY_AGE,
                f"{what}: the holder born in {self.holder.birth.year} could not earn rights in {year}"
                f" (L5151-2: from age 15 with an apprenticeship, 16 otherwise)",
            )

    # --- reading -------------------------------------------------------------------------------
    def balance(self, account: Account) -> Decimal:
        return self.totals[account]

    def reserved_from(self, fund: Fund) -> Decimal:
        """What bookings not started nor cancelled hold from ``fund`` (kept as a running total)."""
        return self.reserved[fund]

    def capped_balance(self) -> Decimal:
        """What the CPF ceiling is compared with: rights (converted hours included) and DIF (S24);
        never abondements or CEC (L6323-15)."""
        total = self.balance(Account.CPF_RIGHTS) + self.balance(Account.DIF)
        if self.policy.reserved_counts_in_ceiling:
            total += self.reserved_from(Fund.CPF_RIGHTS) + self.reserved_from(Fund.DIF)
        return total

    def room_under(self, ceiling: Decimal) -> Decimal:
        return max(ZERO, ceiling - self.capped_balance())

    def reserved_in_ceiling(self) -> Decimal | None:
        """Money held by bookings not yet started that counts in the ceiling, if any: why a balance
        below the ceiling can still be at it."""
        held = self.reserved_from(Fund.CPF_RIGHTS) + self.reserved_from(Fund.DIF)
        return held if self.policy.reserved_counts_in_ceiling and held != ZERO else None

    def low_qualified_in(self, year: int) -> bool:
        periods = self.low_qualification
        # (no generator made when there is no period: the common case, asked at every year of work)
        return bool(periods) and any(period.covers_year(year) for period in periods)

    def current_ceiling(self, on: date) -> Decimal:
        """The CPF ceiling the holder stands under: that of their latest credited year, or a higher one
        their current low-qualification status gives."""
        p = self.parameters
        day = max(on, p.cpf_ceiling_eur.first_effect)
        ceiling = p.cpf_ceiling_eur.at(day)
        if any(period.covers_day(on) for period in self.low_qualification):
            ceiling = max(ceiling, p.low_qualified_ceiling_eur.at(max(on, p.low_qualified_ceiling_eur.first_effect)))
        if self.latest_year_ceiling is not None:
            ceiling = max(ceiling, self.latest_year_ceiling[1])
        return ceiling

    def balances(self, as_of: date | None) -> Balances:
        """The balances after the events applied, as of ``as_of``: the date asked for, else the effective
        date of the last event applied (the caller knows it: the projection does not keep it, which
        saved logging it at nearly every event), None if there was none."""
        rights = self.balance(Account.CPF_RIGHTS)
        dif = self.balance(Account.DIF)
        abondements = self.balance(Account.ABONDEMENTS)
        reserved = sum((self.reserved_from(fund) for fund in Fund), ZERO)
        on = as_of or self.parameters.cpf_ceiling_eur.first_effect
        return Balances(
            as_of=as_of,
            cpf=CpfBalances(
                rights_eur=eur(rights),
                dif_eur=eur(dif),
                abondements_eur=eur(abondements),
                reserved_eur=eur(reserved),
                usable_eur=eur(rights + dif + abondements),
                ceiling_eur=eur(self.current_ceiling(on)),
            ),
            cec=CecBalances(eur=eur(self.balance(Account.CEC))),
            c2p=PreventionBalances(
                points=int(self.balance(Account.C2P)), reserved_for_training=reserved_for_training(self)
            ),
            public_hours=int(self.balance(Account.PUBLIC_CPF)),
            legacy_hours=self.legacy_hours or 0,
            legacy_eur=eur(self.legacy_eur),
            dif_hours=self.dif_hours,
        )

    def history(self) -> tuple[HistoryLine, ...]:
        lines = []
        for line in self.journal:
            account = Account(line[0])
            details = line[5:]
            lines.append(HistoryLine(account, line[1], LineKind(line[2]), details, line[3], UNIT_OF[account], line[4]))
        return tuple(lines)
