"""Compile the generated API's filters, orderings and keyset pagination to SQL expressions."""

from __future__ import annotations

import json
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from tessera.core.errors import ValidationError
from tessera.model.access import SYSTEM, UserAccess
from tessera.model.definitions import FieldDef, ObjectDef
from tessera.model.field_types import registry
from tessera.model.field_types.builtin import DateTimeType
from tessera.model.records.computed import FieldSql

DIRECTIONS = {
    "AscNullsFirst": (True, True),
    "AscNullsLast": (True, False),
    "DescNullsFirst": (False, True),
    "DescNullsLast": (False, False),
}

# System fields of every object, as (api name, column, scalar used for filters).
SYSTEM_FILTER_FIELDS: dict[str, tuple[str, str]] = {
    "id": ("id", "ID"),
    "createdAt": ("created_at", "DateTime"),
    "updatedAt": ("updated_at", "DateTime"),
    "createdBy": ("created_by", "ID"),
    "updatedBy": ("updated_by", "ID"),
    "owner": ("owner_id", "ID"),
    "version": ("version", "Int"),
}
SYSTEM_SORT_FIELDS = ("id", "createdAt", "updatedAt", "version")
ID_OPERATORS = frozenset({"eq", "neq", "in", "notIn", "isNull"})
COMPARISON_OPERATORS = ID_OPERATORS | {"gt", "gte", "lt", "lte"}
_DATETIME = DateTimeType()
_DATETIME_FIELD = FieldDef(name="value", type="DATETIME", column_name="value", labels={})


def _system_value(scalar: str, value: Any, where: str) -> Any:
    """Parse a filter value of a system field (createdAt, version, ids)."""
    if scalar == "DateTime":
        try:
            return _DATETIME.parse(_DATETIME_FIELD, value)
        except ValidationError as exc:
            raise ValidationError(exc.message.replace("value:", f"{where}:", 1), field=where) from None
    if scalar == "Int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"{where}: not an integer", field=where)
        return value
    return str(value)


@dataclass(frozen=True)
class OrderKey:
    column: sa.ColumnElement[Any]
    ascending: bool
    nulls_first: bool
    label: str

    @property
    def signature_part(self) -> str:
        return f"{self.label}:{int(self.ascending)}{int(self.nulls_first)}"

    def clause(self, reverse: bool = False) -> sa.ColumnElement[Any]:
        ascending = self.ascending != reverse
        nulls_first = self.nulls_first != reverse
        ordered = self.column.asc() if ascending else self.column.desc()
        return ordered.nulls_first() if nulls_first else ordered.nulls_last()


class QueryCompiler:
    """Builds WHERE and ORDER BY clauses for one tenant metadata version and one dialect.

    Formula and rollup fields filter and sort like stored ones: ``fields`` turns them into SQL.
    """

    def __init__(self, fields: FieldSql, access: UserAccess = SYSTEM) -> None:
        self.fields = fields
        self.tables = fields.tables
        self.dialect = fields.dialect
        self.access = access

    # --- filters --------------------------------------------------------------------------
    # Every leaf condition is two-valued (TRUE or FALSE, never NULL), so `not` is the exact
    # complement: `neq`/`notIn` include records without a value, the other operators exclude
    # them. An operator given an explicit null is ignored, as if it was not given.
    def where(self, obj: ObjectDef, filter_: Mapping[str, Any] | None, path: str = "filter") -> sa.ColumnElement[bool]:
        """Live records of ``obj`` the user may read, matching ``filter_`` (lookup filters too)."""
        table = self.tables.table(obj.name)
        live = table.c.deleted_at.is_(None)
        reach = self.access.row_filter(obj, table)
        if reach is not None:
            live = sa.and_(live, reach)
        if not filter_:
            return live
        return sa.and_(live, self._filter(obj, table, filter_, path))

    def _filter(self, obj: ObjectDef, table: sa.Table, filter_: Mapping[str, Any], path: str) -> sa.ColumnElement[bool]:
        clauses: list[sa.ColumnElement[bool]] = []
        for key, value in filter_.items():
            if value is None:
                continue
            where = f"{path}.{key}"
            if key == "and":
                clauses.append(sa.and_(sa.true(), *[
                    self._filter(obj, table, f, f"{where}.{i}") for i, f in enumerate(value)
                ]))
            elif key == "or":
                clauses.append(sa.or_(sa.false(), *[
                    self._filter(obj, table, f, f"{where}.{i}") for i, f in enumerate(value)
                ]))
            elif key == "not":
                clauses.append(sa.not_(self._filter(obj, table, value, where)))
            elif key in SYSTEM_FILTER_FIELDS:
                column, scalar = SYSTEM_FILTER_FIELDS[key]
                clauses.append(self._system_condition(table.c[column], scalar, value, where))
            else:
                field = obj.field(key)
                if field is None:
                    raise ValidationError(f"{obj.name} has no field '{key}'", field=where)
                clauses.append(self._field_condition(obj, table, field, value, where))
        return sa.and_(sa.true(), *clauses)

    def _field_condition(
        self, obj: ObjectDef, table: sa.Table, field: FieldDef, ops: Mapping[str, Any], where: str
    ) -> sa.ColumnElement[bool]:
        column = self.fields.value(obj, field, table)
        if field.is_lookup:
            return self._lookup_condition(field, column, ops, where)
        field_type = registry().value_type(field)
        clauses = []
        for op, value in ops.items():
            if value is None:
                continue
            if op not in field_type.operators:
                raise ValidationError(f"operator '{op}' does not apply to {field.type} field '{field.name}'", field=where)

            def parse(v: Any, at: str = f"{where}.{op}") -> Any:
                try:
                    return field_type.parse_filter_value(field, v)
                except ValidationError as exc:
                    raise ValidationError(exc.message, field=at) from None

            if op == "contains" and field_type.is_list:
                clauses.append(self._json_array_contains(column, parse([value])[0]))
            elif field.is_computed:
                clauses.append(self._compare_computed(column, op, value, parse))
            else:
                clauses.append(self._compare(column, op, value, parse))
        return sa.and_(sa.true(), *clauses)

    def _compare_computed(self, value: sa.ColumnElement[Any], op: str, given: Any, parse: Any) -> sa.ColumnElement[bool]:
        """A two-valued comparison that computes ``value`` once per row.

        ``_compare`` repeats the column in an IS NOT NULL test, which costs nothing for a column
        and lets indexes serve; a formula would be computed twice, so its three-valued comparison
        is folded to FALSE with COALESCE instead. Negative operators keep their nulls (as above).
        """
        if op == "isNull":
            return value.is_(None) if given else value.is_not(None)
        negated = {"neq": "eq", "notIn": "in"}
        positive = self._compare(value, negated.get(op, op), given, parse)
        # The positive form is "value IS NOT NULL AND <comparison>"; keep only the comparison.
        comparison = positive.clauses[-1] if isinstance(positive, sa.BooleanClauseList) else positive
        folded = sa.func.coalesce(comparison, sa.false())
        return sa.not_(folded) if op in negated else folded

    def _compare(self, column: sa.ColumnElement[Any], op: str, value: Any, parse: Any) -> sa.ColumnElement[bool]:
        """One two-valued comparison; ``parse`` turns an input value into a column value."""
        if op == "isNull":
            return column.is_(None) if value else column.is_not(None)
        if op in {"contains", "startsWith"}:
            pattern = _escape_like(str(value))
            pattern = f"%{pattern}%" if op == "contains" else f"{pattern}%"
            lower = sa.func.tessera_lower if self.dialect == "sqlite" else sa.func.lower
            return sa.and_(column.is_not(None), lower(column).like(lower(sa.literal(pattern)), escape="\\"))
        if op in {"in", "notIn"}:
            values = [parse(v) for v in value]
            if op == "in":
                return sa.and_(column.is_not(None), column.in_(values))
            return sa.or_(column.is_(None), column.not_in(values))
        parsed = parse(value)
        if op == "neq":
            return sa.or_(column.is_(None), column != parsed)
        comparisons = {
            "eq": operator.eq, "gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le,
        }
        return sa.and_(column.is_not(None), comparisons[op](column, parsed))

    def _lookup_condition(
        self, field: FieldDef, column: sa.ColumnElement[Any], ops: Mapping[str, Any], where: str
    ) -> sa.ColumnElement[bool]:
        """A lookup filters by the target's fields; ``isNull`` and ``id`` apply to the column itself.

        A target the user cannot reach reads as null, so it also filters as null: ``isNull`` and
        ``id`` see the column only where it points at a reachable record.
        """
        target = self.tables.meta.object(field.target or "")
        assert target is not None
        target_table = self.tables.table(target.name)
        reach = self.access.row_filter(target, target_table)
        seen = column
        if reach is not None:
            reachable = sa.select(target_table.c.id).where(reach)
            seen = sa.case((column.in_(reachable), column), else_=sa.null())
        clauses = []
        nested = {}
        for key, value in ops.items():
            if value is None:
                continue
            if key == "isNull":
                clauses.append(seen.is_(None) if value else seen.is_not(None))
            elif key == "id":
                clauses.append(self._system_condition(seen, "ID", value, f"{where}.id"))
            else:
                nested[key] = value
        if nested:
            inner = sa.select(target_table.c.id).where(self.where(target, nested, where))
            clauses.append(sa.and_(column.is_not(None), column.in_(inner)))
        return sa.and_(sa.true(), *clauses)

    def _system_condition(
        self, column: sa.ColumnElement[Any], scalar: str, ops: Mapping[str, Any], where: str
    ) -> sa.ColumnElement[bool]:
        allowed = ID_OPERATORS if scalar == "ID" else COMPARISON_OPERATORS
        clauses = []
        for op, value in ops.items():
            if value is None:
                continue
            if op not in allowed:
                raise ValidationError(f"operator '{op}' does not apply here", field=f"{where}.{op}")

            def parse(v: Any, at: str = f"{where}.{op}") -> Any:
                return _system_value(scalar, v, at)

            clauses.append(self._compare(column, op, value, parse))
        return sa.and_(sa.true(), *clauses)

    def _json_array_contains(self, column: sa.ColumnElement[Any], value: str) -> sa.ColumnElement[bool]:
        if self.dialect == "sqlite":
            each = sa.func.json_each(column).table_valued("value")
            return sa.exists(sa.select(sa.literal(1)).select_from(each).where(each.c.value == value))
        as_jsonb = sa.cast(column, postgresql.JSONB)
        contained = as_jsonb.contains(sa.cast(sa.literal(json.dumps([value])), postgresql.JSONB))
        return sa.and_(column.is_not(None), contained)

    # --- ordering -------------------------------------------------------------------------
    def order_keys(self, obj: ObjectDef, order_by: Sequence[Mapping[str, str]] | None) -> list[OrderKey]:
        table = self.tables.table(obj.name)
        keys: list[OrderKey] = []
        for index, item in enumerate(order_by or ()):
            entries = [(k, v) for k, v in item.items() if v is not None]
            if len(entries) != 1:
                raise ValidationError("each orderBy entry names exactly one field", field=f"orderBy.{index}")
            name, direction = entries[0]
            ascending, nulls_first = DIRECTIONS[direction]
            if name in SYSTEM_FILTER_FIELDS and name in SYSTEM_SORT_FIELDS:
                column = table.c[SYSTEM_FILTER_FIELDS[name][0]]
            else:
                field = obj.field(name)
                if field is None or not registry().value_type(field).sortable:
                    raise ValidationError(f"cannot sort {obj.name} by '{name}'", field=f"orderBy.{index}")
                column = self.fields.value(obj, field, table)
            if name == "id":
                keys.append(OrderKey(column, ascending, nulls_first, "id"))
                return keys
            keys.append(OrderKey(column, ascending, nulls_first, name))
        keys.append(OrderKey(table.c.id, True, False, "id"))
        return keys

    @staticmethod
    def after(keys: Sequence[OrderKey], values: Sequence[Any], reverse: bool = False) -> sa.ColumnElement[bool]:
        """Rows strictly after ``values`` in the order of ``keys`` (or before, when ``reverse``)."""
        key, value = keys[0], values[0]
        rest = keys[1:]
        ascending = key.ascending != reverse
        nulls_first = key.nulls_first != reverse
        col = key.column
        tail = QueryCompiler.after(rest, values[1:], reverse) if rest else sa.false()
        if value is None:
            same = sa.and_(col.is_(None), tail)
            return sa.or_(same, col.is_not(None)) if nulls_first else same
        if isinstance(value, bool):
            # SQLAlchemy only compares True/False by identity; a typed literal orders (FALSE < TRUE).
            value = sa.literal(value, sa.Boolean())
        beyond = col > value if ascending else col < value
        parts = [beyond, sa.and_(col == value, tail)]
        if not nulls_first:
            parts.append(col.is_(None))
        return sa.or_(*parts)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
