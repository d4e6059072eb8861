"""What partners tell the rights service, as domain facts.

(Over 300 lines on purpose: one frozen class per declaration type with its own checks, the whole
partner vocabulary in one place, as `declarations.py` registers it.)

Each event checks what it can on its own when built (negative hours, impossible quarters, bad amounts)
and raises :class:`RightsError`; checks that need the parameter table or the holder's ledger happen
when the event is applied. ``effective_on`` is the date the event counts from:

- events about an activity ``year`` take effect on ANNUAL_POSTING_DAY of the next year (30 April: the
  CDC credits "before 30 April" for the previous year, S13);
- ``LegacyCpfHours`` on LEGACY_CONVERSION_DATE (2019-01-01, S10);
- the others on their own date.

This module is long (~450 lines) because it declares all fifteen kinds of event, each with the checks
it can make alone; :mod:`.declarations` gives each its rule and same-day rank.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from .errors import ErrorCode, RightsError
from .money import has_at_most_two_decimals
from .parameters import CecCategory, RightsParameters

MAX_HOURS_IN_YEAR = Decimal(366 * 24)
_MAX_DAYS = Decimal(366)
_DAYS_IN_YEAR = {False: Decimal(365), True: Decimal(366)}
_MIN_YEAR = 1900
_MAX_YEAR = 9998


class WorkStatus(StrEnum):
    EMPLOYEE = "employee"
    SELF_EMPLOYED = "self_employed"
    ESAT = "esat"
    PUBLIC_A_B = "public_a_b"
    PUBLIC_C_UNQUALIFIED = "public_c_unqualified"

    @property
    def is_public(self) -> bool:
        return self in _PUBLIC_STATUSES


# (A set looked up by the member's str hash: reading an enum member off its class is slow in CPython 3.11.)
_PUBLIC_STATUSES = frozenset({WorkStatus.PUBLIC_A_B, WorkStatus.PUBLIC_C_UNQUALIFIED})


class PointsUse(StrEnum):
    TRAINING = "training"
    PART_TIME = "part_time"
    RETIREMENT = "retirement"


def _fail(code: ErrorCode, reason: str, event_id: str) -> RightsError:
    return RightsError(code, reason, event_id=event_id)


def _check_event_id(event_id: str) -> None:
    if not event_id or not event_id.strip():
        raise RightsError(ErrorCode.INVALID_EVENT_ID, "event_id must be a non-empty string")


def _check_booking_id(booking_id: str, what: str, event_id: str) -> None:
    if not booking_id or not booking_id.strip():
        raise _fail(ErrorCode.INVALID_BOOKING_ID, f"{what} needs a booking_id", event_id)


def _check_year(year: int, event_id: str) -> None:
    if isinstance(year, bool) or not isinstance(year, int) or not _MIN_YEAR <= year <= _MAX_YEAR:
        raise _fail(ErrorCode.INVALID_YEAR, f"year {year!r} is not a possible calendar year", event_id)


def _check_date(on: date, event_id: str) -> None:
    if not isinstance(on, date) or on.year < _MIN_YEAR:
        raise _fail(ErrorCode.INVALID_DATE, f"{on!r} is not a possible date", event_id)


def _check_quantity(
    value: Decimal | int | None,
    name: str,
    code: ErrorCode,
    event_id: str,
    *,
    maximum: Decimal | None = None,
    positive: bool = False,
) -> None:
    if value is None:
        return
    kind = type(value)  # exact types first: this runs for every measure of every event
    if kind is Decimal:
        if not value.is_finite():  # type: ignore[union-attr]
            raise _fail(code, f"{name} must be a number, got {value!r}", event_id)
    elif kind is not int and (
        isinstance(value, bool) or not isinstance(value, int | Decimal) or not Decimal(value).is_finite()
    ):
        raise _fail(code, f"{name} must be a number, got {value!r}", event_id)
    if value < 0 or (positive and value == 0):
        raise _fail(code, f"{name} must be {'positive' if positive else 'zero or more'}, got {value}", event_id)
    if maximum is not None and value > maximum:
        raise _fail(code, f"{name} cannot exceed {maximum}, got {value}", event_id)


def _check_amount(amount: Decimal, name: str, event_id: str, *, positive: bool) -> None:
    if not isinstance(amount, Decimal) or not has_at_most_two_decimals(amount):
        raise _fail(ErrorCode.INVALID_AMOUNT, f"{name} must be a euro amount with at most 2 decimals", event_id)
    if amount < 0 or (positive and amount == 0):
        raise _fail(ErrorCode.INVALID_AMOUNT, f"{name} must be {'positive' if positive else '≥ 0'}", event_id)


class _SelfChecking(Protocol):
    def __post_init__(self) -> None: ...


_Event = TypeVar("_Event", bound=_SelfChecking)


def built(kind: type[_Event], **fields: Any) -> _Event:
    """``kind(**fields)`` for a caller that names every field (the partner mapping): the same event, the
    same checks (``__post_init__`` runs), without the frozen dataclass's ``__init__``, which sets each
    field through its own ``object.__setattr__`` call: two thirds of the cost of a ten-field event in
    CPython 3.11, paid for every partner message."""
    event = object.__new__(kind)
    object.__setattr__(event, "__dict__", fields)  # (the frozen class refuses a plain assignment)
    event.__post_init__()
    return event


def posting_date(year: int, parameters: RightsParameters) -> date:
    """The day year-``year`` rights are credited: 30 April of the next year (S13)."""
    month, day = parameters.annual_posting_day.for_activity_year(year)
    return date(year + 1, month, day)


@dataclass(frozen=True)
class WorkYear:
    """Time worked (and counted, leave included by the declarant) in an activity year."""

    event_id: str
    year: int
    status: WorkStatus = WorkStatus.EMPLOYEE
    hours: Decimal | None = None
    reference_hours: Decimal | None = None
    days: Decimal | None = None
    reference_days: Decimal | None = None
    days_active: int | None = None
    # L6323-27: a self-employed year earns only if the CFP contribution was paid (None: not said, paid).
    cfp_contribution_paid: bool | None = None
    # L5151-2: below 16, only under an apprenticeship contract (None: not said, the old input; counted).
    apprenticeship: bool | None = None

    def __post_init__(self) -> None:
        _check_event_id(self.event_id)
        _check_year(self.year, self.event_id)
        if self.cfp_contribution_paid is not None and self.status is not WorkStatus.SELF_EMPLOYED:
            raise _fail(
                ErrorCode.INVALID_STATUS, "cfp_contribution_paid is for a self_employed year only", self.event_id
            )
        if not isinstance(self.status, WorkStatus):
            raise _fail(ErrorCode.INVALID_STATUS, f"unknown work status {self.status!r}", self.event_id)
        # (Each measure checked only when given: a year carries one or two of them, and a call per absent
        # one cost a tenth of a microsecond each, for every work year a partner sends.)
        if self.hours is not None:
            _check_quantity(self.hours, "hours", ErrorCode.INVALID_HOURS, self.event_id, maximum=MAX_HOURS_IN_YEAR)
        if self.reference_hours is not None:
            _check_quantity(
                self.reference_hours,
                "reference_hours",
                ErrorCode.INVALID_REFERENCE,
                self.event_id,
                maximum=MAX_HOURS_IN_YEAR,
                positive=True,
            )
        if self.days is not None:
            _check_quantity(self.days, "days", ErrorCode.INVALID_DAYS, self.event_id, maximum=_MAX_DAYS)
        if self.reference_days is not None:
            _check_quantity(
                self.reference_days,
                "reference_days",
                ErrorCode.INVALID_REFERENCE,
                self.event_id,
                maximum=_MAX_DAYS,
                positive=True,
            )
        if self.days_active is not None:
            _check_quantity(
                self.days_active,
                "days_active",
                ErrorCode.INVALID_DAYS,
                self.event_id,
                maximum=_DAYS_IN_YEAR[calendar.isleap(self.year)],
            )
        if self.status is WorkStatus.EMPLOYEE:
            self._check_employee_measure()
        if self.status is WorkStatus.SELF_EMPLOYED and self.days_active is None:
            raise _fail(ErrorCode.MISSING_MEASURE, "a self-employed year needs days_active", self.event_id)

    def _check_employee_measure(self) -> None:
        if (self.hours is None) == (self.days is None):
            raise _fail(
                ErrorCode.MISSING_MEASURE,
                "an employee's year needs either hours or days (with reference_days)",
                self.event_id,
            )
        if self.days is not None and self.reference_days is None:
            raise _fail(ErrorCode.MISSING_MEASURE, "days need reference_days (the forfait)", self.event_id)
        if self.hours is not None and self.reference_days is not None:
            raise _fail(ErrorCode.INVALID_REFERENCE, "reference_days goes with days, not hours", self.event_id)

    def effective_on(self, parameters: RightsParameters) -> date:
        return posting_date(self.year, parameters)


@dataclass(frozen=True)
class LegacyCpfHours:
    """CPF hours held on 2018-12-31 (2015–2017 activity), converted to euros on 2019-01-01."""

    event_id: str
    hours: int

    def __post_init__(self) -> None:
        _check_event_id(self.event_id)
        if isinstance(self.hours, bool) or not isinstance(self.hours, int):
            raise _fail(ErrorCode.INVALID_HOURS, "legacy hours must be a whole number", self.event_id)
        _check_quantity(self.hours, "hours", ErrorCode.INVALID_HOURS, self.event_id)

    def effective_on(self, parameters: RightsParameters) -> date:
        return parameters.legacy_conversion_date.at(date(2019, 1, 1))


@dataclass(frozen=True)
class _DatedStatement:
    """A statement that takes effect on its own date and carries nothing else."""

    event_id: str
    on: date

    def __post_init__(self) -> None:
        _check_event_id(self.event_id)
        _check_date(self.on, self.event_id)

    def effective_on(self, parameters: RightsParameters) -> date:
        return self.on


@dataclass(frozen=True)
class LowQualificationDeclared(_DatedStatement):
    """The holder (or their CEP adviser) declared being below a level-3 qualification (R6323-3-1)."""


@dataclass(frozen=True)
class LowQualificationEnded(_DatedStatement):
    """The holder declared they no longer meet the condition (e.g. obtained a CAP)."""


@dataclass(frozen=True)
class Retired(_DatedStatement):
    """The holder met a retirement condition (L5421-4 1°–3°): from then on the CPF is no longer credited
    nor usable (L5151-2); the CEC stays usable (S36)."""


@dataclass(frozen=True)
class DisabilityStatus:
    """The holder had disability status (BOETH, L5212-13) in an activity year."""

    event_id: str
    year: int

    def __post_init__(self) -> None:
        _check_event_id(self.event_id)
        _check_year(self.year, self.event_id)

    def effective_on(self, parameters: RightsParameters) -> date:
        return posting_date(self.year, parameters)


@dataclass(frozen=True)
class DifRegistered:
    """The holder registered DIF hours (acquired before 2015) in the CPF."""

    event_id: str
    hours: int
    on: date

    def __post_init__(self) -> None:
        _check_event_id(self.event_id)
        _check_date(self.on, self.event_id)
        if isinstance(self.hours, bool) or not isinstance(self.hours, int):
            raise _fail(ErrorCode.INVALID_HOURS, "DIF hours must be a whole number", self.event_id)
        _check_quantity(self.hours, "hours", ErrorCode.INVALID_HOURS, self.event_id, positive=True)

    def effective_on(self, parameters: RightsParameters) -> date:
        return self.on


@dataclass(frozen=True)
class CecActivity:
    """A civic-engagement activity of L5151-9 in a year, with the measure its minimum needs."""

    event_id: str
    year: int
    category: CecCategory
    months: Decimal | None = None
    days: Decimal | None = None
    hours: Decimal | None = None
    shifts: int | None = None
    interventions: int | None = None
    hours_by_association: tuple[Decimal, ...] | None = None
    hours_by_host: tuple[Decimal, ...] | None = None
    commitment_signed: bool | None = None
    agreement_minimum_met: bool | None = None

    def __post_init__(self) -> None:
        _check_event_id(self.event_id)
        _check_year(self.year, self.event_id)
        if not isinstance(self.category, CecCategory):
            known = ", ".join(c.value for c in CecCategory)
            raise _fail(
                ErrorCode.UNKNOWN_CEC_CATEGORY,
                f"unknown CEC category {self.category!r}; known: {known}",
                self.event_id,
            )
        for name in ("months", "days", "hours", "shifts", "interventions"):
            value = getattr(self, name)
            if value is not None:  # (most are absent: an event carries the one measure its category needs)
                _check_quantity(value, name, ErrorCode.INVALID_MEASURE, self.event_id, maximum=MAX_HOURS_IN_YEAR)
        for value in self.hours_by_association or ():
            _check_quantity(
                value, "hours_by_association", ErrorCode.INVALID_MEASURE, self.event_id, maximum=MAX_HOURS_IN_YEAR
            )
        for value in self.hours_by_host or ():
            _check_quantity(value, "hours_by_host", ErrorCode.INVALID_MEASURE, self.event_id, maximum=MAX_HOURS_IN_YEAR)

    def effective_on(self, parameters: RightsParameters) -> date:
        return posting_date(self.year, parameters)


@dataclass(frozen=True)
class C2pExposure:
    """Quarters of a year exposed above threshold to ``factors`` risk factors (C2P, L4163-1)."""

    event_id: str
    year: int
    quarters: int
    factors: int

    def __post_init__(self) -> None:
        _check_event_id(self.event_id)
        _check_year(self.year, self.event_id)
        if isinstance(self.quarters, bool) or not isinstance(self.quarters, int) or not 1 <= self.quarters <= 4:
            raise _fail(ErrorCode.INVALID_QUARTERS, f"quarters must be 1 to 4, got {self.quarters!r}", self.event_id)
        if isinstance(self.factors, bool) or not isinstance(self.factors, int) or self.factors < 1:
            raise _fail(ErrorCode.INVALID_FACTORS, f"factors must be 1 or more, got {self.factors!r}", self.event_id)

    def effective_on(self, parameters: RightsParameters) -> date:
        return posting_date(self.year, parameters)


@dataclass(frozen=True)
class C2pPointsUsed:
    """The holder used C2P points for training, part-time work or retirement quarters."""

    event_id: str
    points: int
    use: PointsUse
    on: date

    def __post_init__(self) -> None:
        _check_event_id(self.event_id)
        _check_date(self.on, self.event_id)
        if not isinstance(self.use, PointsUse):
            raise _fail(ErrorCode.UNKNOWN_POINTS_USE, f"unknown use {self.use!r}", self.event_id)
        if isinstance(self.points, bool) or not isinstance(self.points, int) or self.points <= 0:
            raise _fail(
                ErrorCode.INVALID_POINTS,
                f"points must be a positive whole number, got {self.points!r}",
                self.event_id,
            )

    def effective_on(self, parameters: RightsParameters) -> date:
        return self.on


@dataclass(frozen=True)
class Abondement:
    """A top-up paid into the CPF by a third party (L6323-4 II); outside the ceiling (L6323-15)."""

    event_id: str
    amount_eur: Decimal
    payer: str
    on: date

    def __post_init__(self) -> None:
        _check_event_id(self.event_id)
        _check_date(self.on, self.event_id)
        _check_amount(self.amount_eur, "amount_eur", self.event_id, positive=True)
        if not self.payer or not self.payer.strip():
            raise _fail(ErrorCode.INVALID_PAYER, "an abondement needs a payer", self.event_id)

    def effective_on(self, parameters: RightsParameters) -> date:
        return self.on


@dataclass(frozen=True)
class TrainingBooked:
    """A training bought with the rights: debited at once, reserved until cancelled."""

    event_id: str
    booking_id: str
    price_eur: Decimal
    on: date
    participation_exempt: bool = False

    def __post_init__(self) -> None:
        _check_event_id(self.event_id)
        _check_date(self.on, self.event_id)
        _check_amount(self.price_eur, "price_eur", self.event_id, positive=False)
        _check_booking_id(self.booking_id, "a booking", self.event_id)

    def effective_on(self, parameters: RightsParameters) -> date:
        return self.on


@dataclass(frozen=True)
class TrainingStarted:
    """The holder entered the training (or the service — skills assessment, VAE — was delivered): the
    money the booking took is spent. It no longer counts as the holder's, so it leaves the ceiling."""

    event_id: str
    booking_id: str
    on: date

    def __post_init__(self) -> None:
        _check_event_id(self.event_id)
        _check_date(self.on, self.event_id)
        _check_booking_id(self.booking_id, "an entry into training", self.event_id)

    def effective_on(self, parameters: RightsParameters) -> date:
        return self.on


@dataclass(frozen=True)
class TrainingRefunded:
    """Part of what a booking took goes back to the holder's funds (e.g. a training interrupted, the
    organisation returns the unused part); the rest stays taken."""

    event_id: str
    booking_id: str
    amount_eur: Decimal
    on: date

    def __post_init__(self) -> None:
        _check_event_id(self.event_id)
        _check_date(self.on, self.event_id)
        _check_amount(self.amount_eur, "amount_eur", self.event_id, positive=True)
        _check_booking_id(self.booking_id, "a refund", self.event_id)

    def effective_on(self, parameters: RightsParameters) -> date:
        return self.on


@dataclass(frozen=True)
class TrainingCancelled:
    """A booked training was cancelled before it started: what it took goes back where it came from."""

    event_id: str
    booking_id: str
    on: date

    def __post_init__(self) -> None:
        _check_event_id(self.event_id)
        _check_date(self.on, self.event_id)
        _check_booking_id(self.booking_id, "a cancellation", self.event_id)

    def effective_on(self, parameters: RightsParameters) -> date:
        return self.on


RightsEvent = (
    WorkYear
    | LegacyCpfHours
    | LowQualificationDeclared
    | LowQualificationEnded
    | Retired
    | DisabilityStatus
    | DifRegistered
    | CecActivity
    | C2pExposure
    | C2pPointsUsed
    | Abondement
    | TrainingBooked
    | TrainingStarted
    | TrainingRefunded
    | TrainingCancelled
)
