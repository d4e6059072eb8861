"""The partner-inbound topic's published contract (issue 14, point 3): a ``oneOf`` discriminated by
``type``, one message per declaration, each with the holder and delivery fields, generated from the
models in ``contracts.partners`` and kept in step with them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter, ValidationError

from contracts import partner_topic, partners
from contracts.compat import breaking_changes
from contracts.schemas import SCHEMA_DIR

ROOT = Path(__file__).resolve().parents[2]
DELIVERY_FIELDS = {"event_id", "nir", "nir_key"}
NIR = "1850375123456"
KEY = f"{97 - int(NIR) % 97:02d}"


def _payload() -> tuple[dict[str, Any], dict[str, Any]]:
    document = yaml.safe_load((ROOT / "contracts" / "asyncapi" / "rights.yaml").read_text())
    schemas: dict[str, Any] = document["components"]["schemas"]
    message = document["components"]["messages"]["rights:rights.partner-declarations.v1:SubscribeMessage"]
    ref = message["payload"]["$ref"].removeprefix("#/components/schemas/")
    return schemas[ref], schemas


def test_the_published_payload_is_a_one_of_by_type_with_every_declaration() -> None:
    payload, schemas = _payload()
    assert payload["discriminator"] == "type"
    branches = [schemas[ref["$ref"].removeprefix("#/components/schemas/")] for ref in payload["oneOf"]]
    types = [branch["properties"]["type"]["const"] for branch in branches]
    assert sorted(types) == sorted(partners.PARTNER_TYPES)
    by_type = {str(m.model_fields["type"].default): m for m in partners.PARTNER_EVENT_MODELS}
    for kind, branch in zip(types, branches, strict=True):
        body_fields = set(by_type[kind].model_fields)
        assert set(branch["properties"]) == body_fields | DELIVERY_FIELDS, kind
        assert DELIVERY_FIELDS <= set(branch["required"]), kind
        assert branch["additionalProperties"] is False, kind


def test_each_topic_message_is_its_declaration_plus_the_holder_and_delivery_fields() -> None:
    by_type = {str(m.model_fields["type"].default): m for m in partners.PARTNER_EVENT_MODELS}
    assert len(partner_topic.MESSAGE_MODELS) == len(by_type)
    for message in partner_topic.MESSAGE_MODELS:
        declaration = by_type[str(message.model_fields["type"].default)]
        assert issubclass(message, declaration)
        assert set(message.model_fields) == set(declaration.model_fields) | DELIVERY_FIELDS


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        ({"type": "work_year", "year": 2023, "hours": 1607}, True),
        ({"type": "training_refunded", "booking_id": "T", "amount_eur": "10.00", "date": "2025-01-02"}, True),
        ({"type": "work_year", "year": 2023, "hours": 1607, "reference_hour": 1500}, False),
        ({"type": "work_year", "year": 2023, "hours": "1607"}, False),
        ({"type": "dif_registered", "hours": 10, "date": "2021-02-30"}, False),
    ],
)
def test_the_published_model_and_the_services_reader_agree(body: dict[str, Any], valid: bool) -> None:
    message = {"event_id": "e1", "nir": NIR, "nir_key": KEY, **body}
    published: TypeAdapter[Any] = TypeAdapter(partner_topic.PartnerMessage)
    try:
        published.validate_python(message)
        published_ok = True
    except ValidationError:
        published_ok = False
    try:
        partners.PartnerDeclaration.from_message(message)
        reader_ok = True
    except partners.InvalidPartnerEvent:
        reader_ok = False
    assert published_ok is reader_ok is valid


def test_every_new_schema_version_stays_compatible_with_the_previous_one() -> None:
    # work_year v2 adds optional fields only: partners' v1 producers and consumers keep working.
    checked = 0
    for path in sorted(SCHEMA_DIR.glob("*.v*.json")):
        name, version = path.name.removesuffix(".json").rsplit(".v", 1)
        previous = SCHEMA_DIR / f"{name}.v{int(version) - 1}.json"
        if previous.exists():
            assert breaking_changes(json.loads(previous.read_text()), json.loads(path.read_text())) == [], path.name
            checked += 1
    assert checked >= 1
