"""Turning plugins' definition dataclasses into Tessera's own field types and expression functions."""

from __future__ import annotations

from typing import Any

from tessera.core.errors import ValidationError
from tessera.model.definitions import FieldDef
from tessera.model.expressions import ExprType, FunctionSpec, Signature
from tessera.model.field_types import FieldType, registry
from tessera.plugin import ExpressionFunctionSpec, FieldTypeSpec

FIELD_BASES = ("TEXT", "LONG_TEXT", "INTEGER", "NUMBER", "CURRENCY", "PERCENT", "BOOLEAN", "DATE", "DATETIME",
               "EMAIL", "PHONE", "URL")


def field_type(spec: FieldTypeSpec, plugin: str) -> FieldType:
    """A field type stored and filtered like ``spec.base``, validating values with ``spec.normalize``."""
    if spec.base not in FIELD_BASES:
        raise ValueError(f"plugin {plugin}: field type {spec.key} has base {spec.base}, not one of {FIELD_BASES}")
    base = type(registry().get(spec.base))
    normalize = spec.normalize

    def parse(self: FieldType, field: FieldDef, value: Any) -> Any:
        parsed = base.parse(self, field, value)
        if parsed is None or normalize is None:
            return parsed
        try:
            return normalize(parsed)
        except ValueError as exc:
            raise ValidationError(f"{field.name}: {exc}", field=field.name, value=str(value)[:80]) from None

    def conversion_is_safe(self: FieldType, old: FieldDef, new: FieldDef) -> bool:
        # Values of another type were never checked by this type's own rule.
        return old.type == self.key and base.conversion_is_safe(self, old, new)

    attrs = {"key": spec.key, "parse": parse, "conversion_is_safe": conversion_is_safe, "plugin": plugin,
             "description": spec.description}
    return type(f"{spec.key.title()}Type", (base,), attrs)()


def expression_function(spec: ExpressionFunctionSpec, plugin: str) -> FunctionSpec:
    """An expression function computed in Python, and in SQL when the plugin gives ``sql``."""
    try:
        params = tuple(ExprType(p) for p in spec.params)
        result = ExprType(spec.result)
    except ValueError as exc:
        raise ValueError(f"plugin {plugin}: function {spec.name}: {exc}") from None
    sql = None
    if spec.sql is not None:
        build = spec.sql

        def sql(call: Any) -> Any:
            return build(*call.args)

    usage = f"{spec.name}({', '.join(p.lower() for p in spec.params)})"
    return FunctionSpec(
        name=spec.name.upper(), category=f"plugin {plugin}", usage=usage, summary=spec.summary,
        signatures=(Signature(params, result, spec.python, sql),), examples=spec.examples,
    )
