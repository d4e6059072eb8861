"""Contract tests: what partner systems and our own services integrate against must not drift or break."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import Field, create_model

from contracts import topics
from contracts.base import EventData
from contracts.compat import breaking_changes
from contracts.envelope import Envelope, EnvelopeError
from contracts.registration import MailRequested
from contracts.schemas import SCHEMA_DIR, file_name, payload_models, schema_of

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("registration", "captcha", "mailer", "rights")
PERSONAL_FIELDS = {
    "nir",
    "nir_key",
    "email",
    "first_name",
    "birth_name",
    "phone_landline",
    "phone_mobile",
    "address",
    "password",
    "password_hash",
}


def test_committed_schemas_asyncapi_and_topic_docs_match_the_code() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/generate_contracts.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("model", payload_models(), ids=lambda m: m.EVENT_TYPE)
def test_every_payload_stays_compatible_with_its_published_schema(model: type[EventData]) -> None:
    published = json.loads((SCHEMA_DIR / file_name(model)).read_text())
    assert breaking_changes(published, schema_of(model)) == []


def test_the_compatibility_check_refuses_what_would_break_a_consumer() -> None:
    base = schema_of(MailRequested)
    fields = {name: (info.annotation, info) for name, info in MailRequested.model_fields.items()}

    without_to = {k: v for k, v in fields.items() if k != "to"}
    removed = create_model("Removed", __base__=EventData, **without_to).model_json_schema()  # type: ignore[call-overload]
    assert "field to was removed" in breaking_changes(base, removed)

    retyped = create_model("Retyped", __base__=EventData, **{**fields, "mail_id": (int, ...)})  # type: ignore[call-overload]
    assert any("mail_id changed type" in p for p in breaking_changes(base, retyped.model_json_schema()))

    required = create_model("Required", __base__=EventData, **{**fields, "new": (str, ...)})  # type: ignore[call-overload]
    assert "field new became required" in breaking_changes(base, required.model_json_schema())

    optional = create_model("Optional", __base__=EventData, **{**fields, "new": (str | None, Field(default=None))})  # type: ignore[call-overload]
    assert breaking_changes(base, optional.model_json_schema()) == []

    narrowed = json.loads(json.dumps(base))
    narrowed["properties"]["kind"]["enum"] = ["confirmation"]
    assert any("lost enumeration values" in p for p in breaking_changes(base, narrowed))


def test_envelope_travels_as_cloudevents_binary_headers() -> None:
    event = MailRequested(
        mail_id="confirmation:r1:first",
        kind="confirmation",
        to="a@example.org",
        first_name="Léa",
        holder_id="h" * 64,
        subject_id="r1",
        link_expires_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    env = Envelope.for_event(event, producer="registration", correlation_id="r1")
    headers = env.to_headers()
    assert headers["ce_specversion"] == "1.0" and headers["ce_type"] == event.EVENT_TYPE
    assert headers["ce_source"] == "/mcf/registration" and headers["content-type"] == "application/json"
    # CloudEvents attribute names: lower-case letters and digits only.
    assert all(k.removeprefix("ce_").isalnum() and k.islower() for k in headers if k.startswith("ce_"))
    assert Envelope.from_headers({k: v.encode() for k, v in headers.items()}) == env
    with pytest.raises(EnvelopeError):
        Envelope.from_headers({k: v for k, v in headers.items() if k != "ce_id"})
    with pytest.raises(EnvelopeError):
        Envelope.from_headers({**headers, "ce_time": "yesterday"})


def test_partner_readable_topics_carry_no_personal_data() -> None:
    for spec in topics.CATALOG:
        if spec.audience is topics.Audience.PARTNER_READ:
            assert spec.payload is not None
            schema = json.dumps(schema_of(spec.payload))
            leaked = [f for f in PERSONAL_FIELDS if f'"{f}"' in schema]
            assert leaked == [], f"{spec.name} exposes {leaked}"


def _field_names(schema: object) -> set[str]:
    if isinstance(schema, dict):
        own = set(schema.get("properties", {})) if isinstance(schema.get("properties"), dict) else set()
        return own.union(*(_field_names(v) for v in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_field_names(v) for v in schema))
    return set()


def test_no_event_has_a_password_field_and_only_registration_reads_its_private_state() -> None:
    for model in payload_models():
        assert not any("password" in name and "reset" not in name for name in _field_names(schema_of(model)))
    assert topics.ACCOUNT_STATE.consumers == ("registration",)
    assert topics.ACCOUNT_STATE.audience is topics.Audience.INTERNAL


def _subscriptions(service: str) -> set[str]:
    runtime, _app = importlib.import_module(f"services.{service}.app.main").build()
    return {name for sub in runtime.broker.subscribers for name in sub.topic_names}


@pytest.mark.parametrize("service", SERVICES)
def test_what_each_service_subscribes_to_is_what_the_catalog_says(service: str) -> None:
    # A service's own private journal (its state topic) is replayed to rebuild Redis, not subscribed to.
    declared = {t.name for t in topics.CATALOG if service in t.consumers and t.producer != service}
    assert _subscriptions(service) == declared


def test_every_payload_topic_has_a_producer_and_every_consumed_topic_a_dead_letter_topic() -> None:
    names = {t.name for t in topics.physical_topics()}
    for spec in topics.CATALOG:
        assert spec.producer in (*SERVICES, "partners")
        if spec.with_dlq:
            assert spec.dlq in names
        for consumer in spec.consumers:
            assert consumer in (*SERVICES, "partners")
