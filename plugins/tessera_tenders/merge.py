"""Compiling the releases of one OCDS contracting process into one record (the OCDS merge rules).

Our own implementation of https://standard.open-contracting.org/latest/en/schema/merging/:

- the rules come from the release schema of the package's version (``data/release-schema-*.json``,
  1.0 → 1.0.3, 1.1 → 1.1.4): a field marked ``omitWhenMerged`` (1.0: ``mergeStrategy: ocdsOmit``) is
  dropped; an array marked ``wholeListMerge`` (1.0: ``mergeStrategy: ocdsVersion``), an array of
  non-objects, or an array of objects whose schema has no ``id`` is replaced whole; other arrays of
  objects merge item by item on ``id``;
- releases are applied oldest ``date`` first: each release's values replace earlier ones, a ``null``
  removes the field, and an array item without ``id`` in an array merged by ``id`` is never merged
  with another one (so it is kept from every release);
- the compiled release gets ``tag: ["compiled"]``, the newest ``date`` and ``id`` ``<ocid>-<date>``.

Applying a late release (older than ones already applied) on top of a compiled record would be
wrong, so callers keep every raw release and compile from all of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"
SCHEMAS = {"1.0": "release-schema-1__0__3.json", "1.1": "release-schema-1__1__4.json"}

OMIT, WHOLE = "omit", "whole"


class ListKey:
    """A step into an array merged by ``id`` (hashable; items without ``id`` never compare equal)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __hash__(self) -> int:
        return hash(("ListKey", json.dumps(self.value, sort_keys=True))) if self.value is not None else id(self)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ListKey) or self.value is None or other.value is None:
            return self is other
        return json.dumps(self.value, sort_keys=True) == json.dumps(other.value, sort_keys=True)


def version_of(package: Mapping[str, Any]) -> str:
    """The merge-rule version of a package: no ``version`` means 1.0."""
    version = str(package.get("version") or "1.0")
    return "1.0" if version.startswith("1.0") else "1.1"


@lru_cache(maxsize=4)
def rules_for(version: str) -> Mapping[tuple[str, ...], str]:
    """Merge rules by field path (object keys only, array steps left out)."""
    schema = json.loads((DATA / SCHEMAS[version]).read_text())
    rules: dict[tuple[str, ...], str] = {}
    _collect(schema, schema.get("properties", {}), (), rules, ())
    return rules


def _deref(schema: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    seen = 0
    while "$ref" in node and seen < 20:
        ref = node["$ref"]
        target: Any = schema
        for part in ref.lstrip("#/").split("/"):
            target = target[part]
        # Keywords beside a $ref (e.g. ``omitWhenMerged``) still apply.
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        seen += 1
    return node


def _types(node: Mapping[str, Any]) -> set[str]:
    kind = node.get("type", [])
    return {kind} if isinstance(kind, str) else set(kind)


def _collect(schema: Mapping[str, Any], properties: Mapping[str, Any], path: tuple[str, ...],
             rules: dict[tuple[str, ...], str], stack: tuple[int, ...]) -> None:
    for key, raw in properties.items():
        node = _deref(schema, raw)
        here = (*path, key)
        kinds = _types(node)
        if node.get("omitWhenMerged") or node.get("mergeStrategy") == "ocdsOmit":
            rules[here] = OMIT
        elif "array" in kinds and (node.get("wholeListMerge") or node.get("mergeStrategy") == "ocdsVersion"):
            rules[here] = WHOLE
        elif "object" in kinds and "properties" in node:
            if id(node["properties"]) not in stack:
                _collect(schema, node["properties"], here, rules, (*stack, id(node["properties"])))
        elif "array" in kinds and "items" in node:
            items = _deref(schema, node["items"])
            item_kinds = _types(items)
            if any(k != "object" for k in item_kinds) or "id" not in items.get("properties", {}):
                rules[here] = WHOLE
            elif id(items["properties"]) not in stack:
                _collect(schema, items["properties"], here, rules, (*stack, id(items["properties"])))


def flatten(value: Mapping[str, Any], rules: Mapping[tuple[str, ...], str]) -> dict[tuple[Any, ...], Any]:
    """Leaf values of a release by path; steps into arrays merged by id are ``ListKey``."""
    flat: dict[tuple[Any, ...], Any] = {}
    _flatten(value, (), (), rules, flat)
    return flat


def _flatten(node: Any, path: tuple[Any, ...], rule_path: tuple[str, ...], rules: Mapping[tuple[str, ...], str],
             flat: dict[tuple[Any, ...], Any]) -> None:
    if isinstance(node, dict):
        steps: Iterable[tuple[Any, Any, tuple[str, ...]]] = ((k, v, (*rule_path, k)) for k, v in node.items())
    else:
        steps = ((ListKey(item.get("id")), item, rule_path) for item in node)
    for key, child, child_rules in steps:
        rule = rules.get(child_rules) if isinstance(node, dict) else None
        if rule == OMIT:
            continue
        here = (*path, key)
        literal = not isinstance(child, dict | list)
        whole = rule == WHOLE or (isinstance(child, list) and any(not isinstance(i, dict) for i in child))
        if literal or whole or not child:
            flat[here] = child
        else:
            _flatten(child, here, child_rules, rules, flat)


def unflatten(flat: Mapping[tuple[Any, ...], Any]) -> dict[str, Any]:
    root: dict[Any, Any] = {}
    for path, value in flat.items():
        if value is None:
            continue
        node = root
        for step in path[:-1]:
            node = node.setdefault(step, {})
        node[path[-1]] = value
    return _lists(root)


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(isinstance(k, ListKey) for k in node):
        return [_lists(v) for v in node.values()]
    return {k: _lists(v) for k, v in node.items()}


def compile_releases(releases: Sequence[Mapping[str, Any]], version: str = "1.1") -> dict[str, Any]:
    """The compiled release of ``releases`` (all of one ``ocid``), by the rules of ``version``."""
    rules = rules_for(version)
    ordered = sorted(releases, key=lambda r: str(r.get("date") or ""))
    merged: dict[tuple[Any, ...], Any] = {}
    for release in ordered:
        for path, value in flatten(release, rules).items():
            merged[path] = value
    compiled = unflatten(merged)
    if ordered:
        last = ordered[-1]
        compiled["ocid"] = last.get("ocid")
        compiled["date"] = last.get("date")
        compiled["id"] = f"{last.get('ocid')}-{last.get('date')}"
    compiled["tag"] = ["compiled"]
    return compiled
