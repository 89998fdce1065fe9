"""Converting stored values when a field changes type: which changes need a data check, and how
each value converts."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from tessera.core.errors import ValidationError
from tessera.model.definitions import FieldDef
from tessera.model.field_types import registry

TEXT_LIKE = {"TEXT", "LONG_TEXT", "EMAIL", "PHONE", "URL"}


def convert_value(old: FieldDef, new: FieldDef, value: Any) -> Any:
    """The value ``value`` of ``old`` as a value of ``new``; raises ``ValidationError`` if it cannot."""
    if value is None:
        return None
    types = registry()
    new_type = types.of(new)
    if new.type == "DATETIME" and isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if new.type == "DATE" and isinstance(value, datetime):
        if value.time() != datetime.min.time():
            raise ValidationError("has a time of day", field=new.name)
        return value.date()
    if new.type == "MULTI_PICKLIST" and old.type == "PICKLIST":
        value = [value]
    if old.type == "MULTI_PICKLIST" and new.type != "MULTI_PICKLIST":
        if len(value) > 1:
            raise ValidationError("holds several values", field=new.name)
        value = value[0] if value else None
        if value is None:
            return None
    output = types.of(old).to_output(old, value)
    if new.type in TEXT_LIKE | {"PICKLIST"} and not isinstance(output, str):
        if old.type == "JSON":
            output = json.dumps(output, ensure_ascii=False, separators=(",", ":"))
        else:
            output = str(output).lower() if isinstance(output, bool) else str(output)
    if new.type == "INTEGER" and isinstance(output, str):
        try:
            number = float(output)
        except ValueError:
            raise ValidationError("is not a number", field=new.name) from None
        if number != int(number):
            raise ValidationError("is not a whole number", field=new.name)
        output = int(number)
    if new.type == "BOOLEAN" and isinstance(output, str):
        lowered = output.strip().lower()
        if lowered not in {"true", "false"}:
            raise ValidationError("is not true or false", field=new.name)
        output = lowered == "true"
    return new_type.parse(new, output)
