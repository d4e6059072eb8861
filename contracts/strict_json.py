"""Strict JSON for what partners send: the standard library parser, minus what it lets through.

``json.loads`` takes the last of two duplicate keys, turns ``NaN`` into a float, converts a 4 300-digit
integer (or raises ``ValueError``), and raises ``RecursionError`` on deep nesting. A partner body that
does any of that is a mistake we must refuse with a reason, never silently read nor crash on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

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
# The same without the pairs hook: objects built as dicts in C, a duplicate key silently kept last. Used only
# where a duplicate cannot hide (``_flat_object``).
_SCAN_DICTS: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder(  # type: ignore[attr-defined]
    parse_int=_integer, parse_float=_float, parse_constant=_constant
).scan_once
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


def _flat_object(text: str) -> dict[str, Any] | None:
    """The document if it is one object holding no other (a topic message) and nothing is wrong with it;
    None otherwise, and the exact decoder then reads it or says why not.

    Without the pairs hook a duplicate key would be kept last, so the keys are counted instead: each key
    in the text is followed by a colon outside strings, and with one ``{`` every key is this object's, so
    ``len(object) <= keys written <= colons``: as many colons as keys means no key written twice. (A colon
    inside a string value only sends the message the slow way.)"""
    if text[:1] != "{" or text.count("{") != 1 or text.count("[") >= MAX_DEPTH:
        return None
    try:
        document, end = _SCAN_DICTS(text, 0)
    except (StopIteration, ValueError, RecursionError):  # (InvalidJson, JSONDecodeError: said again below)
        return None
    if end != len(text) or type(document) is not dict or len(document) != text.count(":"):
        return None
    return document


def loads(raw: bytes | str) -> Any:
    """Parse one JSON document strictly; :class:`InvalidJson` with a one-line reason otherwise."""
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidJson(f"not UTF-8 text (byte 0x{raw[error.start]:02x} at position {error.start})") from None
    else:
        text = raw
    if (flat := _flat_object(text)) is not None:
        return flat
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
