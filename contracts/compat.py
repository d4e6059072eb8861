"""Backward compatibility of event schemas: what a change may not do to an existing consumer.

A consumer written against an old schema must keep working on events of the new one, and a producer
written against the old one (partners publishing inbound events) must still be accepted. So, between
two versions of one event: no field removed, no field's type changed, no new required field, no
enumeration value removed. Adding optional fields is fine.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def _resolve(schema: Schema, node: Schema) -> Schema:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return _resolve(schema, schema["$defs"][ref.removeprefix("#/$defs/")])
    return node


def _types(schema: Schema, node: Schema) -> set[str]:
    node = _resolve(schema, node)
    if "anyOf" in node:
        return set().union(*(_types(schema, n) for n in node["anyOf"]))
    if "oneOf" in node:
        return set().union(*(_types(schema, n) for n in node["oneOf"]))
    t = node.get("type")
    if isinstance(t, list):
        return set(t)
    if isinstance(t, str):
        fmt = node.get("format")
        return {f"{t}:{fmt}" if fmt else t}
    if "const" in node:
        return {f"const:{node['const']}"}
    if "enum" in node:
        return {"enum"}
    return {"object"} if "properties" in node else {"any"}


def breaking_changes(old: Schema, new: Schema, path: str = "") -> list[str]:
    """The reasons ``new`` would break consumers (or producers) of ``old``; empty when compatible."""
    problems: list[str] = []
    old_props: dict[str, Schema] = old.get("properties", {})
    new_props: dict[str, Schema] = new.get("properties", {})
    for name, old_field in old_props.items():
        where = f"{path}{name}"
        if name not in new_props:
            problems.append(f"field {where} was removed")
            continue
        old_r, new_r = _resolve(old, old_field), _resolve(new, new_props[name])
        lost = _types(old, old_field) - _types(new, new_props[name])
        if lost:
            problems.append(f"field {where} changed type: {sorted(lost)} no longer accepted")
        if "enum" in old_r and "enum" in new_r:
            removed = set(old_r["enum"]) - set(new_r["enum"])
            if removed:
                problems.append(f"field {where} lost enumeration values {sorted(removed)}")
        if "properties" in old_r and "properties" in new_r:
            nested_old = {**old_r, "$defs": old.get("$defs", {})}
            nested_new = {**new_r, "$defs": new.get("$defs", {})}
            problems.extend(breaking_changes(nested_old, nested_new, f"{where}."))
    added_required = set(new.get("required", [])) - set(old.get("required", []))
    for name in sorted(added_required):
        problems.append(f"field {path}{name} became required")
    return problems
