"""Strict JSON for what partners send: the standard library parser, minus what it lets through.

``json.loads`` takes the last of two duplicate keys, turns ``NaN`` into a float, converts a 4 300-digit
integer (or raises ``ValueError``), and raises ``RecursionError`` on deep nesting. A partner body that
does any of that is a mistake we must refuse with a reason, never silently read nor crash on.
A topic message (one flat object) is read by pydantic-core's faster parser when nothing that parser
would let through can be in it (``_flat_object``); anything else by the standard library's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from pydantic_core import from_json

MAX_DEPTH = 32  # a declaration is 3 levels deep at most
MAX_INTEGER_DIGITS = 30


class InvalidJson(ValueError):
    """The bytes are not one strict JSON document; ``reason`` says why in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) == len(pairs):  # (built in C: the check per key only runs when there is a duplicate)
        return result
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise InvalidJson(f"duplicate key {key!r} in one object")
        seen.add(key)
    raise AssertionError("unreachable: fewer keys than pairs means a duplicate")


def _integer(text: str) -> int:
    if len(text) <= MAX_INTEGER_DIGITS:
        return int(text)
    digits = len(text.lstrip("-"))
    if digits > MAX_INTEGER_DIGITS:
        raise InvalidJson(f"a number has {digits} digits (at most {MAX_INTEGER_DIGITS})")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise InvalidJson(f"the number {text[:20]} is too large")
    return value


def _constant(name: str) -> Any:
    raise InvalidJson(f"{name} is not a JSON number")


def _check_depth(document: Any) -> None:
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InvalidJson(f"nested more than {MAX_DEPTH} levels deep")
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


# One decoder for every document (``json.loads`` with hooks would build a new one per call).
_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_int=_integer, parse_float=_float, parse_constant=_constant)
# The decoder's scanner (set by ``JSONDecoder.__init__``; not in typeshed) and JSON's whitespace.
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_SPACE = frozenset(" \t\n\r")


def _skip_whitespace(text: str, at: int) -> int:
    match = _WHITESPACE.match(text, at)  # (always matches, maybe empty)
    return match.end() if match else at


def _decode(text: str) -> Any:
    """``_DECODER.decode(text)``, the same errors at the same positions, without its second regex match
    when the document ends the text (the usual case), nor its first when the text starts with a value."""
    start = _skip_whitespace(text, 0) if text[:1] in _SPACE else 0
    try:
        document, end = _SCAN(text, start)
    except StopIteration as stop:
        raise json.JSONDecodeError("Expecting value", text, stop.value) from None
    if end != len(text):
        end = _skip_whitespace(text, end)
        if end != len(text):
            raise json.JSONDecodeError("Extra data", text, end)
    return document


# Longer messages go the exact way: a declaration is a few hundred bytes, and the exact decoder refuses a
# huge number as soon as it has read it, where pydantic-core would first convert it.
_FLAT_MAX_BYTES = 4096
_INTEGER_LIMIT = 10**MAX_INTEGER_DIGITS  # (an integer of at most 30 digits is below it)
_INFINITY = float("inf")


def _numbers_fit(values: Iterable[Any]) -> bool:
    """No integer of more than 30 digits and no float that overflowed, in these values or lists of them."""
    for value in values:
        kind = type(value)
        if kind is int:
            if not -_INTEGER_LIMIT < value < _INTEGER_LIMIT:
                return False
        elif kind is float:
            if value == _INFINITY or value == -_INFINITY:
                return False
        elif kind is list and not _numbers_fit(value):
            return False
    return True


def _flat_object(raw: bytes) -> dict[str, Any] | None:
    """The document if it is one object holding no other (a topic message) and nothing is wrong with it,
    read by pydantic-core's JSON parser (in Rust: a third of the standard library's time, hooks included);
    None otherwise, and the exact decoder then reads it or says why not.

    What that parser would let through is kept out: a duplicate key (it keeps the last) by counting keys
    against colons: each key is followed by a colon outside strings and, with one ``{``, every key is this
    object's, so ``len(object) <= keys written <= colons``, and as many colons as keys means no key written
    twice; numbers of more than 30 digits or that overflowed to infinity by ``_numbers_fit``; ``NaN``
    and ``Infinity`` by ``allow_inf_nan=False``; deep nesting by counting brackets. It refuses what the
    exact decoder refuses (invalid UTF-8, control characters…) and a little more (an escaped lone
    surrogate): all of that goes the exact way, and so does a message with a colon inside a string."""
    if len(raw) > _FLAT_MAX_BYTES or raw[:1] != b"{" or raw.count(b"{") != 1 or raw.count(b"[") >= MAX_DEPTH:
        return None
    try:
        document = from_json(raw, allow_inf_nan=False, cache_strings="keys")  # (values: too many to cache)
    except ValueError:
        return None
    if type(document) is not dict or len(document) != raw.count(b":") or not _numbers_fit(document.values()):
        return None
    return document


def loads(raw: bytes | str) -> Any:
    """Parse one JSON document strictly; :class:`InvalidJson` with a one-line reason otherwise."""
    if isinstance(raw, bytes):
        if (flat := _flat_object(raw)) is not None:
            return flat
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidJson(f"not UTF-8 text (byte 0x{raw[error.start]:02x} at position {error.start})") from None
    else:
        text = raw
    try:
        if text.startswith("\ufeff"):  # as json.loads says it
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        document = _decode(text)
    except json.JSONDecodeError as error:
        raise InvalidJson(f"not valid JSON ({error.msg}, line {error.lineno} column {error.colno})") from None
    except RecursionError:
        raise InvalidJson(f"nested more than {MAX_DEPTH} levels deep") from None
    # Fewer brackets than the limit (those in strings counted too) cannot nest deeper: no walk needed.
    if text.count("{") + text.count("[") > MAX_DEPTH:
        _check_depth(document)
    return document
