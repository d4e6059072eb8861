"""Regenerate what partners integrate against, from the code: ``make contracts``.

- ``contracts/schemas/<type>.v<N>.json``: one JSON Schema per event payload and version. A version file
  that exists is never overwritten with an incompatible schema: a breaking change needs a new topic.
- ``contracts/asyncapi/<service>.yaml``: the AsyncAPI 3 document of each service, built by FastStream
  from the service's real broker (its subscribers and publishers), without connecting to Kafka.
- ``contracts/openapi/<service>.json``: the OpenAPI document of each public JSON API, from the FastAPI app
  (the fuzz test in ``tests/integration/test_api_fuzz.py`` runs against the committed file).
- ``docs/topics.md``: the topic catalog as a table.

``--check`` writes nothing and exits 1 when a committed file differs from what the code generates
(the contract drift test runs it).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path

import yaml
from faststream.specification import AsyncAPI

from contracts.compat import breaking_changes
from contracts.schemas import SCHEMA_DIR, file_name, payload_models, render, schema_of
from contracts.topics import CATALOG, physical_topics

ROOT = Path(__file__).resolve().parents[1]
ASYNCAPI_DIR = ROOT / "contracts" / "asyncapi"
OPENAPI_DIR = ROOT / "contracts" / "openapi"
SERVICES = ("registration", "captcha", "mailer", "rights")
OPENAPI_SERVICES = ("registration",)  # the holder-facing JSON API under /api/v1


def expected_files() -> dict[Path, str]:
    # The documents name the production bootstrap address, whatever this machine's environment says.
    os.environ["MCF_KAFKA_BOOTSTRAP_SERVERS"] = "mcf-kafka-bootstrap:9093"
    files: dict[Path, str] = {}
    for model in payload_models():
        files[SCHEMA_DIR / file_name(model)] = render(schema_of(model))
    for name in SERVICES:
        module = importlib.import_module(f"services.{name}.app.main")
        runtime, app = module.build()
        if name in OPENAPI_SERVICES:
            files[OPENAPI_DIR / f"{name}.json"] = (
                json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
            )
        spec = AsyncAPI(
            runtime.broker,
            title=f"Mon Compte Formation: {name}",
            version="1.0.0",
            description=f"Kafka topics the {name} service subscribes to and publishes. "
            "Envelope in CloudEvents binary-mode headers (ce_*); payload JSON as below.",
        )
        # FastStream's channel order follows set iteration: sort keys so the file is stable.
        document = yaml.safe_load(spec.to_specification().to_yaml())
        files[ASYNCAPI_DIR / f"{name}.yaml"] = yaml.safe_dump(document, sort_keys=True, allow_unicode=True, width=110)
    files[ROOT / "docs" / "topics.md"] = topics_markdown()
    return files


def topics_markdown() -> str:
    lines = [
        "# Topics",
        "",
        "Generated from `contracts/topics.py` by `make contracts`; do not edit by hand.",
        "Every consumed topic has a dead-letter topic `<name>.dlq` (30 days) for poison messages.",
        "",
        "| topic | payload | key | producer | consumers | audience | personal data | retention |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for t in CATALOG:
        payload = t.payload.EVENT_TYPE if t.payload else "see contracts/partners.py"
        retention = (
            "compacted"
            if t.compacted
            else ("forever" if t.retention_ms is None else f"{t.retention_ms // 86_400_000} days")
        )
        lines.append(
            f"| `{t.name}` | `{payload}` | {t.key} | {t.producer} | {', '.join(t.consumers)} | "
            f"{t.audience.value} | {t.personal_data} | {retention} |"
        )
    lines += ["", f"{len(physical_topics())} topics in all, dead-letter topics included.", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    drift: list[str] = []
    for path, content in expected_files().items():
        current = path.read_text() if path.exists() else None
        if current == content:
            continue
        if path.parent == SCHEMA_DIR and current is not None:
            problems = breaking_changes(json.loads(current), json.loads(content))
            if problems:
                print(
                    f"{path.name}: breaking change for existing consumers: {'; '.join(problems)}.\n"
                    "  Keep the old fields, or publish the new shape on a new vN topic.",
                    file=sys.stderr,
                )
                return 1
        drift.append(str(path.relative_to(ROOT)))
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
    if args.check and drift:
        print("out of date (run `make contracts`): " + ", ".join(drift), file=sys.stderr)
        return 1
    print("contracts up to date" if not drift else "regenerated: " + ", ".join(drift))
    return 0


if __name__ == "__main__":
    sys.exit(main())
