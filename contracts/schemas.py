"""JSON Schemas of the event payloads, as published to partners (``contracts/schemas/``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from contracts.base import EventData
from contracts.topics import CATALOG

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"


def payload_models() -> list[type[EventData]]:
    from contracts import partners  # partner bodies share one topic; each has its own schema

    models: list[type[EventData]] = [t.payload for t in CATALOG if t.payload is not None]
    models.extend(partners.PARTNER_EVENT_MODELS)
    seen: set[str] = set()
    unique = []
    for m in models:
        if m.EVENT_TYPE not in seen:
            seen.add(m.EVENT_TYPE)
            unique.append(m)
    return unique


def schema_of(model: type[EventData]) -> dict[str, Any]:
    schema = model.model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://schemas.moncompteformation.example/{model.EVENT_TYPE}/v{model.SCHEMA_VERSION}.json",
        "x-event-type": model.EVENT_TYPE,
        "x-schema-version": model.SCHEMA_VERSION,
        **schema,
    }


def file_name(model: type[EventData]) -> str:
    return f"{model.EVENT_TYPE}.v{model.SCHEMA_VERSION}.json"


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
