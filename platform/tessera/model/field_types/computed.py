"""Computed field types: FORMULA and ROLLUP have no column; SQL computes their values on read.

Their values behave like the type named by the ``resultType`` option (a formula's declared result,
a rollup's derived one): ``FieldTypeRegistry.value_type`` hands that type to readers, filters and
the generated API. What they compute is checked against the tenant's metadata by the metadata
service (``services/metadata/computed.py``); here only the shape of the options is.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from marshmallow import validate

from tessera.core.errors import ValidationError
from tessera.model.definitions import FieldDef
from tessera.model.field_types.base import FieldType

RESULT_TYPES = ("TEXT", "NUMBER", "CURRENCY", "PERCENT", "INTEGER", "BOOLEAN", "DATE", "DATETIME")
DECIMAL_RESULTS = frozenset({"NUMBER", "CURRENCY", "PERCENT"})
ROLLUP_FUNCTIONS = ("COUNT", "SUM", "MIN", "MAX", "AVG")
DEFAULT_SCALE = 2


class _ComputedType(FieldType):
    writable = False
    supports_unique = False
    supports_index = False
    supports_default = False

    def column_type(self, field: FieldDef) -> sa.types.TypeEngine[Any]:
        raise TypeError(f"{self.key} fields have no column")

    def value_field(self, field: FieldDef) -> ma.fields.Field:
        raise TypeError(f"{self.key} fields are never written")

    def conversion_is_safe(self, old: FieldDef, new: FieldDef) -> bool:
        return False


class FormulaType(_ComputedType):
    key = "FORMULA"
    option_fields = {
        "resultType": ma.fields.String(required=True, validate=validate.OneOf(RESULT_TYPES)),
        "expression": ma.fields.String(required=True, validate=validate.Length(min=1)),
        "scale": ma.fields.Integer(validate=validate.Range(0, 10)),
    }

    def check_options(self, options: dict[str, Any]) -> None:
        _check_scale(options)


class RollupType(_ComputedType):
    key = "ROLLUP"
    option_fields = {
        "childObject": ma.fields.String(required=True),
        "childField": ma.fields.String(required=True),
        "function": ma.fields.String(required=True, validate=validate.OneOf(ROLLUP_FUNCTIONS)),
        "summarizedField": ma.fields.String(),
        "filter": ma.fields.String(validate=validate.Length(min=1)),
        "resultType": ma.fields.String(validate=validate.OneOf(RESULT_TYPES)),
        "scale": ma.fields.Integer(validate=validate.Range(0, 10)),
    }
    """``resultType`` and ``scale`` are derived from the summarized field when the rollup is saved."""

    def check_options(self, options: dict[str, Any]) -> None:
        if options["function"] == "COUNT":
            if options.get("summarizedField"):
                raise ValidationError("option 'summarizedField': COUNT counts records, it summarizes no field",
                                      field="summarizedField")
        elif not options.get("summarizedField"):
            raise ValidationError(f"option 'summarizedField': {options['function']} needs a field to summarize",
                                  field="summarizedField")


def _check_scale(options: dict[str, Any]) -> None:
    if options["resultType"] in DECIMAL_RESULTS:
        options.setdefault("scale", DEFAULT_SCALE)
    else:
        # NOTE: dropped rather than refused: an update from CURRENCY to TEXT keeps the old options.
        options.pop("scale", None)


COMPUTED_TYPES: tuple[FieldType, ...] = (FormulaType(), RollupType())
