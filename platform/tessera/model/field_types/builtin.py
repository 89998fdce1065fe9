"""The built-in field types of the core engine."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from marshmallow import validate

from tessera.core.errors import ValidationError
from tessera.model.definitions import FieldDef
from tessera.model.field_types.base import EQUALITY, TEXT_OPERATORS, FieldType
from tessera.storage.types import ExactDecimal, UTCDateTime, iso_datetime

PHONE_PATTERN = re.compile(r"^\+?[0-9 ()\-.]{3,30}(?:\s*(?:x|ext\.?)\s*[0-9]{1,6})?$")
COLOR_PATTERN = r"^#[0-9a-fA-F]{6}$"
AUTO_NUMBER_PATTERN = re.compile(r"\{(0+)\}")


class TextType(FieldType):
    key = "TEXT"
    operators = TEXT_OPERATORS
    option_fields = {"maxLength": ma.fields.Integer(load_default=255, validate=validate.Range(1, 10_000))}
    safe_conversions_from = frozenset({"TEXT", "EMAIL", "PHONE", "URL", "PICKLIST", "AUTO_NUMBER"})

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.String(field.opt("maxLength", 255))

    def value_field(self, field: FieldDef) -> ma.fields.Field:
        return ma.fields.String(validate=validate.Length(max=field.opt("maxLength", 255)))

    def max_chars(self, field: FieldDef) -> int | None:
        return field.opt("maxLength", 255)

    def conversion_is_safe(self, old: FieldDef, new: FieldDef) -> bool:
        """Safe from any text-like type whose longest value fits the new maxLength."""
        if old.type not in self.safe_conversions_from:
            return False
        longest = registry_max_chars(old)
        return longest is not None and (self.max_chars(new) or 0) >= longest


class LongTextType(FieldType):
    key = "LONG_TEXT"
    operators = ("contains", "startsWith", "isNull", "eq", "neq")
    supports_unique = False
    supports_index = False
    option_fields = {"maxLength": ma.fields.Integer(load_default=131_072, validate=validate.Range(1, 1_048_576))}
    safe_conversions_from = frozenset({"TEXT", "LONG_TEXT", "EMAIL", "PHONE", "URL", "PICKLIST", "AUTO_NUMBER"})

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.Text()

    def max_chars(self, field: FieldDef) -> int | None:
        return field.opt("maxLength", 131_072)

    conversion_is_safe = TextType.conversion_is_safe

    def value_field(self, field: FieldDef) -> ma.fields.Field:
        return ma.fields.String(validate=validate.Length(max=field.opt("maxLength", 131_072)))


class IntegerType(FieldType):
    key = "INTEGER"
    graphql_scalar = "Int"
    option_fields = {
        "min": ma.fields.Integer(load_default=None),
        "max": ma.fields.Integer(load_default=None),
    }

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.BigInteger()

    def value_field(self, field: FieldDef) -> ma.fields.Field:
        lo, hi = field.opt("min"), field.opt("max")
        bounds = validate.Range(
            lo if lo is not None else -(2**31), hi if hi is not None else 2**31 - 1
        )
        return ma.fields.Integer(strict=True, validate=bounds)

    def conversion_is_safe(self, old: FieldDef, new: FieldDef) -> bool:
        """Safe when the new bounds contain the old ones."""
        if old.type != "INTEGER":
            return False
        old_min, old_max, new_min, new_max = old.opt("min"), old.opt("max"), new.opt("min"), new.opt("max")
        min_ok = new_min is None or (old_min is not None and new_min <= old_min)
        max_ok = new_max is None or (old_max is not None and new_max >= old_max)
        return min_ok and max_ok


class _DecimalType(FieldType):
    graphql_scalar = "Decimal"
    default_precision = 18
    default_scale = 2

    @property
    def option_fields(self) -> dict[str, ma.fields.Field]:  # type: ignore[override]
        return {
            "precision": ma.fields.Integer(load_default=self.default_precision, validate=validate.Range(1, 38)),
            "scale": ma.fields.Integer(load_default=self.default_scale, validate=validate.Range(0, 10)),
        }

    def check_options(self, options: dict[str, Any]) -> None:
        if options["scale"] > options["precision"]:
            raise ValidationError("option 'scale' cannot exceed 'precision'", field="scale")

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return ExactDecimal(self._precision(field), self._scale(field))

    def _precision(self, field: FieldDef) -> int:
        return field.opt("precision", self.default_precision)

    def _scale(self, field: FieldDef) -> int:
        return field.opt("scale", self.default_scale)

    def value_field(self, field: FieldDef) -> ma.fields.Field:
        return ma.fields.Decimal(allow_nan=False)

    def parse(self, field: FieldDef, value: Any) -> Any:
        if isinstance(value, float):
            value = repr(value)
        parsed = super().parse(field, value)
        if parsed is None:
            return None
        scale, precision = self._scale(field), self._precision(field)
        if parsed != parsed.quantize(Decimal(1).scaleb(-scale)):
            raise ValidationError(
                f"{field.name}: more than {scale} decimal places", field=field.name, value=str(value)
            )
        if parsed.adjusted() >= precision - scale:
            raise ValidationError(
                f"{field.name}: more than {precision - scale} digits before the decimal point",
                field=field.name,
                value=str(value),
            )
        return parsed.quantize(Decimal(1).scaleb(-scale))

    def to_output(self, field: FieldDef, value: Any) -> Any:
        return None if value is None else str(value)

    def conversion_is_safe(self, old: FieldDef, new: FieldDef) -> bool:
        if old.type == "INTEGER":
            return self._precision(new) - self._scale(new) >= 16
        if old.type not in {"NUMBER", "CURRENCY", "PERCENT"}:
            return False
        old_type = NumberType() if old.type == "NUMBER" else CurrencyType() if old.type == "CURRENCY" else PercentType()
        old_int = old_type._precision(old) - old_type._scale(old)
        return self._scale(new) >= old_type._scale(old) and self._precision(new) - self._scale(new) >= old_int


class NumberType(_DecimalType):
    key = "NUMBER"


class CurrencyType(_DecimalType):
    key = "CURRENCY"


class PercentType(_DecimalType):
    key = "PERCENT"
    default_precision = 9
    default_scale = 4


class BooleanType(FieldType):
    key = "BOOLEAN"
    graphql_scalar = "Boolean"
    operators = ("eq", "neq", "isNull")

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.Boolean()

    def value_field(self, field: FieldDef) -> ma.fields.Field:
        return ma.fields.Boolean(truthy={True}, falsy={False})


class DateType(FieldType):
    key = "DATE"
    graphql_scalar = "Date"

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.Date()

    def value_field(self, field: FieldDef) -> ma.fields.Field:
        return ma.fields.Date()

    def parse(self, field: FieldDef, value: Any) -> Any:
        if isinstance(value, datetime):
            raise ValidationError(f"{field.name}: expected a date, not a datetime", field=field.name)
        if isinstance(value, date):
            return value
        return super().parse(field, value)

    def to_output(self, field: FieldDef, value: Any) -> Any:
        return None if value is None else value.isoformat()


class DateTimeType(FieldType):
    key = "DATETIME"
    graphql_scalar = "DateTime"
    safe_conversions_from = frozenset()

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return UTCDateTime()

    def value_field(self, field: FieldDef) -> ma.fields.Field:
        return ma.fields.AwareDateTime(default_timezone=None)

    def parse(self, field: FieldDef, value: Any) -> Any:
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValidationError(f"{field.name}: a datetime needs a time zone", field=field.name)
            return value
        return super().parse(field, value)

    def to_output(self, field: FieldDef, value: Any) -> Any:
        return None if value is None else iso_datetime(value)


class EmailType(TextType):
    key = "EMAIL"
    option_fields = {}
    safe_conversions_from = frozenset()

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.String(254)

    def value_field(self, field: FieldDef) -> ma.fields.Field:
        return ma.fields.Email(validate=validate.Length(max=254))

    def max_chars(self, field: FieldDef) -> int | None:
        return 254

    def parse(self, field: FieldDef, value: Any) -> Any:
        parsed = super().parse(field, value.strip() if isinstance(value, str) else value)
        return parsed.lower() if isinstance(parsed, str) else parsed


class PhoneType(TextType):
    key = "PHONE"
    option_fields = {}
    safe_conversions_from = frozenset()

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.String(40)

    def max_chars(self, field: FieldDef) -> int | None:
        return 40

    def value_field(self, field: FieldDef) -> ma.fields.Field:
        return ma.fields.String(
            validate=validate.Regexp(PHONE_PATTERN, error="not a valid phone number")
        )


class UrlType(TextType):
    key = "URL"
    option_fields = {}
    safe_conversions_from = frozenset()

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.String(2048)

    def max_chars(self, field: FieldDef) -> int | None:
        return 2048

    def value_field(self, field: FieldDef) -> ma.fields.Field:
        return ma.fields.Url(schemes={"http", "https"}, validate=validate.Length(max=2048))


class PicklistOptionSchema(ma.Schema):
    value = ma.fields.String(required=True, validate=validate.Length(1, 100))
    label = ma.fields.Raw(load_default=None)
    color = ma.fields.String(load_default=None, validate=validate.Regexp(COLOR_PATTERN))
    active = ma.fields.Boolean(load_default=True)

    @ma.post_load
    def _labels(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        label = data.get("label")
        if label is None:
            data["label"] = {"en": data["value"]}
        elif isinstance(label, str):
            data["label"] = {"en": label}
        elif isinstance(label, dict):
            data["label"] = {str(k): str(v) for k, v in label.items()}
        else:
            raise ma.ValidationError("must be a text or a map of locale to text", "label")
        if data.get("color") is None:
            data.pop("color", None)
        return data


class PicklistType(FieldType):
    key = "PICKLIST"
    operators = EQUALITY
    option_fields = {
        "options": ma.fields.List(
            ma.fields.Nested(PicklistOptionSchema), required=True, validate=validate.Length(1, 1000)
        )
    }

    def check_options(self, options: dict[str, Any]) -> None:
        seen: set[str] = set()
        for option in options["options"]:
            if option["value"] in seen:
                raise ValidationError(f"option value '{option['value']}' appears twice", field="options")
            seen.add(option["value"])

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.String(100)

    def max_chars(self, field: FieldDef) -> int | None:
        return max((len(o.value) for o in field.picklist_options), default=0)

    def allowed(self, field: FieldDef) -> list[str]:
        return [o.value for o in field.picklist_options if o.active]

    def parse_filter_value(self, field: FieldDef, value: Any) -> Any:
        """Filters may name inactive options too: records still hold them."""
        declared = [o.value for o in field.picklist_options]
        if value not in declared:
            raise ValidationError(
                f"{field.name}: '{value}' is not one of {', '.join(declared)}", field=field.name, value=str(value)
            )
        return value

    def value_field(self, field: FieldDef) -> ma.fields.Field:
        allowed = self.allowed(field)
        return ma.fields.String(
            validate=validate.OneOf(allowed, error=f"'{{input}}' is not one of {', '.join(allowed)}")
        )

    def conversion_is_safe(self, old: FieldDef, new: FieldDef) -> bool:
        if old.type != "PICKLIST":
            return False
        return {o.value for o in old.picklist_options} <= {o.value for o in new.picklist_options}


class MultiPicklistType(PicklistType):
    key = "MULTI_PICKLIST"
    is_list = True
    operators = ("contains", "isNull")
    sortable = False
    supports_unique = False
    supports_index = False

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.JSON(none_as_null=True)

    def value_field(self, field: FieldDef) -> ma.fields.Field:
        return ma.fields.List(super().value_field(field))

    def parse_filter_value(self, field: FieldDef, value: Any) -> Any:
        values = value if isinstance(value, list) else [value]
        return [PicklistType.parse_filter_value(self, field, v) for v in values]

    def parse(self, field: FieldDef, value: Any) -> Any:
        parsed = super().parse(field, value)
        if parsed is None:
            return None
        ordered = [o.value for o in field.picklist_options]
        return sorted(set(parsed), key=ordered.index)

    def conversion_is_safe(self, old: FieldDef, new: FieldDef) -> bool:
        if old.type != "MULTI_PICKLIST":
            return False
        return {o.value for o in old.picklist_options} <= {o.value for o in new.picklist_options}


class LookupType(FieldType):
    key = "LOOKUP"
    graphql_scalar = "ID"
    operators = EQUALITY
    supports_default = False
    option_fields = {
        "target": ma.fields.String(required=True),
        "onDelete": ma.fields.String(
            load_default="SET_NULL", validate=validate.OneOf(["RESTRICT", "SET_NULL", "CASCADE"])
        ),
    }

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.String(36)

    def value_field(self, field: FieldDef) -> ma.fields.Field:
        return ma.fields.UUID()

    def parse(self, field: FieldDef, value: Any) -> Any:
        parsed = super().parse(field, value)
        return None if parsed is None else str(parsed)

    def conversion_is_safe(self, old: FieldDef, new: FieldDef) -> bool:
        return old.type == "LOOKUP" and old.target == new.target


class AutoNumberType(FieldType):
    key = "AUTO_NUMBER"
    operators = TEXT_OPERATORS
    writable = False
    supports_default = False
    option_fields = {
        "format": ma.fields.String(
            load_default="{00000}",
            validate=[
                validate.Length(1, 60),
                validate.Regexp(r"^.*\{0+\}", error="must contain a counter such as {{00000}}"),
            ],
        ),
        "startAt": ma.fields.Integer(load_default=1, validate=validate.Range(0, 10**12)),
    }

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.String(64)

    def max_chars(self, field: FieldDef) -> int | None:
        return 64

    def value_field(self, field: FieldDef) -> ma.fields.Field:
        return ma.fields.String()

    def parse_filter_value(self, field: FieldDef, value: Any) -> Any:
        return str(value)

    def render(self, field: FieldDef, number: int) -> str:
        fmt = field.opt("format", "{00000}")
        return AUTO_NUMBER_PATTERN.sub(lambda m: str(number).zfill(len(m.group(1))), fmt, count=1)

    def conversion_is_safe(self, old: FieldDef, new: FieldDef) -> bool:
        return old.type == "AUTO_NUMBER"


class JsonType(FieldType):
    key = "JSON"
    graphql_scalar = "JSON"
    operators = ("isNull",)
    sortable = False
    supports_unique = False
    supports_index = False

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        return sa.JSON(none_as_null=True)

    def value_field(self, field: FieldDef) -> ma.fields.Field:
        return ma.fields.Raw()


BUILTIN_TYPES: tuple[FieldType, ...] = (
    TextType(),
    LongTextType(),
    IntegerType(),
    NumberType(),
    CurrencyType(),
    PercentType(),
    BooleanType(),
    DateType(),
    DateTimeType(),
    EmailType(),
    PhoneType(),
    UrlType(),
    PicklistType(),
    MultiPicklistType(),
    LookupType(),
    AutoNumberType(),
    JsonType(),
)

_BY_KEY = {t.key: t for t in BUILTIN_TYPES}


def registry_max_chars(field: FieldDef) -> int | None:
    """The longest value of a built-in text-like field (None: not text-like, or not built in)."""
    field_type = _BY_KEY.get(field.type)
    return field_type.max_chars(field) if field_type else None
