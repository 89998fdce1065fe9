"""SQL for every field's value: a column, or a formula or rollup computed from columns.

Formulas compile from their checked expressions; rollups are correlated aggregates over the live
child records. Both are computed whenever they are read, so they are always current: no child
insert, update, re-parenting, delete or restore (nor a concurrent one) can leave them stale.

``ComputedFields`` checks each expression once per metadata version; ``FieldSql`` turns them into
SQL for one dialect at one instant (TODAY() and NOW() are fixed per query).
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.model.definitions import FieldDef, ObjectDef, TenantMetadata, ValidationRuleDef
from tessera.model.expressions import (
    CheckedExpression,
    Context,
    ExprType,
    RecordResolver,
    check,
    check_for_object,
    compile_sql,
    field_expr_type,
)
from tessera.model.expressions.types import RESULT_TYPES
from tessera.model.field_types import registry
from tessera.model.field_types.computed import DECIMAL_RESULTS
from tessera.model.records.tables import RecordTables

MAX_NESTING = 16
"""Computed fields may use computed fields this many levels deep (cycles are refused on save)."""


def check_formula(meta: TenantMetadata, object_name: str, field: FieldDef) -> CheckedExpression:
    """The formula's expression checked against ``meta``."""
    return check_for_object(
        field.opt("expression", ""), meta, object_name, Context.FORMULA,
        expected=RESULT_TYPES[field.opt("resultType")],
    )


def check_rollup_filter(meta: TenantMetadata, field: FieldDef) -> CheckedExpression | None:
    source = field.opt("filter")
    if not source:
        return None
    return check_for_object(source, meta, field.opt("childObject", ""), Context.FILTER)


def check_rule(meta: TenantMetadata, object_name: str, rule: ValidationRuleDef) -> CheckedExpression:
    return check_for_object(rule.expression, meta, object_name, Context.VALIDATION)


def check_default(field: FieldDef) -> CheckedExpression:
    """A default value expression: it reads no fields, and gives a value of the field's type.

    A picklist's default is a text; the write path checks it is one of the options.
    """
    expected = field_expr_type(field)
    if expected == ExprType.PICKLIST:
        expected = ExprType.TEXT
    return check(field.default_expression or "", None, Context.DEFAULT, expected=expected)


class ComputedFields:
    """The checked expressions of one metadata version: formulas, rollup filters, validation rules
    and default values, each checked on first use."""

    def __init__(self, meta: TenantMetadata) -> None:
        self.meta = meta
        self._lock = threading.Lock()
        self._checked: dict[tuple[str, str, str], CheckedExpression | None] = {}

    def _cached(self, key: tuple[str, str, str], build: Any) -> Any:
        with self._lock:
            if key in self._checked:
                return self._checked[key]
        checked = build()
        with self._lock:
            self._checked[key] = checked
        return checked

    def cached(self, key: tuple[str, str, str], build: Any) -> Any:
        """Anything else checked once per metadata version (workflows' compiled expressions)."""
        return self._cached(key, build)

    def expression(self, obj: ObjectDef, field: FieldDef) -> CheckedExpression | None:
        """A formula's expression, or a rollup's filter (None when it has none)."""
        if field.type == "FORMULA":
            return self._cached(("field", obj.name, field.name), lambda: check_formula(self.meta, obj.name, field))
        return self._cached(("field", obj.name, field.name), lambda: check_rollup_filter(self.meta, field))

    def rule(self, obj: ObjectDef, rule: ValidationRuleDef) -> CheckedExpression:
        return self._cached(("rule", obj.name, rule.name), lambda: check_rule(self.meta, obj.name, rule))

    def default(self, obj: ObjectDef, field: FieldDef) -> CheckedExpression:
        return self._cached(("default", obj.name, field.name), lambda: check_default(field))


class FieldSql:
    """Any field's value as SQL, for one dialect and one instant (see the module docstring)."""

    def __init__(
        self, tables: RecordTables, computed: ComputedFields, dialect: str, now: datetime | None = None
    ) -> None:
        self.tables = tables
        self.computed = computed
        self.dialect = dialect
        self.now = now or utcnow()
        self._depth = 0

    def resolver(self, object_name: str, source: sa.FromClause | None = None) -> RecordResolver:
        """Field paths of ``object_name`` as SQL, computed fields included."""
        return RecordResolver(self.tables, object_name, source=source, fields=self)

    def value(self, obj: ObjectDef, field: FieldDef, source: sa.FromClause) -> sa.ColumnElement[Any]:
        if not field.is_computed:
            return source.c[field.column_name]
        if self._depth >= MAX_NESTING:
            raise RecursionError(f"{obj.name}.{field.name}: computed fields nest more than {MAX_NESTING} deep")
        self._depth += 1
        try:
            if field.type == "FORMULA":
                value = self._formula(obj, field, source)
            else:
                value = self._rollup(obj, field, source)
        finally:
            self._depth -= 1
        return sa.type_coerce(value, registry().value_type(field).column_type(field))

    def _formula(self, obj: ObjectDef, field: FieldDef, source: sa.FromClause) -> sa.ColumnElement[Any]:
        checked = self.computed.expression(obj, field)
        assert checked is not None
        value = compile_sql(checked, self.resolver(obj.name, source), dialect=self.dialect, now=self.now)
        if field.opt("resultType") in DECIMAL_RESULTS:
            # Rounding to the scale is part of the value, so filters, sorting and output agree. The
            # database's own ROUND suffices here: the value is final, nothing discontinuous follows.
            value = sa.func.round(value, field.opt("scale", 2))
        return value

    def _rollup(self, obj: ObjectDef, field: FieldDef, source: sa.FromClause) -> sa.ColumnElement[Any]:
        child = self.tables.meta.by_name[field.opt("childObject")]
        lookup = child.fields_by_name[field.opt("childField")]
        children = self.tables.table(child.name).alias()
        conditions: list[sa.ColumnElement[Any]] = [
            children.c[lookup.column_name] == source.c.id,
            children.c.deleted_at.is_(None),
        ]
        condition = self.computed.expression(obj, field)
        if condition is not None:
            compiled = compile_sql(condition, self.resolver(child.name, children), dialect=self.dialect, now=self.now)
            conditions.append(compiled == sa.true())
        function = field.opt("function")
        if function == "COUNT":
            aggregate: sa.ColumnElement[Any] = sa.func.count()
        else:
            summarized = self.value(child, child.fields_by_name[field.opt("summarizedField")], children)
            aggregate = getattr(sa.func, function.lower())(summarized)
            if function == "AVG":
                aggregate = sa.func.round(aggregate, field.opt("scale", 2))
        subquery = sa.select(aggregate).select_from(children).where(*conditions).correlate(source).scalar_subquery()
        if function == "SUM":
            return sa.func.coalesce(subquery, 0)
        return subquery
