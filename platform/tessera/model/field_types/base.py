"""The field type contract and the registry that holds the types."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import marshmallow as ma
import sqlalchemy as sa

from tessera.core.errors import ValidationError
from tessera.model.definitions import FieldDef

COMPARISON = ("eq", "neq", "gt", "gte", "lt", "lte", "in", "notIn", "isNull")
TEXT_OPERATORS = ("eq", "neq", "gt", "gte", "lt", "lte", "in", "notIn", "contains", "startsWith", "isNull")
EQUALITY = ("eq", "neq", "in", "notIn", "isNull")


class FieldType:
    """Behaviour of one kind of field. Subclasses override what differs."""

    key: ClassVar[str]
    graphql_scalar: ClassVar[str] = "String"
    """Scalar name in the generated API: String, Int, Float, Boolean, Decimal, Date, DateTime, JSON."""
    is_list: ClassVar[bool] = False
    operators: ClassVar[tuple[str, ...]] = COMPARISON
    sortable: ClassVar[bool] = True
    writable: ClassVar[bool] = True
    supports_unique: ClassVar[bool] = True
    supports_index: ClassVar[bool] = True
    supports_default: ClassVar[bool] = True
    option_fields: ClassVar[Mapping[str, ma.fields.Field]] = {}
    """Type-specific options accepted on the field definition (e.g. ``maxLength``)."""
    safe_conversions_from: ClassVar[frozenset[str]] = frozenset()
    """Types whose every value this type can hold without checking."""

    # --- definitions ----------------------------------------------------------------------
    def normalise_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Validate type options, fill defaults; refuse unknown keys naming them."""
        known = self.option_fields
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise ValidationError(
                f"option '{unknown[0]}' does not apply to {self.key} fields", field=unknown[0]
            )
        schema = ma.Schema.from_dict(dict(known))()
        try:
            loaded = schema.load({k: v for k, v in options.items() if v is not None})
        except ma.ValidationError as exc:
            name, messages = next(iter(exc.normalized_messages().items()))
            raise ValidationError(f"option '{name}': {_first(messages)}", field=name) from exc
        loaded = {k: v for k, v in loaded.items() if v is not None}
        self.check_options(loaded)
        return loaded

    def check_options(self, options: dict[str, Any]) -> None:
        """Cross-option checks; override when options constrain each other."""

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        raise NotImplementedError

    def conversion_is_safe(self, old: FieldDef, new: FieldDef) -> bool:
        """Whether every value of ``old`` fits ``new`` without checking the data.

        By default only a change of labels or flags within the same type is safe; types whose
        options narrow or widen what they hold override this.
        """
        if old.type == self.key:
            return dict(old.options) == dict(new.options)
        return old.type in self.safe_conversions_from

    def max_chars(self, field: FieldDef) -> int | None:
        """The longest text a value of this field can be, for text-like types."""
        return None

    # --- values ---------------------------------------------------------------------------
    def value_field(self, field: FieldDef) -> ma.fields.Field:
        """The marshmallow field that validates one input value of this field."""
        raise NotImplementedError

    def parse(self, field: FieldDef, value: Any) -> Any:
        """Validate an input value (from GraphQL or YAML) and return what is stored."""
        if value is None:
            return None
        try:
            return self.value_field(field).deserialize(value)
        except ma.ValidationError as exc:
            raise ValidationError(
                f"{field.name}: {_first(exc.messages)}", field=field.name, value=_short(value)
            ) from exc

    def parse_filter_value(self, field: FieldDef, value: Any) -> Any:
        """Validate a value compared against in a filter (by default: like an input value)."""
        return self.parse(field, value)

    def to_output(self, field: FieldDef, value: Any) -> Any:
        """Turn a stored value into its JSON-ready API form."""
        return value

    def to_storage(self, field: FieldDef, value: Any) -> Any:
        """Turn a parsed value into what the column takes."""
        return value


def _first(messages: Any) -> str:
    """The first marshmallow message, as a clause: lower-case first letter, no full stop."""
    if isinstance(messages, dict):
        return _first(next(iter(messages.values())))
    if isinstance(messages, list | tuple):
        return _first(messages[0]) if messages else "invalid"
    text = str(messages).rstrip(".")
    return text[:1].lower() + text[1:]


def _short(value: Any) -> Any:
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


class FieldTypeRegistry:
    """Field types by key; adding a key twice is refused loudly."""

    def __init__(self, types: Iterable[FieldType] = ()) -> None:
        self._types: dict[str, FieldType] = {}
        for t in types:
            self.add(t)

    def add(self, field_type: FieldType) -> None:
        if field_type.key in self._types:
            raise ValueError(f"field type {field_type.key} is registered twice")
        self._types[field_type.key] = field_type

    def get(self, key: str) -> FieldType:
        try:
            return self._types[key]
        except KeyError:
            raise ValidationError(f"unknown field type '{key}'", field="type") from None

    def __contains__(self, key: object) -> bool:
        return key in self._types

    def names(self) -> list[str]:
        return list(self._types)

    def of(self, field: FieldDef) -> FieldType:
        return self.get(field.type)

    def value_type(self, field: FieldDef) -> FieldType:
        """The type whose values ``field`` holds: its own, or a formula's or rollup's result type."""
        if field.is_computed:
            return self.get(field.opt("resultType", "TEXT"))
        return self.get(field.type)
