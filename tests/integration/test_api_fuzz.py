"""No request input ever yields a 5xx (issue 8): a schema-driven fuzz of registration's committed OpenAPI
document (``contracts/openapi/registration.json``) against the live gateway, then hostile inputs written by
hand — malformed JSON, wrong types, huge bodies, unicode oddities — each answered by a clear 4xx in the
API's one error shape, with French messages.

Everything reaches registration from one address (nginx's loopback): the fuzz's many failed logins would
throttle the rest of the suite, so the per-address login counter is forgotten afterwards.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from redis import Redis
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import Platform
from tests.support.journey import Holder

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = ROOT / "contracts" / "openapi" / "registration.json"
API = "/api/v1"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Examples per operation and generation mode; the whole fuzz stays well under a minute.
EXAMPLES = {"POST /api/v1/activations": 8}
DEFAULT_EXAMPLES = 50
FRENCH = re.compile(r"[éèàêçù]|\b(le|la|les|votre|vous|de|du|des|ce|cette)\b", re.IGNORECASE)
BODY_POSTS = (
    "/registrations",
    "/activations",
    "/sessions",
    "/password-resets",
    "/password-resets/confirm",
)


def forget_address_failures(platform: Platform) -> None:
    redis = Redis.from_url(platform.redis_url("registration"))
    try:
        keys = list(redis.scan_iter(match="reg:fail:addr:*"))
        if keys:
            redis.delete(*keys)
    finally:
        redis.close()


@pytest.fixture(autouse=True)
def clean_throttle(platform: Platform) -> Iterator[None]:
    forget_address_failures(platform)
    yield
    forget_address_failures(platform)


@pytest.fixture
async def http(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=platform.gateway, timeout=30) as client:
        yield client


def assert_french_errors(resp: httpx.Response, status: int | tuple[int, ...]) -> list[dict[str, str]]:
    statuses = (status,) if isinstance(status, int) else status
    assert resp.status_code in statuses, (resp.status_code, resp.text[:500])
    assert resp.headers["content-type"].startswith("application/json"), resp.headers
    items: list[dict[str, str]] = resp.json()["errors"]
    assert items, resp.text
    for item in items:
        assert set(item) == {"field", "code", "message"}, item
        assert FRENCH.search(item["message"]), item
    return items


# --- schema-driven ----------------------------------------------------------------------------------------


def operations_of(document: schemathesis.BaseSchema) -> list[APIOperation[Any, Any, Any, Any]]:
    results = list(document.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), "the committed OpenAPI document has invalid operations"
    return operations


def test_the_committed_openapi_document_covers_the_registration_api() -> None:
    labels = {operation.label for operation in operations_of(schemathesis.openapi.from_path(OPENAPI))}
    assert {
        "POST /api/v1/registrations",
        "GET /api/v1/registrations/{request_id}",
        "POST /api/v1/registrations/{request_id}/resend",
        "POST /api/v1/activations",
        "POST /api/v1/sessions",
        "POST /api/v1/sessions/current/token",
        "DELETE /api/v1/sessions/current",
        "POST /api/v1/password-resets",
        "POST /api/v1/password-resets/confirm",
    } <= labels


def test_schema_driven_fuzz_never_gets_a_server_error_and_every_answer_matches_the_document(
    platform: Platform,
) -> None:
    operations = operations_of(schemathesis.openapi.from_path(OPENAPI).include(path_regex=r"^/api/v1/"))
    assert operations
    session = requests.Session()
    failures: list[str] = []
    unsatisfiable: list[str] = []
    calls = 0
    started = time.monotonic()

    def exercise(mode: GenerationMode, checks: list[Callable[..., Any]]) -> Callable[[Case[Any]], None]:
        def call(case: Case[Any]) -> None:
            nonlocal calls
            calls += 1
            case.call_and_validate(base_url=platform.gateway, session=session, checks=checks, timeout=30)

        return call

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            # Invalid input (per the document) must also be refused with a 4xx, not accepted.
            checks = [*CHECKS, negative_data_rejection] if mode is GenerationMode.NEGATIVE else CHECKS
            run = given(case=operation.as_strategy(generation_mode=mode))(exercise(mode, checks))
            run = settings(
                max_examples=EXAMPLES.get(operation.label, DEFAULT_EXAMPLES),
                deadline=None,
                database=None,
                derandomize=True,  # the same examples on every run: a failure here is reproducible
                phases=[Phase.explicit, Phase.generate],  # no shrinking: report the first failure as found
                suppress_health_check=list(HealthCheck),
            )(run)
            try:
                run()
            except Unsatisfiable:  # nothing can break this operation's document (e.g. only a free-form cookie)
                assert mode is GenerationMode.NEGATIVE, operation.label
                unsatisfiable.append(operation.label)
            except Exception as exc:  # keep fuzzing the other operations, report everything at the end
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    elapsed = time.monotonic() - started
    assert not failures, "\n\n".join(failures)
    assert calls >= 300, calls
    assert set(unsatisfiable) <= {"DELETE /api/v1/sessions/current", "POST /api/v1/sessions/current/token"}
    assert elapsed < 60, f"the fuzz took {elapsed:.0f}s for {calls} calls"


# --- by hand ----------------------------------------------------------------------------------------------


async def test_malformed_json_is_refused_in_french_on_every_body(http: httpx.AsyncClient) -> None:
    for path in BODY_POSTS:
        for raw in (b'{"nir": ', b"{'nir': 1}", b"{,}", b'{"a": 1}}', b"\xef\xbb\xbf{}x"):
            resp = await http.post(f"{API}{path}", content=raw, headers={"content-type": "application/json"})
            items = assert_french_errors(resp, (400, 422))
            assert {item["code"] for item in items} <= {"json_invalid", "unreadable_body"}, (path, raw, items)
        for raw in (b"[1, 2]", b"null", b'"texte"', b"42", b"true"):
            resp = await http.post(f"{API}{path}", content=raw, headers={"content-type": "application/json"})
            assert_french_errors(resp, 422)
        # The wrong content type, or no body at all.
        assert_french_errors(
            await http.post(f"{API}{path}", content=b"nir=1", headers={"content-type": "text/plain"}), 422
        )
        assert_french_errors(await http.post(f"{API}{path}"), 422)


async def test_bodies_that_cannot_even_be_decoded_get_a_french_400(http: httpx.AsyncClient) -> None:
    json_headers = {"content-type": "application/json"}
    for raw in (
        b'{"first_name": "\xff\xfe"}',  # not UTF-8
        b'{"address": ' + b"[" * 12_000 + b"]" * 12_000 + b"}",  # nested deeper than the parser goes
    ):
        resp = await http.post(f"{API}/registrations", content=raw, headers=json_headers)
        [item] = assert_french_errors(resp, 400)
        assert item["code"] == "unreadable_body"


async def test_wrong_types_are_all_reported_at_once(http: httpx.AsyncClient) -> None:
    resp = await http.post(
        f"{API}/registrations",
        json={
            "nir": 1234567890123,
            "nir_key": ["4", "2"],
            "first_name": {"prénom": "Chloé"},
            "email": 3.5,
            "cgu_accepted": "peut-être",
            "apprenticeship_contract": {"oui": True},
            "address": "12 rue des Lilas",
        },
    )
    items = assert_french_errors(resp, 422)
    assert {"nir", "nir_key", "first_name", "email", "cgu_accepted", "apprenticeship_contract", "address"} <= {
        item["field"] for item in items
    }, items
    for path, body in (
        ("/sessions", {"nir": 1, "password": None}),
        ("/activations", {"token": 12345678901234567890}),
        ("/password-resets", {"nir": ["1"]}),
        ("/password-resets/confirm", {"token": True, "password": 1, "password_confirmation": {}}),
    ):
        fields = {item["field"] for item in assert_french_errors(await http.post(f"{API}{path}", json=body), 422)}
        assert fields == set(body), (path, fields)


async def test_a_body_over_the_limit_gets_the_french_413_from_the_gateway_and_from_the_service(
    platform: Platform, http: httpx.AsyncClient
) -> None:
    too_big = Holder.new("huge").form(first_name="A" * 70_000)
    for _ in range(3):  # through nginx: its own refusal, in the API's shape
        [item] = assert_french_errors(await http.post(f"{API}/registrations", json=too_big), 413)
        assert item["code"] == "too_large"
    async with httpx.AsyncClient(base_url=platform.url("registration"), timeout=30) as direct:

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(40):
                yield b"x" * 2_000

        # Straight to the service (no gateway), announced or streamed without a length.
        [item] = assert_french_errors(await direct.post(f"{API}/registrations", json=too_big), 413)
        assert item["code"] == "too_large"
        [item] = assert_french_errors(await direct.post(f"{API}/registrations", content=chunks()), 413)
        assert item["code"] == "too_large"


async def test_huge_bodies_are_refused_with_413(http: httpx.AsyncClient) -> None:
    # Above the gateway's limit (64 KiB), announced or streamed: refused before reaching the service.
    assert (await http.post(f"{API}/sessions", json={"nir": "1" * 200_000, "password": "x"})).status_code == 413

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"nir": "'
        for _ in range(100):
            yield b"1" * 2_000
        yield b'", "password": "x"}'

    streamed = await http.post(f"{API}/sessions", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    # Long strings inside the limit are refused field by field.
    long = await http.post(f"{API}/sessions", json={"nir": "1" * 5_000, "password": "x" * 5_000})
    assert {item["code"] for item in assert_french_errors(long, 422)} == {"string_too_long"}


ODDITIES = {
    "rtl_override": "\u202eDupont",
    "rtl_mark": "Dupont\u200f",
    "zero_width": "Du\u200bpont",
    "combining_only": "\u0301\u0301\u0301",
    "combining_stack": "E" + "\u0301" * 50,
    "nul": "Dup\x00ont",
    "emoji": "Chloé 🎓",
    "zwj_emoji": "👩\u200d👩\u200d👧",
    "bom": "\ufeffDupont",
    "private_use": "\ue000\ue001",
    "control": "Dupont\x07\x1b[31m",
    "line_separator": "Du\u2028pont",
}


@pytest.mark.parametrize("oddity", sorted(ODDITIES))
async def test_unicode_oddities_in_names_and_emails_get_clear_french_errors(
    http: httpx.AsyncClient, oddity: str
) -> None:
    text = ODDITIES[oddity]
    holder = Holder.new(f"odd-{oddity.replace('_', '-')}")
    email = f"chlo{text}e@example.org"
    resp = await http.post(
        f"{API}/registrations",
        json=holder.form(first_name=text, birth_name=text, email=email, email_confirmation=email),
    )
    items = assert_french_errors(resp, 422)
    fields = {item["field"] for item in items}
    assert "email" in fields, items

    for body in ({"nir": text, "password": text}, {"nir": holder.nir, "password": text}):
        login = await http.post(f"{API}/sessions", json=body)
        [item] = assert_french_errors(login, (401, 422, 429))
        # A "NIR" longer than any NIR is refused for its shape (422); any other is a failed login.
        assert item["code"] in {"invalid_credentials", "too_many_attempts", "locked", "string_too_long"}
    reset = await http.post(f"{API}/password-resets", json={"nir": text})
    # Always 202 whatever the NIR, unless it is longer than any NIR could be (then refused for its shape).
    assert reset.status_code == (202 if len(text) <= 40 else 422), reset.text
    confirm = await http.post(
        f"{API}/password-resets/confirm", json={"token": text * 4, "password": text, "password_confirmation": text}
    )
    assert_french_errors(confirm, 422)
    # Both names are refused (a line separator is
    # whitespace, normalised to a space: "Du pont" is a name).
    if oddity != "line_separator":
        assert {"first_name", "birth_name"} <= fields, items


async def test_a_lone_surrogate_or_nul_filled_form_is_a_422_not_a_crash(http: httpx.AsyncClient) -> None:
    raw = b'{"first_name": "\\ud800", "birth_name": "\\u0000\\u0000", "email": "\\udfff@example.org"}'
    resp = await http.post(f"{API}/registrations", content=raw, headers={"content-type": "application/json"})
    fields = {item["field"] for item in assert_french_errors(resp, 422)}
    assert {"first_name", "email"} <= fields
