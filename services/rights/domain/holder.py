"""A holder's projection: the state that replaying their events, in replay order, builds up.

:class:`Projection` applies one event at a time (each rule in its own method) and reads the balances
and history; :class:`.holder_rights.HolderRights` decides which events to apply and when. This module
is long because it is the one place where every rule meets the ledgers; the pure rules it calls live in
:mod:`.cpf`, :mod:`.cec`, :mod:`.prevention`, :mod:`.public_sector` and :mod:`.bookings`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from . import cec, prevention, public_sector
from .bookings import Booking, BookingState
from .cpf import YearFacts, self_employed_share, time_share, year_entitlement
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
from .ledger import UNIT_OF, Account, HistoryLine
from .money import ZERO, eur, fr_eur
from .parameters import CecCategory, RightsParameters
from .policy import CecCeilingBasis, Fund, RulesPolicy, Shortfall
from .undo import APPENDED, SET_ATTRIBUTE, LoggedDict, LoggedSet, UndoLog

PAYER_LABELS = {
    "employer": "employeur",
    "opco": "OPCO",
    "state": "État",
    "region": "région",
    "france_travail": "France Travail",
    "agefiph": "Agefiph",
    "holder": "titulaire",
    "c2p": "compte professionnel de prévention",
    "at_mp": "branche AT/MP",
}

CEC_LABELS = {
    CecCategory.CIVIC_SERVICE: "service civique",
    CecCategory.MILITARY_RESERVE: "réserve militaire opérationnelle",
    CecCategory.POLICE_OPERATIONAL_RESERVE: "réserve opérationnelle de la police nationale",
    CecCategory.DEFENCE_CITIZEN_RESERVE: "réserve citoyenne de défense et de sécurité",
    CecCategory.MUNICIPAL_CIVIL_SECURITY_RESERVE: "réserve communale de sécurité civile",
    CecCategory.EDUCATION_CITIZEN_RESERVE: "réserve citoyenne de l'Éducation nationale",
    CecCategory.POLICE_CITIZEN_RESERVE: "réserve civile de la police nationale",
    CecCategory.CIVIC_RESERVE: "réserve civique",
    CecCategory.HEALTH_RESERVE: "réserve sanitaire",
    CecCategory.APPRENTICE_MASTER: "maître d'apprentissage",
    CecCategory.ASSOCIATION_BOARD: "bénévolat associatif (direction ou encadrement)",
    CecCategory.CARER: "proche aidant",
    CecCategory.VOLUNTEER_FIREFIGHTER: "sapeur-pompier volontaire",
}

_FUND_ACCOUNT = {
    Fund.ABONDEMENTS: Account.ABONDEMENTS,
    Fund.CPF_RIGHTS: Account.CPF_RIGHTS,
    Fund.DIF: Account.DIF,
    Fund.CEC: Account.CEC,
}


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
class _LowQualificationPeriod:
    declared_on: date
    ended_on: date | None = None

    def covers_year(self, year: int) -> bool:
        # R6323-3-1: from the credit for the year of the declaration; after losing the status, not
        # from the following calendar year.
        return self.declared_on.year <= year and (self.ended_on is None or year <= self.ended_on.year)

    def covers_day(self, day: date) -> bool:
        return self.declared_on <= day and (self.ended_on is None or day.year <= self.ended_on.year)


class Projection:
    """The mutable working state of a replay: apply events in replay order, read balances and history.
    Only :mod:`.holder_rights` creates and drives it.

    Every change goes through ``undo`` (see :mod:`.undo`): containers are logged dicts and sets, and
    assigning an attribute logs the old value, so the state can be rewound to any applied event.
    Values stored in the state (year facts, bookings, status periods) are never changed in place."""

    def __init__(self, holder: Holder, parameters: RightsParameters, policy: RulesPolicy) -> None:
        log = UndoLog()
        init = object.__setattr__  # not logged: nothing to undo before the first event
        init(self, "undo", log)
        init(self, "holder", holder)
        init(self, "parameters", parameters)
        init(self, "policy", policy)
        # Each account's balance, and every history line in replay order as a plain tuple (account,
        # date, label, amount, event_id): HistoryLine objects are made when the history is read.
        init(self, "totals", LoggedDict[Account, Decimal](log, {account: Decimal(0) for account in Account}))
        init(self, "journal", [])
        init(self, "years", LoggedDict[int, YearFacts](log))
        init(self, "year_credited", LoggedDict[int, Decimal](log))
        init(self, "latest_year_ceiling", None)
        init(self, "low_qualification", ())
        init(self, "legacy_hours", None)
        init(self, "legacy_eur", ZERO)
        init(self, "dif_hours", 0)
        init(self, "cec_awarded", LoggedSet[tuple[int, CecCategory]](log))
        init(self, "cec_acquired", ZERO)
        init(self, "c2p_acquired", 0)
        init(self, "c2p_acquired_under_cap", 0)
        init(self, "c2p_year_points", LoggedDict[int, int](log))
        init(self, "c2p_used_training", 0)
        init(self, "c2p_used_retirement", 0)
        init(self, "public_credited", LoggedDict[int, int](log))
        init(self, "retired_on", None)
        init(self, "cec_measures", LoggedDict[tuple[int, CecCategory], tuple[Decimal, ...]](log))
        init(self, "bookings", LoggedDict[str, Booking](log))
        init(self, "reserved", LoggedDict[Fund, Decimal](log, {fund: ZERO for fund in Fund}))
        init(self, "last_effective", None)

    undo: UndoLog
    holder: Holder
    parameters: RightsParameters
    policy: RulesPolicy
    totals: LoggedDict[Account, Decimal]
    journal: list[tuple[str, date, str, Decimal, str]]
    years: LoggedDict[int, YearFacts]
    year_credited: LoggedDict[int, Decimal]
    latest_year_ceiling: tuple[int, Decimal] | None
    low_qualification: tuple[_LowQualificationPeriod, ...]
    legacy_hours: int | None
    legacy_eur: Decimal
    dif_hours: int
    cec_awarded: LoggedSet[tuple[int, CecCategory]]
    cec_acquired: Decimal
    c2p_acquired: int
    c2p_acquired_under_cap: int
    c2p_year_points: LoggedDict[int, int]
    c2p_used_training: int
    c2p_used_retirement: int
    public_credited: LoggedDict[int, int]
    retired_on: date | None
    cec_measures: LoggedDict[tuple[int, CecCategory], tuple[Decimal, ...]]
    bookings: LoggedDict[str, Booking]
    reserved: LoggedDict[Fund, Decimal]
    last_effective: date | None

    def __setattr__(self, name: str, value: object) -> None:
        self.undo.entries += (self, name, self.__dict__[name], SET_ATTRIBUTE)
        object.__setattr__(self, name, value)

    def _facts_to_change(self, year: int) -> YearFacts:
        """The year's facts, as a fresh copy stored in their place: stored facts are never changed in
        place, so the undo log keeps the old ones (copy on write)."""
        facts = self.years[year].copy() if year in self.years else YearFacts(year)
        self.years[year] = facts
        return facts

    # --- reading -------------------------------------------------------------------------------
    def balance(self, account: Account) -> Decimal:
        return self.totals[account]

    def reserved_from(self, fund: Fund) -> Decimal:
        """What bookings not started nor cancelled hold from ``fund`` (kept as a running total)."""
        return self.reserved[fund]

    def _reserve(self, taken: dict[Fund, Decimal], sign: int) -> None:
        for fund, amount in taken.items():
            self.reserved[fund] += sign * amount

    def capped_balance(self) -> Decimal:
        """What the CPF ceiling is compared with: rights (converted hours included) and DIF (S24);
        never abondements or CEC (L6323-15)."""
        total = self.balance(Account.CPF_RIGHTS) + self.balance(Account.DIF)
        if self.policy.reserved_counts_in_ceiling:
            total += self.reserved_from(Fund.CPF_RIGHTS) + self.reserved_from(Fund.DIF)
        return total

    def low_qualified_in(self, year: int) -> bool:
        return any(period.covers_year(year) for period in self.low_qualification)

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

    def _reserved_note(self) -> str:
        """Why a balance below the ceiling can still be at it: money held by bookings not yet started."""
        held = self.reserved_from(Fund.CPF_RIGHTS) + self.reserved_from(Fund.DIF)
        if not self.policy.reserved_counts_in_ceiling or held == 0:
            return ""
        return f", dont {fr_eur(held)} réservés pour une formation non commencée"

    def room_under(self, ceiling: Decimal) -> Decimal:
        return max(ZERO, ceiling - self.capped_balance())

    def c2p_reserved_for_training(self) -> int:
        quota = prevention.reserved_quota(self.holder.birth.first_day, self.parameters)
        reserved = max(0, min(self.c2p_acquired, quota) - self.c2p_used_training)
        return min(reserved, int(self.balance(Account.C2P)))

    def post(self, account: Account, on: date, label: str, amount: Decimal, event_id: str) -> None:
        self.totals[account] += amount
        self.journal.append((_ACCOUNT_NAME[account], on, label, amount, event_id))
        self.undo.entries += (self.journal, None, None, APPENDED)

    # --- applying ------------------------------------------------------------------------------
    def apply(self, event: RightsEvent, on: date) -> None:
        """Apply one event. A refused event raises; what a rule changed before refusing is undone by
        the caller (:class:`.holder_rights._Timeline` rewinds to the mark it took before)."""
        _RULES[type(event)](self, event, on)
        self.last_effective = on

    def _check_activity_year(self, year: int, first_year: int, what: str) -> None:
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

    # CPF ---------------------------------------------------------------------------------------
    def _not_credited(self, event: WorkYear) -> str | None:
        """Why the law credits nothing for this year of work, if it does not (L5151-2, L6323-27)."""
        if self.retired_on is not None and event.year > self.retired_on.year:
            return f"titulaire retraité depuis le {self.retired_on.strftime('%d/%m/%Y')}, L5151-2"
        sixteen = self.holder.birth.year + self.parameters.eligibility_age_without_apprenticeship.for_activity_year(
            event.year
        )
        if event.apprenticeship is False and event.year < sixteen:
            return "moins de 16 ans sans contrat d'apprentissage, L5151-2"
        if event.status is WorkStatus.SELF_EMPLOYED and event.cfp_contribution_paid is False:
            return "contribution à la formation professionnelle non acquittée, L6323-27"
        return None

    def _work_year(self, event: WorkYear, on: date) -> None:
        p = self.parameters
        if event.status.is_public:
            self._check_activity_year(event.year, p.public_first_activity_year.initial, "public-sector CPF")
        else:
            first = p.cpf_first_activity_year.initial
            if event.year < first:
                raise RightsError(
                    ErrorCode.YEAR_BEFORE_REGIME,
                    f"work_year {event.year}: CPF hours earned before {first} are declared once, "
                    "as legacy_cpf_hours (hours held on 2018-12-31)",
                )
            self._check_activity_year(event.year, first, "work_year")
        why_not = self._not_credited(event)
        if why_not is not None:
            account = Account.PUBLIC_CPF if event.status.is_public else Account.CPF_RIGHTS
            self.post(account, on, f"Activité {event.year} : aucun droit ({why_not})", ZERO, event.event_id)
            return
        if event.status.is_public:
            self._facts_to_change(event.year).public_statuses.add(event.status)
            self._credit_public_year(event, on)
            return
        share: Fraction | None = None
        if event.status is WorkStatus.EMPLOYEE:
            share = time_share(event, p)
        elif event.status is WorkStatus.SELF_EMPLOYED:
            share = self_employed_share(event)
        facts = self._facts_to_change(event.year)
        if event.status is WorkStatus.EMPLOYEE and share is not None:
            facts.employee_time[event.event_id] = share
        elif event.status is WorkStatus.SELF_EMPLOYED and share is not None:
            facts.self_employed_time[event.event_id] = share
        else:
            facts.esat = True
        label = f"Alimentation CPF au titre de l'activité {event.year}"
        if self.low_qualified_in(event.year):
            label += " (salarié peu qualifié)"
        self._credit_year(event.year, label, event.event_id, on)

    def _disability_status(self, event: DisabilityStatus, on: date) -> None:
        self._check_activity_year(
            event.year,
            self.parameters.boeth_majoration_eur.first_effect.year,
            "disability_status (BOETH majoration, from 2019 activity)",
        )
        self._facts_to_change(event.year).boeth = True
        label = f"Majoration bénéficiaire de l'obligation d'emploi (BOETH) au titre de {event.year}"
        self._credit_year(event.year, label, event.event_id, on)

    def _credit_year(self, year: int, label: str, event_id: str, on: date) -> None:
        facts = self.years[year]
        entitlement = year_entitlement(facts, self.low_qualified_in(year), self.parameters, self.policy)
        if self.latest_year_ceiling is None or year >= self.latest_year_ceiling[0]:
            self.latest_year_ceiling = (year, entitlement.ceiling)
        wanted = max(ZERO, entitlement.amount - self.year_credited.get(year, ZERO))
        # R6323-1: credited "dans la limite d'un plafond"; a credit crossing it is cut to reach it.
        credit = min(wanted, self.room_under(entitlement.ceiling))
        if credit < wanted:
            label += f" (limitée au plafond de {fr_eur(entitlement.ceiling)}{self._reserved_note()})"
        elif wanted == 0:
            label += " : aucun droit supplémentaire"
        self.year_credited[year] = self.year_credited.get(year, ZERO) + credit
        self.post(Account.CPF_RIGHTS, on, label, credit, event_id)

    def _credit_public_year(self, event: WorkYear, on: date) -> None:
        p = self.parameters
        statuses = self.years[event.year].public_statuses
        scale = (
            p.public_c_unqualified_scale_hours if WorkStatus.PUBLIC_C_UNQUALIFIED in statuses else p.public_scale_hours
        ).for_activity_year(event.year)
        wanted = scale.annual - self.public_credited.get(event.year, 0)
        hours = public_sector.hours_credit(int(self.balance(Account.PUBLIC_CPF)), wanted, scale)
        self.public_credited[event.year] = self.public_credited.get(event.year, 0) + hours
        label = f"Heures CPF (fonction publique) au titre de {event.year}"
        if hours < wanted:
            label += f" (plafond de {scale.ceiling} h)"
        self.post(Account.PUBLIC_CPF, on, label, Decimal(hours), event.event_id)

    def _legacy_hours(self, event: LegacyCpfHours, on: date) -> None:
        p = self.parameters
        if self.legacy_hours is not None:
            raise RightsError(ErrorCode.LEGACY_ALREADY_CONVERTED, "the hours held on 2018-12-31 were already converted")
        maximum = p.legacy_max_hours.at(on)
        if event.hours > maximum:
            raise RightsError(ErrorCode.INVALID_HOURS, f"nobody could hold more than {maximum} CPF hours in 2018")
        normal = p.legacy_max_hours_not_low_qualified.at(on)
        last_day = on - timedelta(days=1)
        if event.hours > normal and not any(period.covers_day(last_day) for period in self.low_qualification):
            # 150 h was the ceiling; only a holder declared low-qualified could hold up to 400 h (S16).
            raise RightsError(
                ErrorCode.LEGACY_HOURS_ABOVE_CEILING,
                f"{event.hours} h held on {last_day.isoformat()}: more than {normal} h needs a low-qualification "
                "declaration in force then",
            )
        rate = p.cpf_hour_value_eur.at(on)
        amount = eur(event.hours * rate)
        credit = self._capped_conversion(amount, on)
        label = f"Conversion des {event.hours} h CPF acquises avant 2019 ({fr_eur(rate)}/h)"
        if credit < amount:
            label += f" (limitée au plafond de {fr_eur(self.current_ceiling(on))})"
        self.legacy_hours = event.hours
        self.legacy_eur = credit
        self.post(Account.CPF_RIGHTS, on, label, credit, event.event_id)

    def _capped_conversion(self, amount: Decimal, on: date) -> Decimal:
        if not self.policy.cap_conversions_at_ceiling:
            return amount
        return min(amount, self.room_under(self.current_ceiling(on)))

    def _low_qualification_declared(self, event: LowQualificationDeclared, on: date) -> None:
        first = self.parameters.low_qualified_first_declaration.initial
        if event.on < first:
            raise RightsError(
                ErrorCode.INVALID_DATE, "the low-qualification majoration exists from 2017-01-01 (L6323-11-1)"
            )
        if any(period.ended_on is None for period in self.low_qualification):
            raise RightsError(ErrorCode.ALREADY_LOW_QUALIFIED, "the holder is already declared low-qualified")
        self.low_qualification = (*self.low_qualification, _LowQualificationPeriod(event.on))

    def _low_qualification_ended(self, event: LowQualificationEnded, on: date) -> None:
        open_periods = [period for period in self.low_qualification if period.ended_on is None]
        if not open_periods:
            raise RightsError(ErrorCode.NOT_LOW_QUALIFIED, "the holder is not declared low-qualified")
        if event.on < open_periods[0].declared_on:
            raise RightsError(ErrorCode.INVALID_DATE, "the status cannot end before it was declared")
        # Replaced, not changed in place: the undo log keeps the old periods.
        ended = _LowQualificationPeriod(open_periods[0].declared_on, event.on)
        self.low_qualification = tuple(
            ended if period is open_periods[0] else period for period in self.low_qualification
        )

    def _retired(self, event: Retired, on: date) -> None:
        if self.retired_on is not None:
            raise RightsError(
                ErrorCode.ALREADY_RETIRED, f"the holder is already retired since {self.retired_on.isoformat()}"
            )
        self.retired_on = on
        label = "Retraite : le CPF n'est plus alimenté ni utilisable ; le CEC reste utilisable (L5151-2)"
        self.post(Account.CPF_RIGHTS, on, label, ZERO, event.event_id)

    # DIF ---------------------------------------------------------------------------------------
    def _dif_registered(self, event: DifRegistered, on: date) -> None:
        p = self.parameters
        if event.on < p.dif_registration_deadline.first_effect:
            raise RightsError(ErrorCode.INVALID_DATE, "DIF hours could be registered from 2015-01-01")
        deadline = p.dif_registration_deadline.at(event.on)
        if event.on > deadline:
            raise RightsError(
                ErrorCode.DIF_DEADLINE_PASSED,
                f"DIF hours had to be registered by {deadline.isoformat()}; registration on "
                f"{event.on.isoformat()} refused: the right is lost (ordonnance 2019-861, S23)",
            )
        maximum = p.dif_max_hours.at(event.on)
        if self.dif_hours + event.hours > maximum:
            raise RightsError(
                ErrorCode.DIF_HOURS_EXCEEDED,
                f"at most {maximum} DIF hours in all; {self.dif_hours} already registered, {event.hours} more refused",
            )
        rate = p.dif_hour_value_eur.at(event.on)
        amount = eur(event.hours * rate)
        credit = self._capped_conversion(amount, on)
        label = f"Heures DIF inscrites : {event.hours} h × {fr_eur(rate)}"
        if credit < amount:
            label += f" (limitées au plafond de {fr_eur(self.current_ceiling(on))})"
        self.dif_hours += event.hours
        self.post(Account.DIF, on, label, credit, event.event_id)

    # CEC ---------------------------------------------------------------------------------------
    def _cec_activity(self, event: CecActivity, on: date) -> None:
        p = self.parameters
        self._check_activity_year(event.year, p.cec_first_activity_year.initial, "cec_activity")
        minimum = p.cec_minima.for_activity_year(event.year).get(event.category)
        if minimum is None:
            raise RightsError(
                ErrorCode.UNKNOWN_CEC_CATEGORY, f"no CEC minimum for {event.category.value} in {event.year}"
            )
        # Hours in several associations (or hosts) add up over the year, whichever declaration brings
        # them, like work hours across employers (D5151-14 7°: 200 h "in one or more" associations).
        so_far = self.cec_measures.get((event.year, event.category), ())
        met = cec.minimum_met(event, minimum, so_far)
        measure = getattr(event, minimum.measure)
        if isinstance(measure, tuple):
            self.cec_measures[(event.year, event.category)] = (*so_far, *measure)
        label = f"Engagement citoyen {event.year} : {CEC_LABELS[event.category]}"
        credit = ZERO
        if (event.year, event.category) in self.cec_awarded:
            label += " (déjà acquis pour cette année)"
        elif not met:
            label += f" (seuil non atteint, {minimum.article})"
        else:
            amount, ceiling = cec.credit_and_ceiling(event.year, p)
            credit = min(amount, max(ZERO, ceiling - self._cec_counted()))
            if credit < amount:
                label += f" (limité au plafond de {fr_eur(ceiling)})"
            self.cec_awarded.add((event.year, event.category))
            self.cec_acquired += credit
        self.post(Account.CEC, on, label, credit, event.event_id)

    def _cec_counted(self) -> Decimal:
        if self.policy.cec_ceiling_basis is CecCeilingBasis.LIFETIME:
            return self.cec_acquired
        counted = self.balance(Account.CEC)
        if self.policy.reserved_counts_in_ceiling:
            counted += self.reserved_from(Fund.CEC)
        return counted

    # C2P ---------------------------------------------------------------------------------------
    def _c2p_exposure(self, event: C2pExposure, on: date) -> None:
        p = self.parameters
        self._check_activity_year(event.year, p.c2p_first_year.initial, "c2p_exposure")
        existing = prevention.factors_existing_in(event.year, p)
        if event.factors > existing:
            raise RightsError(ErrorCode.INVALID_FACTORS, f"only {existing} exposure factors existed in {event.year}")
        scale = prevention.scale_for_year(event.year, p, self.policy)
        points = prevention.points_for(event, scale)
        if scale.yearly_cap is not None:
            # Old rule: at most 8 points a year, whatever the number of employers (S31).
            points = min(points, max(0, scale.yearly_cap - self.c2p_year_points.get(event.year, 0)))
        if scale.career_cap is not None:
            points = min(points, max(0, scale.career_cap - self.c2p_acquired_under_cap))
            self.c2p_acquired_under_cap += points
        self.c2p_year_points[event.year] = self.c2p_year_points.get(event.year, 0) + points
        self.c2p_acquired += points
        label = (
            f"Points C2P au titre de {event.year} : {event.quarters} trimestre(s) d'exposition, "
            f"{event.factors} facteur(s)"
        )
        self.post(Account.C2P, on, label, Decimal(points), event.event_id)

    def _c2p_points_used(self, event: C2pPointsUsed, on: date) -> None:
        p = self.parameters
        available = int(self.balance(Account.C2P))
        if event.points > available:
            raise RightsError(ErrorCode.INSUFFICIENT_POINTS, f"{event.points} points asked, {available} on the account")
        if event.use is PointsUse.TRAINING:
            # Points become a CPF top-up, outside the ceiling (L6323-15); one by one (R4163-12).
            value = p.c2p_point_training_value_eur.at(on)
            amount = eur(event.points * value)
            self.c2p_used_training += event.points
            self.post(
                Account.C2P,
                on,
                f"Points C2P utilisés pour une formation ({fr_eur(value)}/point)",
                Decimal(-event.points),
                event.event_id,
            )
            self.post(
                Account.ABONDEMENTS,
                on,
                f"Abondement : {event.points} points C2P × {fr_eur(value)}",
                amount,
                event.event_id,
            )
            return
        block = p.c2p_points_per_block.at(on)
        if event.points % block:
            raise RightsError(
                ErrorCode.POINTS_NOT_IN_BLOCKS,
                f"{event.use.value} uses points by blocks of {block} (R4163-12)",
            )
        free = available - self.c2p_reserved_for_training()
        if event.points > free:
            raise RightsError(
                ErrorCode.POINTS_RESERVED_FOR_TRAINING,
                f"only {free} points are free: the first points are reserved for training (R4163-13)",
            )
        if event.use is PointsUse.RETIREMENT:
            most = p.c2p_retirement_max_quarters.at(on) * block
            if self.c2p_used_retirement + event.points > most:
                raise RightsError(
                    ErrorCode.RETIREMENT_QUARTERS_EXCEEDED,
                    f"points buy at most {most // block} retirement quarters",
                )
            self.c2p_used_retirement += event.points
            label = f"Points C2P utilisés : {event.points // block} trimestre(s) de retraite"
        else:
            label = f"Points C2P utilisés : passage à temps partiel ({event.points // block} bloc(s))"
        self.post(Account.C2P, on, label, Decimal(-event.points), event.event_id)

    # Abondements and bookings -------------------------------------------------------------------
    def _abondement(self, event: Abondement, on: date) -> None:
        payer = PAYER_LABELS.get(event.payer, event.payer)
        self.post(Account.ABONDEMENTS, on, f"Abondement : {payer}", event.amount_eur, event.event_id)

    def _training_booked(self, event: TrainingBooked, on: date) -> None:
        if event.booking_id in self.bookings:
            raise RightsError(ErrorCode.DUPLICATE_BOOKING, f"booking {event.booking_id} already exists")
        participation = ZERO if event.participation_exempt else self.parameters.participation_forfaitaire_eur.at(on)
        # The CPF covers price − participation; below the participation the holder pays it all (S20).
        due = max(ZERO, event.price_eur - participation)
        taken: dict[Fund, Decimal] = {}
        remaining = due
        for fund in self.policy.debit_order:
            if self.retired_on is not None and fund is not Fund.CEC:
                continue  # after retirement only the CEC can be used (L5151-2, S36)
            take = min(remaining, max(ZERO, self.balance(_FUND_ACCOUNT[fund])))
            if take > 0:
                taken[fund] = take
                remaining -= take
        if remaining > 0 and self.policy.booking_shortfall is Shortfall.REFUSE:
            raise RightsError(
                ErrorCode.INSUFFICIENT_RIGHTS,
                f"the training needs {fr_eur(due)} and the rights cover {fr_eur(due - remaining)}",
            )
        label = (
            f"Formation {event.booking_id} réservée (prix {fr_eur(event.price_eur)}, "
            f"participation forfaitaire {fr_eur(participation)})"
        )
        if remaining > 0:
            label += f", reste à payer par le titulaire {fr_eur(remaining)}"
        for fund, amount in taken.items():
            self.post(_FUND_ACCOUNT[fund], on, label, -amount, event.event_id)
        if not taken:
            self.post(Account.CPF_RIGHTS, on, label + " : aucun droit utilisé", ZERO, event.event_id)
        self.bookings[event.booking_id] = Booking(event.booking_id, on, due, tuple(taken.items()))
        self._reserve(taken, +1)

    def _booking(self, booking_id: str, what: str) -> Booking:
        booking = self.bookings.get(booking_id)
        if booking is None:
            raise RightsError(ErrorCode.UNKNOWN_BOOKING, f"no booking {booking_id} to {what}")
        return booking

    def _training_started(self, event: TrainingStarted, on: date) -> None:
        booking = self._booking(event.booking_id, "start").start()
        self.bookings[event.booking_id] = booking
        self._reserve(dict(booking.taken), -1)
        # The money was debited at booking; from now on it is spent and leaves the ceilings.
        label = f"Entrée en formation {event.booking_id} : {fr_eur(booking.total)} de droits utilisés"
        self.post(Account.CPF_RIGHTS, on, label, ZERO, event.event_id)

    def _training_refunded(self, event: TrainingRefunded, on: date) -> None:
        booking, given = self._booking(event.booking_id, "refund").refund(event.amount_eur)
        self.bookings[event.booking_id] = booking
        if booking.state is BookingState.RESERVED:
            self._reserve(given, -1)
        label = f"Remboursement partiel de la formation {event.booking_id} : droits restitués"
        for fund, amount in given.items():
            self.post(_FUND_ACCOUNT[fund], on, label, amount, event.event_id)

    def _training_cancelled(self, event: TrainingCancelled, on: date) -> None:
        booking, given = self._booking(event.booking_id, "cancel").cancel(on)
        self.bookings[event.booking_id] = booking
        self._reserve(given, -1)
        label = f"Annulation de la formation {event.booking_id} : droits restitués"
        for fund, amount in given.items():
            self.post(_FUND_ACCOUNT[fund], on, label, amount, event.event_id)
        if not given:
            self.post(Account.CPF_RIGHTS, on, label, ZERO, event.event_id)

    # --- output --------------------------------------------------------------------------------
    def balances(self, as_of: date | None) -> Balances:
        rights = self.balance(Account.CPF_RIGHTS)
        dif = self.balance(Account.DIF)
        abondements = self.balance(Account.ABONDEMENTS)
        reserved = sum((self.reserved_from(fund) for fund in Fund), ZERO)
        on = as_of or self.last_effective or self.parameters.cpf_ceiling_eur.first_effect
        return Balances(
            as_of=as_of or self.last_effective,
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
                points=int(self.balance(Account.C2P)), reserved_for_training=self.c2p_reserved_for_training()
            ),
            public_hours=int(self.balance(Account.PUBLIC_CPF)),
            legacy_hours=self.legacy_hours or 0,
            legacy_eur=eur(self.legacy_eur),
            dif_hours=self.dif_hours,
        )

    def history(self) -> tuple[HistoryLine, ...]:
        return tuple(
            HistoryLine(Account(account), on, label, amount, UNIT_OF[Account(account)], event_id)
            for account, on, label, amount, event_id in self.journal
        )


# Accounts by name in the journal: a tuple of plain values is not followed by the garbage collector.
_ACCOUNT_NAME = {account: str(account.value) for account in Account}

# The rule applying each kind of event (every method takes the projection, the event and its date).
_RULES: dict[type, Callable[[Projection, Any, date], None]] = {
    WorkYear: Projection._work_year,
    LegacyCpfHours: Projection._legacy_hours,
    LowQualificationDeclared: Projection._low_qualification_declared,
    LowQualificationEnded: Projection._low_qualification_ended,
    Retired: Projection._retired,
    DisabilityStatus: Projection._disability_status,
    DifRegistered: Projection._dif_registered,
    CecActivity: Projection._cec_activity,
    C2pExposure: Projection._c2p_exposure,
    C2pPointsUsed: Projection._c2p_points_used,
    Abondement: Projection._abondement,
    TrainingBooked: Projection._training_booked,
    TrainingStarted: Projection._training_started,
    TrainingRefunded: Projection._training_refunded,
    TrainingCancelled: Projection._training_cancelled,
}
