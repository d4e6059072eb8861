"""Partner contracts (``contracts.partners``), their mapping to the domain, and ``BalancesProjected``."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import partners
from contracts.rights import BalancesProjected
from services.rights.domain import (
    DECLARATIONS,
    SAME_DAY_RANK,
    Abondement,
    CecActivity,
    CecCategory,
    ErrorCode,
    Holder,
    HolderRights,
    LegacyCpfHours,
    Nir,
    Retired,
    RightsError,
    RightsEvent,
    TrainingStarted,
    WorkYear,
    YearMonth,
)
from services.rights.use_cases.partner_mapping import (
    TO_DOMAIN,
    balances_to_contract,
    message_to_domain,
    to_domain_event,
)

NIR = "1850375123456"
KEY = f"{97 - int(NIR) % 97:02d}"

BODIES: list[dict[str, Any]] = [
    {"type": "work_year", "year": 2023, "hours": 400},
    {"type": "work_year", "year": 2023, "days": 100, "reference_days": 218},
    {"type": "work_year", "year": 2023, "status": "self_employed", "days_active": 200},
    {"type": "work_year", "year": 2023, "status": "self_employed", "days_active": 200, "cfp_contribution_paid": False},
    {"type": "work_year", "year": 2023, "hours": 400, "apprenticeship": True},
    {"type": "legacy_cpf_hours", "hours": 72},
    {"type": "low_qualification_declared", "date": "2020-03-15"},
    {"type": "low_qualification_ended", "date": "2022-07-01"},
    {"type": "retirement", "date": "2031-07-01"},
    {"type": "disability_status", "year": 2023},
    {"type": "dif_registered", "hours": 90, "date": "2021-06-01"},
    {
        "type": "cec_activity",
        "year": 2022,
        "category": "association_board",
        "hours_by_association": [150, 100],
    },
    {"type": "c2p_exposure", "year": 2024, "quarters": 3, "factors": 2},
    {"type": "c2p_points_used", "points": 20, "use": "training", "date": "2024-03-01"},
    {"type": "abondement", "amount_eur": "3000.00", "payer": "employer", "date": "2024-06-01"},
    {"type": "training_booked", "booking_id": "T1", "price_eur": "800.00", "date": "2024-07-01"},
    {"type": "training_started", "booking_id": "T1", "date": "2024-09-02"},
    {"type": "training_refunded", "booking_id": "T1", "amount_eur": "150.00", "date": "2024-10-01"},
    {"type": "training_cancelled", "booking_id": "T1", "date": "2024-07-02"},
]


@pytest.mark.parametrize("body", BODIES, ids=lambda body: str(body["type"]))
def test_every_partner_body_parses_maps_and_round_trips(body: dict[str, Any]) -> None:
    event = partners.parse_partner_event(body)
    assert event.type == body["type"]
    assert type(event).EVENT_TYPE == f"fr.mcf.rights.{body['type']}"
    assert to_domain_event(event, "e1").event_id == "e1"
    again = partners.parse_partner_event(json.loads(json.dumps(event.model_dump(mode="json"))))
    assert again == event


def test_every_type_has_a_model_and_a_body_here() -> None:
    assert set(partners.PARTNER_TYPES) == {body["type"] for body in BODIES}
    assert len({model.EVENT_TYPE for model in partners.PARTNER_EVENT_MODELS}) == len(partners.PARTNER_TYPES)


def test_each_partner_type_maps_to_its_own_domain_event_and_each_domain_event_has_a_rule_and_a_rank() -> None:
    # One declaration of each type per layer (the contract union, the mapping, the domain table): a
    # type added to one and not the others would be refused or dropped at run time.
    assert set(TO_DOMAIN) == set(partners.PARTNER_EVENT_MODELS)
    mapped = {type(to_domain_event(partners.parse_partner_event(body), "e1")) for body in BODIES}
    assert mapped == {declaration.event for declaration in DECLARATIONS} == set(get_args(RightsEvent))
    assert sorted(SAME_DAY_RANK.values()) == list(range(len(DECLARATIONS)))


@pytest.mark.parametrize(
    ("body", "code", "fragment"),
    [
        ({"type": "bonus_points"}, "unknown_type", "bonus_points"),
        ({"year": 2023}, "missing_type", "type"),
        ({"type": "work_year", "year": 2023, "hours": -4}, "invalid_event", "hours"),
        ({"type": "dif_registered", "hours": 10, "date": "2021-02-30"}, "invalid_event", "date"),
        (
            {"type": "abondement", "amount_eur": 3000, "payer": "x", "date": "2024-01-01"},
            "invalid_event",
            "3000.00",
        ),
        (
            {"type": "abondement", "amount_eur": "30.001", "payer": "x", "date": "2024-01-01"},
            "invalid_event",
            "amount",
        ),
        ({"type": "c2p_exposure", "year": 2024, "quarters": 5, "factors": 1}, "invalid_event", "quarters"),
        (
            {"type": "c2p_points_used", "points": 10, "use": "holiday", "date": "2024-01-01"},
            "invalid_event",
            "use",
        ),
    ],
)
def test_invalid_bodies_have_a_clear_reason(body: dict[str, Any], code: str, fragment: str) -> None:
    with pytest.raises(partners.InvalidPartnerEvent) as caught:
        partners.parse_partner_event(body)
    assert caught.value.code == code
    assert fragment in caught.value.reason


def test_a_datetime_is_not_a_date_for_python_callers_either() -> None:
    # A datetime is a date to isinstance: the wire form's fast path must not let one through (found by
    # review), or a time of day would reach the domain's date keys.
    with pytest.raises(partners.InvalidPartnerEvent) as caught:
        partners.parse_partner_event({"type": "retirement", "date": datetime(2024, 6, 1, 12, 30)})
    assert "date" in caught.value.reason
    retirement = partners.parse_partner_event({"type": "retirement", "date": date(2024, 6, 1)})
    assert isinstance(retirement, partners.Retirement) and retirement.date == date(2024, 6, 1)


def test_topic_message_is_flat_and_carries_nir_and_event_id() -> None:
    message = {"event_id": "ev-1", "nir": NIR, "nir_key": KEY, **next(b for b in BODIES if b["type"] == "abondement")}
    declaration = partners.PartnerDeclaration.from_message(message)
    assert declaration.to_message() == message
    nir, event = message_to_domain(message)
    assert nir.number == NIR
    assert event == Abondement("ev-1", Decimal("3000.00"), "employer", date(2024, 6, 1))


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"nir": "12345"}, partners.InvalidPartnerEvent),
        ({"nir_key": "7"}, partners.InvalidPartnerEvent),
        ({"event_id": ""}, partners.InvalidPartnerEvent),
        (
            {"nir_key": "00" if KEY != "00" else "01"},
            RightsError,
        ),  # shape fine, key wrong: the domain says so
    ],
)
def test_bad_holder_fields_are_refused(change: dict[str, str], error: type[Exception]) -> None:
    message = {"event_id": "ev-1", "nir": NIR, "nir_key": KEY, **BODIES[3], **change}
    with pytest.raises(error):
        message_to_domain(message)


def test_domain_refusal_of_a_well_formed_body() -> None:
    event = partners.parse_partner_event({"type": "legacy_cpf_hours", "hours": 72})
    assert to_domain_event(event, "x") == LegacyCpfHours("x", 72)
    with pytest.raises(RightsError) as caught:
        to_domain_event(partners.parse_partner_event({"type": "work_year", "year": 2023}), "x")
    assert caught.value.code is ErrorCode.MISSING_MEASURE


def test_balances_projected_has_no_nir_and_decimal_strings() -> None:
    rights = HolderRights.replay(
        Holder(YearMonth(1985, 3)), [LegacyCpfHours("l", 72), WorkYear("w", 2023, hours=Decimal(400))]
    )
    contract = balances_to_contract("h-123", rights.balances(), date(2024, 5, 1))
    wire = json.loads(contract.model_dump_json())
    assert wire["cpf"]["rights_eur"] == "1204.46"
    assert wire["cpf"]["ceiling_eur"] == "5000.00"
    assert wire["legacy_hours_converted"] == {"hours": 72, "eur": "1080.00"}
    assert wire["c2p"] == {"points": 0, "reserved_for_training": 0}
    assert NIR not in contract.model_dump_json()
    assert BalancesProjected.model_validate(wire) == contract
    assert BalancesProjected.EVENT_TYPE == "fr.mcf.rights.balances_projected"


@pytest.mark.parametrize("body", BODIES, ids=lambda body: str(body["type"]))
def test_the_mapping_builds_the_same_event_as_its_constructor(body: dict[str, Any]) -> None:
    # The mapping builds events without the dataclass __init__ (events.built): every field set, equal to
    # the event the constructor gives from the same fields.
    event = to_domain_event(partners.parse_partner_event(body), "e1")
    fields = {field.name: getattr(event, field.name) for field in dataclasses.fields(event)}
    assert vars(event) == fields
    assert type(event)(**fields) == event


_ON = date(2024, 6, 1)


@pytest.mark.parametrize(
    ("body", "event_id", "direct", "code"),
    [
        # What the contract lets through and the domain refuses: built by the mapping (events.built) or
        # by the constructor from the same values, the event is refused alike.
        ({"type": "work_year", "year": 2023}, "e1", lambda: WorkYear("e1", 2023), ErrorCode.MISSING_MEASURE),
        (
            {"type": "work_year", "year": 2023, "hours": 9000},
            "e1",
            lambda: WorkYear("e1", 2023, hours=Decimal(9000)),
            ErrorCode.INVALID_HOURS,
        ),
        (
            {"type": "work_year", "year": 2023, "hours": 400, "cfp_contribution_paid": True},
            "e1",
            lambda: WorkYear("e1", 2023, hours=Decimal(400), cfp_contribution_paid=True),
            ErrorCode.INVALID_STATUS,
        ),
        ({"type": "legacy_cpf_hours", "hours": 72}, "  ", lambda: LegacyCpfHours("  ", 72), ErrorCode.INVALID_EVENT_ID),
        (
            {"type": "abondement", "amount_eur": "0.00", "payer": "x", "date": "2024-06-01"},
            "e1",
            lambda: Abondement("e1", Decimal("0.00"), "x", _ON),
            ErrorCode.INVALID_AMOUNT,
        ),
        (
            {"type": "abondement", "amount_eur": "1.00", "payer": " ", "date": "2024-06-01"},
            "e1",
            lambda: Abondement("e1", Decimal("1.00"), " ", _ON),
            ErrorCode.INVALID_PAYER,
        ),
        (
            {"type": "training_started", "booking_id": " ", "date": "2024-06-01"},
            "e1",
            lambda: TrainingStarted("e1", " ", _ON),
            ErrorCode.INVALID_BOOKING_ID,
        ),
        (
            {"type": "retirement", "date": "0001-01-01"},
            "e1",
            lambda: Retired("e1", date(1, 1, 1)),
            ErrorCode.INVALID_DATE,
        ),
        (
            {"type": "cec_activity", "year": 2022, "category": "carer", "hours": 9000},
            "e1",
            lambda: CecActivity("e1", 2022, CecCategory.CARER, hours=Decimal(9000)),
            ErrorCode.INVALID_MEASURE,
        ),
    ],
)
def test_the_mapping_and_the_constructor_refuse_the_same_values(
    body: dict[str, Any], event_id: str, direct: Callable[[], RightsEvent], code: ErrorCode
) -> None:
    with pytest.raises(RightsError) as mapped:
        to_domain_event(partners.parse_partner_event(body), event_id)
    with pytest.raises(RightsError) as constructed:
        direct()
    assert mapped.value.code is constructed.value.code is code
    assert str(mapped.value) == str(constructed.value)


@st.composite
def _holder_fields(draw: st.DrawFn) -> tuple[str, str]:
    number = draw(st.one_of(st.from_regex(r"[0-9]{5}([0-9]{2}|2[AB])[0-9]{6}", fullmatch=True), st.text(max_size=14)))
    digits = number.replace("2A", "19").replace("2B", "18")
    right = f"{97 - int(digits) % 97:02d}" if digits.isascii() and digits.isdigit() else "00"
    return number, draw(st.one_of(st.just(right), st.text(max_size=3)))


def _nir_outcome(parse: Callable[[str, str], Nir], number: str, key: str) -> object:
    try:
        return parse(number, key)
    except RightsError as refused:
        return (refused.code, str(refused))


@given(_holder_fields())
@settings(max_examples=300, deadline=None)
def test_a_nir_the_contract_lets_through_is_judged_as_nir_parse_judges_it(fields: tuple[str, str]) -> None:
    # The mapping checks only the first digit and the key (Nir.parse_well_formed): the contract's
    # patterns matched the rest. Whatever the contract lets through, the verdict is Nir.parse's.
    number, key = fields
    message = {"event_id": "e", "nir": number, "nir_key": key, "type": "legacy_cpf_hours", "hours": 1}
    try:
        declaration = partners.PartnerDeclaration.from_message(message)
    except partners.InvalidPartnerEvent:
        return  # (refused before the domain: invalid_holder)
    assert _nir_outcome(Nir.parse_well_formed, declaration.nir, declaration.nir_key) == _nir_outcome(
        Nir.parse, number, key
    )
