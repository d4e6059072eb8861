"""Bodies of the partner-inbound declarations (topic ``rights.partner-declarations.v1``).

(Over 300 lines on purpose: the contract partners generate clients from declares every body here, one
model each, next to the envelope fields they share.)

Employers' social declarations, the prevention fund, civic-engagement validators and training
marketplaces tell the rights service what a holder acquired or spent. Every body is JSON with a
``type`` field naming the declaration (``work_year``, ``abondement``…); the same bodies, without the
holder fields, are the events of the ``cpf-rights simulate`` input.

On the Kafka topic each message body is **flat**: the declaration's fields plus the holder and
delivery fields of :class:`PartnerDeclaration`::

    {"event_id": "9b1c…", "nir": "1850375123456", "nir_key": "42",
     "type": "abondement", "amount_eur": "3000.00", "payer": "employer", "date": "2024-06-01"}

Amounts in euros are decimal **strings** with at most two decimals (``"3000.00"``); hours, days and
points are JSON numbers; dates are ``YYYY-MM-DD`` strings. Every model is **strict**: an unknown field,
a number sent as a string or a boolean sent as a number is refused with the field's name (a misspelt
field silently ignored would change the result). Events about an activity ``year`` take effect on
30 April of the next year, ``legacy_cpf_hours`` on 2019-01-01, the others on their ``date``.
Personal data: the NIR (identifies the holder) and what they acquired or spent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date as Date
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    PlainSerializer,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import CoreSchema, core_schema

from contracts import strict_json
from contracts.base import EventData

_EURO_PATTERN = r"^[0-9]{1,9}(\.[0-9]{1,2})?$"
_EURO = re.compile(_EURO_PATTERN)

# Amounts and dates have a Python parser that says exactly what it accepts and why it refuses the rest.
# Their usual wire form is also read in pydantic-core (Rust), which gives the same value without a call
# into Python (0.7-0.9 us a field, measured); any other input goes to the parser. A refusal is raised as
# the parser's error type and its reason is the parser's own (``_problem``), word for word. (Quantities
# keep their parser alone: read in Rust, a JSON integer measured no faster.)
_PARSERS: dict[str, Callable[[object], object]] = {}


@dataclass(frozen=True)
class _ReadInRustFirst:
    error_type: str  # the pydantic error type a refusal is raised with
    wire_form: Callable[[], CoreSchema]  # accepts only what ``parser`` accepts, and gives the same value
    parser: Callable[[object], object]

    def __get_pydantic_core_schema__(self, source: object, handler: GetCoreSchemaHandler) -> CoreSchema:
        _PARSERS[self.error_type] = self.parser
        return core_schema.union_schema(
            [self.wire_form(), core_schema.no_info_plain_validator_function(self.parser)],
            mode="left_to_right",
            custom_error_type=self.error_type,
            custom_error_message="refused by the parser",  # (replaced by the parser's reason in _problem)
        )


def _parser_reason(error_type: str, value: object) -> str | None:
    """Why the parser of ``error_type`` refuses ``value`` (its ValueError's message)."""
    try:
        _PARSERS[error_type](value)
    except ValueError as refused:
        return str(refused)
    return None


def _parse_euro(value: object) -> Decimal:
    if type(value) is str and _EURO.fullmatch(value):  # the wire form: the pattern says all the rest
        return Decimal(value)
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str) and _EURO.fullmatch(value):
        amount = Decimal(value)
    else:
        raise ValueError(f"an amount is a decimal string like '3000.00' (≥ 0, at most 2 decimals), got {value!r}")
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"an amount is ≥ 0 with at most 2 decimals, got {value!r}")
    return amount


def _format_euro(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01')):f}"


EuroAmount = Annotated[
    Decimal,
    _ReadInRustFirst(
        "euro_amount",
        lambda: core_schema.chain_schema(
            [core_schema.str_schema(strict=True, pattern=_EURO_PATTERN), core_schema.decimal_schema(strict=False)]
        ),
        _parse_euro,
    ),
    PlainSerializer(_format_euro, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": _EURO_PATTERN, "examples": ["3000.00"]}),
]
"""Euros as a decimal string with two decimals on the wire, ``Decimal`` in Python."""


def _parse_quantity(value: object) -> Decimal:
    if type(value) is int and value >= 0:  # the common case (a bool's type is bool, not int)
        return Decimal(value)
    if isinstance(value, bool):
        raise ValueError("a quantity is a JSON number, not a boolean")
    if isinstance(value, int | Decimal):
        quantity = Decimal(value)
    elif isinstance(value, float):
        quantity = Decimal(repr(value))
    else:
        raise ValueError(f"a quantity is a JSON number, got {type(value).__name__} {value!r}"[:200])
    if not quantity.is_finite() or quantity < 0:
        raise ValueError(f"a quantity is a number ≥ 0, got {value!r}")
    return quantity


def _format_quantity(quantity: Decimal) -> int | float:
    return int(quantity) if quantity == quantity.to_integral_value() else float(quantity)


Quantity = Annotated[
    Decimal,
    BeforeValidator(_parse_quantity),
    PlainSerializer(_format_quantity, return_type=float, when_used="json"),
    WithJsonSchema({"type": "number", "minimum": 0}),
]
"""Hours, days or months: a JSON number ≥ 0 (decimals allowed), ``Decimal`` in Python."""

_ISO_DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_ISO_DATE = re.compile(_ISO_DATE_PATTERN)


def _parse_date(value: object) -> Date:
    if type(value) is Date:  # (not a datetime, which is a date too)
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError(f"a date is a string YYYY-MM-DD, got {value!r}"[:200])
    try:
        return Date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a calendar date") from None


IsoDate = Annotated[
    Date,
    _ReadInRustFirst(
        "iso_date",
        lambda: core_schema.chain_schema(
            [core_schema.str_schema(strict=True, pattern=_ISO_DATE_PATTERN), core_schema.date_schema(strict=False)]
        ),
        _parse_date,
    ),
    PlainSerializer(Date.isoformat, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date", "examples": ["2024-06-01"]}),
]
"""A calendar date, ``YYYY-MM-DD`` on the wire."""

WorkStatus = Literal["employee", "self_employed", "esat", "public_a_b", "public_c_unqualified"]
CecCategory = Literal[
    "civic_service",
    "military_reserve",
    "police_operational_reserve",
    "defence_citizen_reserve",
    "municipal_civil_security_reserve",
    "education_citizen_reserve",
    "police_citizen_reserve",
    "civic_reserve",
    "health_reserve",
    "apprentice_master",
    "association_board",
    "carer",
    "volunteer_firefighter",
]
Year = Annotated[int, Field(ge=1900, le=2199, description="calendar year of the activity")]


class _Partner(EventData):
    # Strict: a misspelt field, a number sent as a string, a boolean for a number is refused with the
    # field's name, never ignored or converted (a silently ignored field changes the result).
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, strict=True)


class WorkYear(_Partner):
    """Time worked and counted in a year (leave the law counts is included by the declarant)."""

    EVENT_TYPE: ClassVar[str] = "fr.mcf.rights.work_year"
    SCHEMA_VERSION: ClassVar[int] = 2
    type: Literal["work_year"] = "work_year"
    year: Year
    status: WorkStatus = "employee"
    hours: Quantity | None = Field(default=None, description="hours worked (employee)")
    reference_hours: Quantity | None = Field(default=None, description="agreed full-time hours; default 1607")
    days: Quantity | None = Field(default=None, description="days worked under a forfait-jours")
    reference_days: Quantity | None = Field(default=None, description="days of the forfait (at most 218)")
    days_active: int | None = Field(default=None, ge=0, le=366, description="self-employed: days of activity")
    # Added in version 2 (optional: a v1 body means the same as before).
    cfp_contribution_paid: bool | None = Field(
        default=None,
        description="self-employed: was the CFP contribution paid for that year (L6323-27)? false: no credit; "
        "absent: taken as paid",
    )
    apprenticeship: bool | None = Field(
        default=None,
        description="was the work under an apprenticeship contract? false for a holder under 16 that year: no "
        "credit (L5151-2); absent: counted as before",
    )


class LegacyCpfHours(_Partner):
    """CPF hours held on 2018-12-31, converted at 15 €/h on 2019-01-01."""

    EVENT_TYPE: ClassVar[str] = "fr.mcf.rights.legacy_cpf_hours"
    type: Literal["legacy_cpf_hours"] = "legacy_cpf_hours"
    hours: int = Field(ge=0)


class LowQualificationDeclared(_Partner):
    EVENT_TYPE: ClassVar[str] = "fr.mcf.rights.low_qualification_declared"
    type: Literal["low_qualification_declared"] = "low_qualification_declared"
    date: IsoDate


class LowQualificationEnded(_Partner):
    EVENT_TYPE: ClassVar[str] = "fr.mcf.rights.low_qualification_ended"
    type: Literal["low_qualification_ended"] = "low_qualification_ended"
    date: IsoDate


class Retirement(_Partner):
    """The holder met a retirement condition (full-rate pension or age, L5421-4 1°–3°): from that date the
    CPF is no longer credited nor usable; the CEC stays usable (L5151-2)."""

    EVENT_TYPE: ClassVar[str] = "fr.mcf.rights.retirement"
    type: Literal["retirement"] = "retirement"
    date: IsoDate


class DisabilityStatus(_Partner):
    """The holder had disability status (BOETH) in that activity year."""

    EVENT_TYPE: ClassVar[str] = "fr.mcf.rights.disability_status"
    type: Literal["disability_status"] = "disability_status"
    year: Year


class DifRegistered(_Partner):
    """DIF hours registered by the holder (at most 120 h; refused after 2021-06-30)."""

    EVENT_TYPE: ClassVar[str] = "fr.mcf.rights.dif_registered"
    type: Literal["dif_registered"] = "dif_registered"
    hours: int = Field(gt=0)
    date: IsoDate


class CecActivity(_Partner):
    """A civic-engagement activity (L5151-9) in a year, with the measure its minimum needs:
    ``months`` (civic_service, apprentice_master), ``days`` (military_reserve, health_reserve),
    ``shifts`` (police_operational_reserve), ``interventions`` (education_citizen_reserve), ``hours``
    (police_citizen_reserve), ``hours_by_association`` (association_board), ``hours_by_host``
    (civic_reserve), ``commitment_signed`` that year (volunteer_firefighter, defence_citizen_reserve,
    municipal_civil_security_reserve), ``agreement_minimum_met`` (carer)."""

    EVENT_TYPE: ClassVar[str] = "fr.mcf.rights.cec_activity"
    type: Literal["cec_activity"] = "cec_activity"
    year: Year
    category: CecCategory
    months: Quantity | None = None
    days: Quantity | None = None
    hours: Quantity | None = None
    shifts: int | None = Field(default=None, ge=0)
    interventions: int | None = Field(default=None, ge=0)
    hours_by_association: list[Quantity] | None = None
    hours_by_host: list[Quantity] | None = None
    commitment_signed: bool | None = None
    agreement_minimum_met: bool | None = None


class C2pExposure(_Partner):
    """Quarters of a year exposed above threshold to ``factors`` risk factors."""

    EVENT_TYPE: ClassVar[str] = "fr.mcf.rights.c2p_exposure"
    type: Literal["c2p_exposure"] = "c2p_exposure"
    year: Year
    quarters: int = Field(ge=1, le=4)
    factors: int = Field(ge=1, le=10)


class C2pPointsUsed(_Partner):
    EVENT_TYPE: ClassVar[str] = "fr.mcf.rights.c2p_points_used"
    type: Literal["c2p_points_used"] = "c2p_points_used"
    points: int = Field(gt=0, le=10_000)
    use: Literal["training", "part_time", "retirement"]
    date: IsoDate


class Abondement(_Partner):
    """A top-up paid into the CPF (employer, OPCO, State, region, France Travail, Agefiph…)."""

    EVENT_TYPE: ClassVar[str] = "fr.mcf.rights.abondement"
    type: Literal["abondement"] = "abondement"
    amount_eur: EuroAmount
    payer: str = Field(min_length=1, max_length=100)
    date: IsoDate


class TrainingBooked(_Partner):
    """A training bought with the rights; ``participation_exempt`` when no flat co-payment is due."""

    EVENT_TYPE: ClassVar[str] = "fr.mcf.rights.training_booked"
    type: Literal["training_booked"] = "training_booked"
    booking_id: str = Field(min_length=1, max_length=200)
    price_eur: EuroAmount
    date: IsoDate
    participation_exempt: bool = False


class TrainingStarted(_Partner):
    """The holder entered the training (or the service was delivered): the money it took is spent."""

    EVENT_TYPE: ClassVar[str] = "fr.mcf.rights.training_started"
    type: Literal["training_started"] = "training_started"
    booking_id: str = Field(min_length=1, max_length=200)
    date: IsoDate


class TrainingRefunded(_Partner):
    """Part of what a booking took is given back to the holder's rights (e.g. training interrupted)."""

    EVENT_TYPE: ClassVar[str] = "fr.mcf.rights.training_refunded"
    type: Literal["training_refunded"] = "training_refunded"
    booking_id: str = Field(min_length=1, max_length=200)
    amount_eur: EuroAmount
    date: IsoDate


class TrainingCancelled(_Partner):
    """A booking cancelled before the training started: everything it took goes back."""

    EVENT_TYPE: ClassVar[str] = "fr.mcf.rights.training_cancelled"
    type: Literal["training_cancelled"] = "training_cancelled"
    booking_id: str = Field(min_length=1, max_length=200)
    date: IsoDate


PartnerEvent = Annotated[
    WorkYear
    | LegacyCpfHours
    | LowQualificationDeclared
    | LowQualificationEnded
    | Retirement
    | DisabilityStatus
    | DifRegistered
    | CecActivity
    | C2pExposure
    | C2pPointsUsed
    | Abondement
    | TrainingBooked
    | TrainingStarted
    | TrainingRefunded
    | TrainingCancelled,
    Field(discriminator="type"),
]

# The declaration types are listed once, in the union above; everything else is derived from it.
PARTNER_EVENT_MODELS: tuple[type[EventData], ...] = get_args(get_args(PartnerEvent)[0])
PARTNER_TYPES: tuple[str, ...] = tuple(str(m.model_fields["type"].default) for m in PARTNER_EVENT_MODELS)

_EVENT_ADAPTER: TypeAdapter[PartnerEvent] = TypeAdapter(PartnerEvent)


class InvalidPartnerEvent(ValueError):
    """A body that is not a valid partner declaration. ``code`` is stable; ``reason`` says why."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


def _problem(item: Any, models: Mapping[str, type[BaseModel]]) -> str:
    where = ".".join(str(part) for part in item["loc"][1:]) or "body"
    if item["type"] == "extra_forbidden":
        model = models.get(str(item["loc"][0]))
        known = ", ".join(model.model_fields) if model is not None else ""
        return f"{where}: unknown field" + (f" (a {item['loc'][0]} has: {known})" if known else "")
    reason = _parser_reason(item["type"], item["input"]) if item["type"] in _PARSERS else None
    message = reason or str(item["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}"


_MODELS_BY_TYPE: Mapping[str, type[BaseModel]] = {str(m.model_fields["type"].default): m for m in PARTNER_EVENT_MODELS}


def _describe(errors: list[Any]) -> InvalidPartnerEvent:
    """The declaration's errors (``loc`` from the union's tag on) as one refusal."""
    first = errors[0]
    if first["type"] == "union_tag_invalid":
        tag = first.get("ctx", {}).get("tag")
        return InvalidPartnerEvent(
            "unknown_type", f"unknown declaration type {tag!r}; expected one of: {', '.join(PARTNER_TYPES)}"
        )
    if first["type"] == "union_tag_not_found":
        return InvalidPartnerEvent("missing_type", "the body has no 'type' field")
    return InvalidPartnerEvent("invalid_event", "; ".join(_problem(item, _MODELS_BY_TYPE) for item in errors))


def parse_partner_event(obj: Mapping[str, Any]) -> PartnerEvent:
    """Validate one declaration body (``{"type": ..., ...}``); :class:`InvalidPartnerEvent` if invalid."""
    if not isinstance(obj, Mapping):
        raise InvalidPartnerEvent("invalid_event", "a declaration is a JSON object")
    try:
        return _EVENT_ADAPTER.validate_python(dict(obj))
    except ValidationError as error:
        raise _describe(error.errors()) from None


_NIR_PATTERN = r"^[0-9]{5}(?:[0-9]{2}|2[AB])[0-9]{6}$"


class PartnerDeclaration(BaseModel):
    """One message of ``rights.partner-declarations.v1``: who (NIR + key), which delivery (event_id), what.

    The wire form is flat (see the module docstring): use :meth:`from_message` / :meth:`to_message`.
    The NIR's shape is checked here (the rights domain relies on it: ``Nir.parse_well_formed`` checks only
    the first digit and the key); its key is checked by the rights domain.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    event_id: str = Field(min_length=1, max_length=200, description="unique per declaration; redeliveries repeat it")
    nir: str = Field(pattern=_NIR_PATTERN, description="13 characters (personal data)")
    nir_key: str = Field(pattern=r"^[0-9]{2}$")
    declaration: PartnerEvent

    @classmethod
    def from_message(cls, obj: Mapping[str, Any]) -> PartnerDeclaration:
        if not isinstance(obj, Mapping):
            raise InvalidPartnerEvent("invalid_event", "a declaration is a JSON object")
        return cls._from_own_dict(dict(obj))

    @classmethod
    def _from_own_dict(cls, body: dict[str, Any]) -> PartnerDeclaration:
        """``from_message`` for a dict nobody else holds (a freshly parsed document): taken apart in place."""
        message = {
            "event_id": body.pop("event_id", None),
            "nir": body.pop("nir", None),
            "nir_key": body.pop("nir_key", None),
            "declaration": body,  # the rest: validated as one of the union's bodies, by its tag
        }
        try:  # one validation pass: the holder fields and the declaration
            return cls.__pydantic_validator__.validate_python(message)  # type: ignore[no-any-return]
        except ValidationError as error:
            errors = error.errors()
        # The declaration's problems first, as when it is validated alone (parse_partner_event).
        in_declaration = [{**e, "loc": e["loc"][1:]} for e in errors if e["loc"][:1] == ("declaration",)]
        if in_declaration:
            raise _describe(in_declaration) from None
        problems = [
            f"{'.'.join(str(p) for p in e['loc'])}: {'missing' if e['input'] is None else e['msg']}" for e in errors
        ]
        raise InvalidPartnerEvent("invalid_holder", "; ".join(problems)) from None

    @classmethod
    def from_bytes(cls, raw: bytes) -> PartnerDeclaration:
        """A topic message's value, parsed as strict JSON (no duplicate keys, no 40-digit numbers…)."""
        try:
            document = strict_json.loads(raw)
        except strict_json.InvalidJson as error:
            raise InvalidPartnerEvent("invalid_json", error.reason) from None
        if type(document) is dict:  # (strict_json builds plain dicts: this one is ours, no copy needed)
            return cls._from_own_dict(document)
        return cls.from_message(document)

    def to_message(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "nir": self.nir,
            "nir_key": self.nir_key,
            **self.declaration.model_dump(mode="json", exclude_none=True),
        }
