"""Strict partner input (issue 14, point 3): what partners send is refused with the field's name when it
is not exactly the contract — never ignored, converted, or answered with a traceback."""

from __future__ import annotations

import asyncio
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import partners, strict_json
from eventing.errors import PoisonMessage
from services.rights.app.cli import main
from services.rights.tests.unit.fakes import KEY, NIR, MemoryPublisher, MemoryStore
from services.rights.use_cases.projection import RightsService


@pytest.mark.parametrize(
    ("body", "field", "why"),
    [
        ({"type": "work_year", "year": 2023, "hours": 800, "reference_hour": 1500}, "reference_hour", "unknown field"),
        (
            {
                "type": "training_booked",
                "booking_id": "T",
                "price_eur": "900.00",
                "date": "2025-01-02",
                "participation_exmpt": True,
            },
            "participation_exmpt",
            "unknown field",
        ),
        ({"type": "work_year", "year": 2023, "hours": "1607"}, "hours", "JSON number"),
        ({"type": "work_year", "year": "2023", "hours": 1607}, "year", "valid integer"),
        ({"type": "work_year", "year": 2023.0, "hours": 1607}, "year", "valid integer"),
        ({"type": "legacy_cpf_hours", "hours": True}, "hours", "valid integer"),
        ({"type": "c2p_exposure", "year": 2023, "quarters": "4", "factors": 1}, "quarters", "valid integer"),
        (
            {
                "type": "training_booked",
                "booking_id": "T",
                "price_eur": "9.00",
                "date": "2025-01-02",
                "participation_exempt": "yes",
            },
            "participation_exempt",
            "valid boolean",
        ),
        ({"type": "dif_registered", "hours": 10, "date": 20210601}, "date", "YYYY-MM-DD"),
        ({"type": "dif_registered", "hours": 10, "date": "2021-6-1"}, "date", "YYYY-MM-DD"),
    ],
)
def test_a_body_that_is_not_exactly_the_contract_is_refused_naming_the_field(
    body: dict[str, Any], field: str, why: str
) -> None:
    with pytest.raises(partners.InvalidPartnerEvent) as caught:
        partners.parse_partner_event(body)
    assert caught.value.code == "invalid_event"
    assert caught.value.reason.startswith(f"{field}: ")
    assert why in caught.value.reason


def _service() -> tuple[RightsService, MemoryStore]:
    store = MemoryStore()
    return RightsService(store, MemoryPublisher(), b"k" * 32), store


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (
            b'{"event_id": "e1", "nir": "%s", "nir_key": "%s", "type": "legacy_cpf_hours", "hours": 10, "hours": 400}'
            % (NIR.encode(), KEY.encode()),
            "invalid_json: duplicate key 'hours'",
        ),
        (
            json.dumps({"event_id": 7, "nir": NIR, "nir_key": KEY, "type": "legacy_cpf_hours", "hours": 10}).encode(),
            "invalid_holder: event_id: Input should be a valid string",
        ),
        (
            json.dumps(
                {
                    "event_id": "e2",
                    "nir": NIR,
                    "nir_key": KEY,
                    "type": "work_year",
                    "year": 2023,
                    "hours": 1607,
                    "reference_hour": 1500,
                }
            ).encode(),
            "reference_hour: unknown field",
        ),
        (b"\xff\xfe{}", "invalid_json: not UTF-8 text"),
        (b"[" * 50_000 + b"]" * 50_000, "nested more than 32 levels"),
        (b'{"event_id": "e3", "hours": ' + b"9" * 4300 + b"}", "a number has 4300 digits"),
    ],
)
def test_the_service_parks_what_is_not_the_contract_with_a_reason_naming_it(raw: bytes, fragment: str) -> None:
    service, store = _service()
    with pytest.raises(PoisonMessage) as caught:
        asyncio.run(service.on_declaration(raw))
    assert fragment in caught.value.reason
    assert store.bodies == {}


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        # The holder fields and the body are validated in one pass; the body's problem is named first.
        (
            {"event_id": "", "nir": "123", "type": "work_year", "year": 2023, "hours": 800, "hour": 1},
            "invalid_event: hour: unknown field",
        ),
        ({"event_id": "e", "nir": NIR + "\n", "nir_key": KEY, "type": "legacy_cpf_hours", "hours": 10}, "nir: "),
        ({"event_id": "e", "nir": NIR, "nir_key": KEY + "\n", "type": "legacy_cpf_hours", "hours": 10}, "nir_key: "),
        ({"event_id": "e", "nir": NIR, "type": "legacy_cpf_hours", "hours": 10}, "invalid_holder: nir_key: missing"),
        ({"event_id": "x" * 201, "nir": NIR, "nir_key": KEY, "type": "legacy_cpf_hours", "hours": 10}, "event_id: "),
    ],
)
def test_a_message_whose_holder_or_body_is_not_exactly_the_contract_is_refused(
    message: dict[str, Any], expected: str
) -> None:
    with pytest.raises(partners.InvalidPartnerEvent) as caught:
        partners.PartnerDeclaration.from_message(message)
    assert expected in str(caught.value)


def simulate(raw: bytes) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    stdin = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8")
    code = main(["simulate", "-"], stdin=stdin, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def document(*events: Any) -> bytes:
    return json.dumps({"holder": {"birth": "1985-03"}, "events": list(events)}).encode()


@pytest.mark.parametrize(
    ("raw", "line"),
    [
        (
            b'{"holder": {"birth": "1985-03"}, "events": [{"type": "legacy_cpf_hours", "hours": 1\xe9}]}',
            "-: not UTF-8 text (byte 0xe9 at position 83)",
        ),
        (
            b'{"holder": {"birth": "1985-03"}, "events": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            "-: nested more than 32 levels deep",
        ),
        (
            b'{"holder": {"birth": "1985-03"}, "events": [{"type": "legacy_cpf_hours", "hours": '
            + b"1" * 4300
            + b"}]}",
            "-: a number has 4300 digits (at most 30)",
        ),
        (
            b'{"holder": {"birth": "1985-03"}, "events": [{"type": "legacy_cpf_hours", "hours": NaN}]}',
            "-: NaN is not a JSON number",
        ),
        (
            b'{"holder": {"birth": "1985-03"}, "holder": {"birth": "1999-01"}, "events": []}',
            "-: duplicate key 'holder' in one object",
        ),
        (
            document({"type": "legacy_cpf_hours", "hours": 10, "event_id": 12}),
            "event #0 (legacy_cpf_hours): invalid_event: event_id: must be a non-empty string, got 12",
        ),
        (
            json.dumps({"holder": {"birth": "1985-03", "name": "x"}, "events": []}).encode(),
            "holder: unknown field 'name' (only \"birth\")",
        ),
    ],
)
def test_the_simulator_exits_2_with_one_clear_line_never_a_traceback(raw: bytes, line: str) -> None:
    code, out, err = simulate(raw)
    assert (code, out) == (2, "")
    assert err == f"cpf-rights: invalid input: {line}\n"


def test_the_simulator_reports_every_bad_event_one_line_each(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_bytes(
        document(
            {"type": "work_year", "year": 2023, "hours": "800"},
            {"type": "work_year", "year": 2023, "hours": 800},
            {"type": "abondement", "amount_eur": "10.00", "payer": "opco", "date": "2024-01-01", "payr": "x"},
        )
    )
    out, err = io.StringIO(), io.StringIO()
    assert main(["simulate", str(path)], stdout=out, stderr=err) == 2
    lines = err.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("cpf-rights: invalid input: event #0 (work_year): invalid_event: hours: ")
    assert lines[1].startswith("cpf-rights: invalid input: event #2 (abondement): invalid_event: payr: unknown field")


@pytest.mark.parametrize(
    "raw",
    [
        # A topic message (one object) is read in C and its keys counted against its colons: a key written
        # twice is refused however the text is spaced, and a colon in a string cannot hide it.
        '{"hours": 10, "hours": 400}',
        '{"hours" : 10, "hours" : 400}',
        '{"hours"\n:10,"hours":400,"payer":"a:b"}',
        '{"payer": ":", "hours" :10, "hours" :400}',
        '{"a": "{", "a": 1}',
    ],
)
def test_a_key_written_twice_in_a_message_is_refused_however_it_is_written(raw: str) -> None:
    with pytest.raises(strict_json.InvalidJson) as caught:
        strict_json.loads(raw.encode())
    assert caught.value.reason.startswith("duplicate key ")


_KEYS = st.sampled_from(["a", "b", "c", "d", "hours", "date", "x:y", "{", "", "\\u0061", "\\ud800", "é"])
_NUMBERS = st.from_regex(r"-?(0|[1-9][0-9]{0,20})(\.[0-9]{1,20})?([eE][+-]?[0-9]{1,3})?", fullmatch=True)
_ODD = [
    "NaN",
    "-Infinity",
    "1e999",
    "1" * 31,
    "1" * 30,
    "1." + "0" * 31,
    '"\\ud800"',
    '"\\u0041"',
    '"\x01"',
    "01",
    '"a:b"',
    '"{"',
    "1.",
    '"1e123,"',
    '"a\\"b"',
]
_VALUES = st.one_of(
    _NUMBERS,
    st.text(alphabet="abe1 é", max_size=8).map(lambda text: json.dumps(text, ensure_ascii=False)),
    st.sampled_from(["true", "false", "null", *_ODD]),
)
_SPACES = st.sampled_from(["", " ", "\n", " \t", "\x0c"])


@st.composite
def _messages(draw: st.DrawFn) -> bytes:
    """A JSON object written by hand. Half of them as a partner would (distinct keys, no object inside,
    nothing after); the others with keys that may repeat (also through escapes), objects inside, a broken
    tail or bytes that are not UTF-8. Any spacing, numbers of any form, strings with colons, braces,
    escapes and control characters, NaN and infinities."""
    plain = draw(st.booleans())
    parts = []
    for key in draw(st.lists(_KEYS, max_size=6, unique=plain)):
        nested = st.tuples(_KEYS, _VALUES).map(lambda pair: f'{{"{pair[0]}": {pair[1]}}}')
        lists = st.lists(_VALUES, max_size=3).map(lambda items: "[" + ",".join(items) + "]")
        value = draw(st.one_of(_VALUES, lists) if plain else st.one_of(_VALUES, lists, nested))
        parts.append(f'"{key}"{draw(_SPACES)}:{draw(_SPACES)}{value}')
    tail = "" if plain else draw(st.sampled_from(["", " ", "x", "]", ","]))
    raw = ("{" + ",".join(parts) + "}" + tail).encode()
    if not plain and draw(st.booleans()):  # a byte that may break the UTF-8
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb\xbf"])) + raw[at:]
    return raw


@given(_messages())
@settings(max_examples=600, deadline=None)
def test_a_message_read_the_fast_way_gives_what_the_exact_decoder_gives(raw: bytes) -> None:
    def outcome() -> object:
        try:
            return ("document", strict_json.loads(raw))
        except strict_json.InvalidJson as refused:
            return ("refused", refused.reason)

    fast = outcome()
    original = strict_json._flat_object
    strict_json._flat_object = lambda raw: None  # the exact decoder alone
    try:
        exact = outcome()
    finally:
        strict_json._flat_object = original
    assert repr(fast) == repr(exact)  # (repr: the same floats, and NaN would show)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"hours": NaN}', "NaN is not a JSON number"),
        (b'{"hours": [1, -Infinity]}', "-Infinity is not a JSON number"),
        (b'{"hours": 1e999}', "the number 1e999 is too large"),
        (b'{"hours": [[-1E+400]]}', "the number -1E+400 is too large"),
        (b'{"hours": 1%s}' % (b"0" * 30), "a number has 31 digits (at most 30)"),
        (b'{"hours": [-1%s]}' % (b"0" * 30), "a number has 31 digits (at most 30)"),
    ],
)
def test_a_plain_message_with_a_number_json_must_not_carry_is_refused_with_its_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(strict_json.InvalidJson) as caught:
        strict_json.loads(raw)
    assert caught.value.reason == reason


def test_a_plain_message_is_read_the_fast_way() -> None:
    message = b'{"event_id": "e", "hours": [1, 2.5e10], "date": "2024-06-01"}'
    assert strict_json._flat_object(message) == strict_json.loads(message.decode())


def _parsed(parse: Any, value: object) -> tuple[str, object]:
    try:
        return ("value", parse(value))
    except ValueError as refused:
        return ("refused", str(refused))


_WIRE_TEXT = st.text(alphabet="0123456789-.:eE+ \n\t٣", max_size=12)


@given(
    st.one_of(_WIRE_TEXT, st.from_regex(r"[0-9]{1,10}(\.[0-9]{0,3})?", fullmatch=True)),
    st.one_of(_WIRE_TEXT, st.dates().map(str), st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True)),
)
@settings(max_examples=400, deadline=None)
def test_amounts_and_dates_read_in_rust_are_exactly_what_the_python_parsers_accept(amount: str, on: str) -> None:
    # The wire forms of amounts and dates are read by pydantic-core first; the model must accept what the
    # parsers (partners._parse_euro, _parse_date) accept, give the same value, and refuse the rest with the
    # parser's own reason.
    body = {"type": "abondement", "amount_eur": amount, "payer": "x", "date": on}
    expected: dict[str, tuple[str, object]] = {
        "amount_eur": _parsed(partners._parse_euro, amount),
        "date": _parsed(partners._parse_date, on),
    }
    try:
        event = partners.parse_partner_event(body)
    except partners.InvalidPartnerEvent as refused:
        problems = dict(problem.split(": ", 1) for problem in refused.reason.split("; "))
        assert problems == {field: why for field, (kind, why) in expected.items() if kind == "refused"}
        assert refused.code == "invalid_event"
    else:
        assert expected == {"amount_eur": ("value", event.amount_eur), "date": ("value", event.date)}  # type: ignore[union-attr]
        assert event.amount_eur.as_tuple() == Decimal(amount).as_tuple()  # type: ignore[union-attr]
