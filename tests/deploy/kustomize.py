"""A small, strict Kustomize renderer for the features deploy/k8s uses, so the tests need no binary.

Supported kustomization fields: ``resources`` (files and directories), ``namespace``, ``images`` and
``patches`` (strategic-merge documents matched by kind and name, or JSON 6902 operation lists applied to a
``target``). Anything else raises, so a new feature in the manifests cannot be silently ignored here.
When ``kubectl`` or ``kustomize`` is on PATH the tests also compare this renderer with the real one.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "images", "patches"}
# Lists whose items strategic merge matches by `name` (the ones our patches touch); other lists are replaced.
MERGE_BY_NAME = {"containers", "initContainers", "env", "volumes"}
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "IngressClass"}

Obj = dict[str, Any]


class KustomizeError(ValueError):
    pass


def load_docs(path: Path) -> list[Obj]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def build(directory: Path) -> list[Obj]:
    k = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(k) - SUPPORTED
    if unknown:
        raise KustomizeError(f"{directory}: unsupported kustomization fields {sorted(unknown)}")
    objs: list[Obj] = []
    for res in k.get("resources", []):
        path = (directory / res).resolve()
        objs.extend(build(path) if path.is_dir() else load_docs(path))
    _check_unique(objs, directory)
    for patch in k.get("patches", []):
        _apply_patch(objs, directory / patch["path"], patch.get("target"))
    for image in k.get("images", []):
        _set_image(objs, image)
    if "namespace" in k:
        for obj in objs:
            if obj["kind"] not in CLUSTER_SCOPED:
                obj.setdefault("metadata", {})["namespace"] = k["namespace"]
    return objs


def _check_unique(objs: list[Obj], where: Path) -> None:
    seen: set[tuple[str, str, str]] = set()
    for obj in objs:
        key = (obj["apiVersion"].split("/")[0], obj["kind"], obj["metadata"]["name"])
        if key in seen:
            raise KustomizeError(f"{where}: {key} is declared twice")
        seen.add(key)


def _group(api_version: str) -> str:
    return api_version.split("/")[0] if "/" in api_version else ""


def _matches(obj: Obj, target: dict[str, Any]) -> bool:
    if "labelSelector" in target or "annotationSelector" in target:
        raise KustomizeError("label/annotation selectors are not supported by this renderer")
    checks = {
        "group": _group(obj["apiVersion"]),
        "version": obj["apiVersion"].split("/")[-1],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "namespace": obj["metadata"].get("namespace"),
    }
    return all(checks[field] == value for field, value in target.items())


def _apply_patch(objs: list[Obj], path: Path, target: dict[str, Any] | None) -> None:
    content = list(yaml.safe_load_all(path.read_text()))
    if len(content) == 1 and isinstance(content[0], list):  # JSON 6902
        if not target:
            raise KustomizeError(f"{path}: a JSON 6902 patch needs a target")
        hits = [o for o in objs if _matches(o, target)]
        if not hits:
            raise KustomizeError(f"{path}: target {target} matches nothing")
        for obj in hits:
            for op in content[0]:
                _json6902(obj, op)
        return
    for doc in (d for d in content if d):
        hits = [
            o
            for o in objs
            if o["kind"] == doc["kind"]
            and o["metadata"]["name"] == doc["metadata"]["name"]
            and _group(o["apiVersion"]) == _group(doc["apiVersion"])
            and (target is None or _matches(o, target))
        ]
        if len(hits) != 1:
            raise KustomizeError(f"{path}: {doc['kind']}/{doc['metadata']['name']} matches {len(hits)} objects")
        _merge(hits[0], doc)


def _merge(into: Obj, patch: Obj) -> None:
    for key, value in patch.items():
        if value is None:
            into.pop(key, None)
        elif isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        elif key in MERGE_BY_NAME and isinstance(value, list) and isinstance(into.get(key), list):
            by_name = {item["name"]: item for item in into[key]}
            for item in value:
                if item["name"] in by_name:
                    _merge(by_name[item["name"]], item)
                else:
                    into[key].append(copy.deepcopy(item))
        else:
            into[key] = copy.deepcopy(value)


def _json6902(obj: Obj, op: dict[str, Any]) -> None:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].lstrip("/").split("/")]
    parent: Any = obj
    for part in parts[:-1]:
        parent = parent[int(part)] if isinstance(parent, list) else parent[part]
    last = parts[-1]
    kind = op["op"]
    if kind in ("add", "replace"):
        if isinstance(parent, list):
            index = len(parent) if last == "-" else int(last)
            if kind == "add":
                parent.insert(index, copy.deepcopy(op["value"]))
            else:
                parent[index] = copy.deepcopy(op["value"])
        else:
            if kind == "replace" and last not in parent:
                raise KustomizeError(f"replace of missing {op['path']}")
            parent[last] = copy.deepcopy(op["value"])
    elif kind == "remove":
        del parent[int(last) if isinstance(parent, list) else last]
    else:
        raise KustomizeError(f"unsupported JSON 6902 op {kind}")


def _set_image(objs: list[Obj], image: dict[str, Any]) -> None:
    for obj in objs:
        spec = obj.get("spec", {}).get("template", {}).get("spec", {})
        for container in spec.get("containers", []) + spec.get("initContainers", []):
            ref = container["image"]
            name = ref.split("@")[0]
            if ":" in name.rsplit("/", 1)[-1]:
                name = name.rsplit(":", 1)[0]
            if name != image["name"]:
                continue
            new = image.get("newName", name)
            if "digest" in image:
                container["image"] = f"{new}@{image['digest']}"
            elif "newTag" in image:
                container["image"] = f"{new}:{image['newTag']}"
            else:
                container["image"] = new + ref[len(name) :]
