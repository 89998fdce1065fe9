"""Field mappings: read a value at a path of an external document, transform it, and hash the result.

Paths are dotted keys with numeric list indices (``tender.items.0.classification.id``); ``*`` takes
every element of a list (``awards.*.suppliers.*.name`` gives a flat list). Transforms are the names
of ``tessera.plugin.TRANSFORMS``. A value the transform cannot convert raises ``MappingError``: the
record is then logged as a failure and the sync goes on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from tessera.core.errors import ValidationError
from tessera.plugin import TRANSFORMS, FieldMapping

_MISSING = object()


class MappingError(Exception):
    """A value of an external document does not fit its mapping."""


def resolve(document: Any, path: str) -> Any:
    """The value at ``path`` (None when any step is missing)."""
    value = _walk(document, path.split(".")) if path else document
    return None if value is _MISSING else value


def _walk(value: Any, steps: Sequence[str]) -> Any:
    for index, step in enumerate(steps):
        if step == "*":
            if not isinstance(value, list):
                return _MISSING
            found: list[Any] = []
            for item in value:
                sub = _walk(item, steps[index + 1:])
                if sub is _MISSING or sub is None:
                    continue
                found.extend(sub if isinstance(sub, list) and "*" in steps[index + 1:] else [sub])
            return found
        if isinstance(value, Mapping):
            value = value.get(step, _MISSING)
        elif isinstance(value, list) and step.isdigit():
            value = value[int(step)] if int(step) < len(value) else _MISSING
        else:
            return _MISSING
        if value is _MISSING:
            return _MISSING
    return value


def _flat(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)


def apply_transform(value: Any, transform: str | None) -> Any:
    if value is None or transform is None or transform == "json":
        return value
    if transform == "first":
        return value[0] if isinstance(value, list) and value else (None if isinstance(value, list) else value)
    if transform == "join":
        items = value if isinstance(value, list) else [value]
        unique = list(dict.fromkeys(_flat(v) for v in items if v is not None and v != ""))
        return "; ".join(unique) or None
    if isinstance(value, list):
        raise MappingError(f"a list where transform '{transform}' needs one value (use join or first)")
    if transform in ("text", "upper", "lower"):
        text = _flat(value)
        return text.upper() if transform == "upper" else text.lower() if transform == "lower" else text
    if transform in ("number", "integer"):
        if isinstance(value, bool):
            raise MappingError(f"{value!r} is not a number")
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            raise MappingError(f"{value!r} is not a number") from None
        if not number.is_finite():
            raise MappingError(f"{value!r} is not a number")
        if transform == "integer":
            if number != number.to_integral_value():
                raise MappingError(f"{value!r} is not an integer")
            return int(number)
        return format(number, "f")
    if transform == "boolean":
        if isinstance(value, bool):
            return value
        lowered = str(value).strip().lower()
        if lowered in ("true", "yes", "1", "y"):
            return True
        if lowered in ("false", "no", "0", "n"):
            return False
        raise MappingError(f"{value!r} is not a boolean")
    if transform == "date":
        text = str(value)
        if len(text) < 10 or text[4] != "-" or text[7] != "-":
            raise MappingError(f"{value!r} is not a date")
        return text[:10]
    if transform == "datetime":
        text = str(value)
        if len(text) == 10:
            text += "T00:00:00Z"
        if "T" not in text:
            raise MappingError(f"{value!r} is not a date-time")
        if not (text.endswith("Z") or "+" in text[10:] or "-" in text[10:]):
            text += "Z"  # OCDS dates without an offset are read as UTC
        return text
    raise MappingError(f"unknown transform '{transform}'")


def map_document(document: Any, mapping: Sequence[FieldMapping]) -> dict[str, Any]:
    """Field values of one record; raises ``MappingError`` naming the field at fault."""
    data: dict[str, Any] = {}
    for item in mapping:
        try:
            data[item.field] = apply_transform(resolve(document, item.path), item.transform)
        except MappingError as exc:
            raise MappingError(f"{item.field} ({item.path}): {exc}") from None
    return data


def content_hash(data: Mapping[str, Any]) -> str:
    """A stable digest of mapped values: unchanged source data gives the same hash."""
    text = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def parse_mapping(items: Any, where: str = "mapping") -> list[FieldMapping]:
    """A mapping as the API and the table hold it (``[{field, path, transform}]``), checked."""
    if not isinstance(items, list):
        raise ValidationError(f"{where}: give a list of {{field, path, transform}}", field="mapping")
    found: list[FieldMapping] = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping) or not isinstance(item.get("field"), str) or not isinstance(item.get("path"), str):
            raise ValidationError(f"{where}.{index}: give field and path (strings)", field="mapping")
        unknown = set(item) - {"field", "path", "transform"}
        if unknown:
            raise ValidationError(f"{where}.{index}: unknown key '{sorted(unknown)[0]}'", field="mapping")
        transform = item.get("transform")
        if transform is not None and transform not in TRANSFORMS:
            raise ValidationError(f"{where}.{index}.transform: '{transform}' is not one of {', '.join(TRANSFORMS)}",
                                  field="mapping")
        found.append(FieldMapping(item["field"], item["path"], transform))
    return found


def dump_mapping(mapping: Sequence[FieldMapping]) -> list[dict[str, Any]]:
    return [{"field": m.field, "path": m.path, "transform": m.transform} for m in mapping]
