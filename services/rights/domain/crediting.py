"""The rules that credit the CPF and change the holder's statuses: years of work (private and public
sector), the BOETH majoration, legacy hours, DIF hours, abondements, low qualification, retirement.

Each rule checks first and raises :class:`RightsError` before posting anything it refuses. What a year
earns is the pure :mod:`.cpf` (private sector) and :mod:`.public_sector`; here it meets the ceiling.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from . import public_sector
from .cpf import self_employed_share, time_share, year_entitlement
from .errors import ErrorCode, RightsError
from .events import (
    Abondement,
    DifRegistered,
    DisabilityStatus,
    LegacyCpfHours,
    LowQualificationDeclared,
    LowQualificationEnded,
    Retired,
    WorkStatus,
    WorkYear,
)
from .holder import LowQualificationPeriod
from .ledger import Account, CreditOutcome, LineKind, NotCredited
from .money import ZERO, eur

if TYPE_CHECKING:
    from .projection import Projection

# Members read once here: reading an enum member off its class (or its ``value``) costs about five
# plain attribute reads in CPython 3.11, and a year of work read a dozen.
_EMPLOYEE, _SELF_EMPLOYED = WorkStatus.EMPLOYEE, WorkStatus.SELF_EMPLOYED
_CPF, _WORK_YEAR = Account.CPF_RIGHTS, LineKind.WORK_YEAR
_OUTCOME = {outcome: outcome.value for outcome in CreditOutcome}
_CREDITED, _CUT, _NOTHING_MORE = CreditOutcome.CREDITED, CreditOutcome.CUT_AT_CEILING, CreditOutcome.NOTHING_MORE


def _not_credited(state: Projection, event: WorkYear) -> NotCredited | None:
    """Why the law credits nothing for this year of work, if it does not (L5151-2, L6323-27)."""
    if state.retired_on is not None and event.year > state.retired_on.year:
        return NotCredited.RETIRED
    rule = state.parameters.eligibility_age_without_apprenticeship
    if event.apprenticeship is False and event.year < state.holder.birth.year + rule.for_activity_year(event.year):
        return NotCredited.UNDER_16_WITHOUT_APPRENTICESHIP
    if event.status is _SELF_EMPLOYED and event.cfp_contribution_paid is False:
        return NotCredited.CFP_CONTRIBUTION_UNPAID
    return None


def apply_work_year(state: Projection, event: WorkYear, on: date) -> None:
    p = state.parameters
    public = event.status.is_public
    if public:
        state.check_activity_year(event.year, p.public_first_activity_year.initial, "public-sector CPF")
    else:
        first = p.cpf_first_activity_year.initial
        if event.year < first:
            raise RightsError(
                ErrorCode.YEAR_BEFORE_REGIME,
                f"work_year {event.year}: CPF hours earned before {first} are declared once, "
                "as legacy_cpf_hours (hours held on 2018-12-31)",
            )
        state.check_activity_year(event.year, first, "work_year")
    why_not = _not_credited(state, event)
    if why_not is not None:
        account = Account.PUBLIC_CPF if public else _CPF
        details = (event.year, why_not.value, state.retired_on)
        state.post(account, on, LineKind.NOT_CREDITED, details, ZERO, event.event_id)
        return
    if public:
        facts = state.facts_to_change(event.year)
        facts.public_statuses = facts.public_statuses | {event.status}
        _credit_public_year(state, event, on)
        return
    status = event.status
    share: Fraction | None = None
    if status is _EMPLOYEE:
        share = time_share(event, p)
    elif status is _SELF_EMPLOYED:
        share = self_employed_share(event)
    facts = state.facts_to_change(event.year)
    if status is _EMPLOYEE and share is not None:
        facts.employee_time[event.event_id] = share
    elif status is _SELF_EMPLOYED and share is not None:
        facts.self_employed_time[event.event_id] = share
    else:
        facts.esat = True
    _credit_year(state, event.year, _WORK_YEAR, event.event_id, on)


def apply_disability_status(state: Projection, event: DisabilityStatus, on: date) -> None:
    state.check_activity_year(
        event.year,
        state.parameters.boeth_majoration_eur.first_effect.year,
        "disability_status (BOETH majoration, from 2019 activity)",
    )
    state.facts_to_change(event.year).boeth = True
    _credit_year(state, event.year, LineKind.BOETH, event.event_id, on)


def _credit_year(state: Projection, year: int, kind: LineKind, event_id: str, on: date) -> None:
    facts = state.years[year]
    low_qualified = state.low_qualified_in(year)
    entitlement = year_entitlement(facts, low_qualified, state.parameters, state.policy)
    if state.latest_year_ceiling is None or year >= state.latest_year_ceiling[0]:
        state.latest_year_ceiling = (year, entitlement.ceiling)
    wanted = max(ZERO, entitlement.amount - state.year_credited.get(year, ZERO))
    # R6323-1: credited "dans la limite d'un plafond"; a credit crossing it is cut to reach it.
    credit = min(wanted, state.room_under(entitlement.ceiling))
    reserved = None
    if credit < wanted:
        outcome, reserved = _CUT, state.reserved_in_ceiling()
    else:
        outcome = _NOTHING_MORE if wanted == ZERO else _CREDITED
    state.year_credited[year] = state.year_credited.get(year, ZERO) + credit
    tail = (_OUTCOME[outcome], entitlement.ceiling, reserved)
    details = (year, low_qualified, *tail) if kind is _WORK_YEAR else (year, *tail)
    state.post(_CPF, on, kind, details, credit, event_id)


def _credit_public_year(state: Projection, event: WorkYear, on: date) -> None:
    p = state.parameters
    statuses = state.years[event.year].public_statuses
    scale = (
        p.public_c_unqualified_scale_hours if WorkStatus.PUBLIC_C_UNQUALIFIED in statuses else p.public_scale_hours
    ).for_activity_year(event.year)
    wanted = scale.annual - state.public_credited.get(event.year, 0)
    hours = public_sector.hours_credit(int(state.balance(Account.PUBLIC_CPF)), wanted, scale)
    state.public_credited[event.year] = state.public_credited.get(event.year, 0) + hours
    details = (event.year, scale.ceiling if hours < wanted else None)
    state.post(Account.PUBLIC_CPF, on, LineKind.PUBLIC_HOURS, details, Decimal(hours), event.event_id)


def apply_legacy_hours(state: Projection, event: LegacyCpfHours, on: date) -> None:
    p = state.parameters
    if state.legacy_hours is not None:
        raise RightsError(ErrorCode.LEGACY_ALREADY_CONVERTED, "the hours held on 2018-12-31 were already converted")
    maximum = p.legacy_max_hours.at(on)
    if event.hours > maximum:
        raise RightsError(ErrorCode.INVALID_HOURS, f"nobody could hold more than {maximum} CPF hours in 2018")
    normal = p.legacy_max_hours_not_low_qualified.at(on)
    last_day = on - timedelta(days=1)
    if event.hours > normal and not any(period.covers_day(last_day) for period in state.low_qualification):
        # 150 h was the ceiling; only a holder declared low-qualified could hold up to 400 h (S16).
        raise RightsError(
            ErrorCode.LEGACY_HOURS_ABOVE_CEILING,
            f"{event.hours} h held on {last_day.isoformat()}: more than {normal} h needs a low-qualification "
            "declaration in force then",
        )
    rate = p.cpf_hour_value_eur.at(on)
    amount = eur(event.hours * rate)
    credit = _capped_conversion(state, amount, on)
    details = (event.hours, rate, state.current_ceiling(on) if credit < amount else None)
    state.legacy_hours = event.hours
    state.legacy_eur = credit
    state.post(Account.CPF_RIGHTS, on, LineKind.LEGACY_CONVERSION, details, credit, event.event_id)


def _capped_conversion(state: Projection, amount: Decimal, on: date) -> Decimal:
    if not state.policy.cap_conversions_at_ceiling:
        return amount
    return min(amount, state.room_under(state.current_ceiling(on)))


def apply_low_qualification_declared(state: Projection, event: LowQualificationDeclared, on: date) -> None:
    first = state.parameters.low_qualified_first_declaration.initial
    if event.on < first:
        raise RightsError(
            ErrorCode.INVALID_DATE, "the low-qualification majoration exists from 2017-01-01 (L6323-11-1)"
        )
    if any(period.ended_on is None for period in state.low_qualification):
        raise RightsError(ErrorCode.ALREADY_LOW_QUALIFIED, "the holder is already declared low-qualified")
    state.low_qualification = (*state.low_qualification, LowQualificationPeriod(event.on))


def apply_low_qualification_ended(state: Projection, event: LowQualificationEnded, on: date) -> None:
    open_periods = [period for period in state.low_qualification if period.ended_on is None]
    if not open_periods:
        raise RightsError(ErrorCode.NOT_LOW_QUALIFIED, "the holder is not declared low-qualified")
    if event.on < open_periods[0].declared_on:
        raise RightsError(ErrorCode.INVALID_DATE, "the status cannot end before it was declared")
    # Replaced, not changed in place: the undo log keeps the old periods.
    ended = LowQualificationPeriod(open_periods[0].declared_on, event.on)
    state.low_qualification = tuple(
        ended if period is open_periods[0] else period for period in state.low_qualification
    )


def apply_retired(state: Projection, event: Retired, on: date) -> None:
    if state.retired_on is not None:
        raise RightsError(
            ErrorCode.ALREADY_RETIRED, f"the holder is already retired since {state.retired_on.isoformat()}"
        )
    state.retired_on = on
    state.post(Account.CPF_RIGHTS, on, LineKind.RETIRED, (), ZERO, event.event_id)


def apply_dif_registered(state: Projection, event: DifRegistered, on: date) -> None:
    p = state.parameters
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
    if state.dif_hours + event.hours > maximum:
        raise RightsError(
            ErrorCode.DIF_HOURS_EXCEEDED,
            f"at most {maximum} DIF hours in all; {state.dif_hours} already registered, {event.hours} more refused",
        )
    rate = p.dif_hour_value_eur.at(event.on)
    amount = eur(event.hours * rate)
    credit = _capped_conversion(state, amount, on)
    details = (event.hours, rate, state.current_ceiling(on) if credit < amount else None)
    state.dif_hours += event.hours
    state.post(Account.DIF, on, LineKind.DIF_REGISTERED, details, credit, event.event_id)


def apply_abondement(state: Projection, event: Abondement, on: date) -> None:
    state.post(Account.ABONDEMENTS, on, LineKind.ABONDEMENT, (event.payer,), event.amount_eur, event.event_id)
