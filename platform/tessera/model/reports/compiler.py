"""A report definition compiled to ONE SQLAlchemy Core statement, for one caller and one dialect.

What the statement is made of:

- the source object's live records the caller may read (``QueryCompiler.where``: structured filter
  and the caller's record predicate), an expression filter (checked against the caller's view of
  the metadata, so an unreadable field is unknown; its lookup hops are the report's own LEFT JOINs,
  so a parent the caller cannot reach reads as null there too), and a date range resolved in the
  tenant's zone;
- lookup paths joined once each (``paths.PathJoins``);
- groupings (date buckets from ``calendar``) and aggregates; the group order is a ``row_number()``
  window (``_pos``), so ``limit`` is a plain ``_pos <= n`` and every grouped query has the same shape;
- ``others``: groups are ranked in a CTE joined back to the records, and everything ranked past the
  limit is re-aggregated from the records into one row, so every aggregate (count distinct too) is exact;
- totals: derived in Python from the group rows when that is exact (count, sum, min, max, avg from sums
  and counts); otherwise (count distinct, or a limit without ``others``) one totals row is added with
  UNION ALL, still one statement.

AVG is selected as a sum and a count and divided in Python with exact decimals, and formula measures
are evaluated in Python from the other measures (SQL versions of both only order the groups), so the
figures agree to the last digit on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tessera.core.errors import ValidationError
from tessera.model.access import Action, UserAccess, visible_metadata
from tessera.model.definitions import FieldDef
from tessera.model.expressions import Context, check_for_object, compile_sql
from tessera.model.records.computed import FieldSql
from tessera.model.records.query import QueryCompiler
from tessera.model.reports import calendar
from tessera.model.reports.definition import ReportDefinition
from tessera.model.reports.formula import Node, formula_sql, parse_formula
from tessera.model.reports.paths import PathJoins, Resolved, check_filter_fields
from tessera.storage.types import ExactDecimal

NUMERIC = frozenset({"INTEGER", "NUMBER", "CURRENCY", "PERCENT"})
ORDERED = NUMERIC | {"DATE", "DATETIME", "TEXT", "PICKLIST", "EMAIL", "PHONE", "URL", "AUTO_NUMBER"}
MAX_ROWS = 10_000
"""Rows of a report without a limit (exports stream without it)."""


@dataclass(frozen=True)
class Settings:
    """What a run depends on besides the definition: the tenant's calendar and the instant."""

    timezone: str = "UTC"
    fiscal_start: int = 1
    now: datetime | None = None
    locale: str | None = None


@dataclass
class GroupOut:
    name: str
    label: str
    type: str
    resolved: Resolved
    bucketed: bool


@dataclass
class MeasureOut:
    alias: str
    label: str
    function: str | None
    type: str
    field: FieldDef | None
    scale: int = 0
    formula: Node | None = None
    columns: tuple[str, ...] = ()
    """(its selected column, the per-record input column); the count of AVG is ``<column>_n``."""
    value_type: Any = None
    integer: bool = False


@dataclass
class CompiledReport:
    definition: ReportDefinition
    statement: sa.Select[Any]
    groups: list[GroupOut] = field(default_factory=list)
    measures: list[MeasureOut] = field(default_factory=list)
    columns: list[GroupOut] = field(default_factory=list)
    """The listed columns of a report without groupings."""
    sql_totals: bool = False


def compile_report(definition: ReportDefinition, fields: FieldSql, access: UserAccess, settings: Settings,
                   *, unlimited: bool = False) -> CompiledReport:
    """The statement of ``definition`` for ``access``; refuses what the caller may not use."""
    meta = fields.tables.meta
    obj = meta.object(definition.object)
    if obj is None or not access.can(obj, Action.READ):
        raise ValidationError(f"object: no object '{definition.object}'", field="object")
    joins = PathJoins(fields, access, obj, settings.locale)
    compiler = QueryCompiler(fields, access)
    check_filter_fields(joins, obj, definition.filter, "filter")
    where = compiler.where(obj, definition.filter)
    if definition.expression:
        where = sa.and_(where, _expression(definition.expression, meta, access, joins))
    if definition.date_range is not None:
        where = sa.and_(where, _date_range(definition, joins, settings, fields.now))
    if not definition.grouped:
        return _listing(definition, joins, where, unlimited)
    groups = [_group(g.field, g.bucket, i, joins, settings, fields.dialect) for i, g in enumerate(definition.group_by)]
    inputs: list[Any] = [g.resolved.column.label(f"g{i}") for i, g in enumerate(groups)]
    measures, inputs_m = _measure_inputs(definition, joins, compiler, obj)
    # Keys and measure inputs are computed in a subquery and grouped by its plain columns: grouping
    # by expressions would need each one repeated identically (bound parameters included) in GROUP BY.
    # A report of plain counts has no per-record input: a constant column keeps the subquery valid.
    selected_rows = [*inputs, *inputs_m] or [sa.literal_column("1").label("_one")]
    rows = sa.select(*selected_rows).select_from(joins.from_clause).where(where).subquery("r")
    selected, order_sql = _aggregates(measures, rows)
    keys = [rows.c[f"g{i}"] for i in range(len(groups))]
    order = _order(definition, groups, keys, order_sql, fields.dialect)
    sql_totals = any(m.function == "COUNT_DISTINCT" for m in measures) or (
        definition.limit is not None and not definition.others)
    if definition.others:
        inner = _others(definition, rows, keys, measures, order)
    else:
        # select_from: without groupings, COUNT(*) alone would not name the rows it counts.
        inner = (sa.select(*[k.label(f"g{i}") for i, k in enumerate(keys)], *selected,
                           sa.func.row_number().over(order_by=order).label("_pos")).select_from(rows).group_by(*keys))
    grouped = inner.subquery("g")
    body: Any = sa.select(*[c for c in grouped.c], sa.literal_column("0").label("_total"))
    if definition.limit is not None and not definition.others:
        body = body.where(grouped.c["_pos"] <= definition.limit)
    if sql_totals:
        totals = sa.select(*[sa.null().label(f"g{i}") for i in range(len(keys))], *selected,
                           sa.null().label("_pos"), sa.literal_column("1").label("_total")).select_from(rows)
        body = sa.union_all(body, totals)
    union = body.subquery("u")
    statement = sa.select(*union.c).order_by(union.c["_total"], union.c["_pos"])
    return CompiledReport(definition, statement, groups, measures, sql_totals=sql_totals)


def _expression(source: str, meta: Any, access: UserAccess, joins: PathJoins) -> sa.ColumnElement[bool]:
    visible = visible_metadata(meta, access.profile)
    try:
        checked = check_for_object(source, visible, joins.base.name, Context.FILTER)
    except ValidationError as exc:
        raise ValidationError(f"expression: {exc.message}", field="expression") from None
    fields = joins.fields
    compiled = compile_sql(checked, ReachableResolver(joins), dialect=fields.dialect, now=fields.now)
    return sa.func.coalesce(compiled, sa.false()) == sa.true()


class ReachableResolver:
    """Expression paths for a report: hops through lookups to objects are the report's LEFT JOINs,
    whose ON clause holds the target's record predicate (``PathJoins``). The expressions' default
    resolver reads a parent through a correlated subquery without it, which would let a filter match
    against a record the caller cannot see. Hops to users (``owner.name``) keep the default."""

    def __init__(self, joins: PathJoins) -> None:
        self.joins = joins
        self.fields = joins.fields

    def __call__(self, path: tuple[str, ...]) -> sa.ColumnElement[Any]:
        meta, obj, hops = self.joins.meta, self.joins.base, 0
        for name in path[:-1]:
            field = obj.field(name)
            target = meta.object(field.target or "") if field is not None and field.is_lookup else None
            if target is None:
                break
            obj, hops = target, hops + 1
        if hops == 0:
            return self.fields.resolver(self.joins.base.name)(path)
        source, reached = self.joins.lookups(path[:hops])
        return self.fields.resolver(reached.name, source)(path[hops:])


def _date_range(definition: ReportDefinition, joins: PathJoins, settings: Settings, now: datetime
                ) -> sa.ColumnElement[bool]:
    spec = definition.date_range
    assert spec is not None
    resolved = joins.resolve(spec.field, "dateRange.field")
    if resolved.type not in ("DATE", "DATETIME"):
        raise ValidationError(f"dateRange.field: '{spec.field}' is not a date", field="dateRange.field")
    today = now.astimezone(calendar.check_zone(settings.timezone)).date()
    if spec.range is not None:
        start, end = calendar.relative_range(spec.range, today, settings.fiscal_start)
        bounds: list[Any] = [start, end]
    else:
        start = calendar.parse_day(spec.start, "dateRange.from") if spec.start else None
        last = calendar.parse_day(spec.end, "dateRange.to") if spec.end else None
        bounds = [start, None if last is None else last.fromordinal(last.toordinal() + 1)]
    bounds = [None if b is None else calendar.shifted((b, b), spec.shift_years)[0] for b in bounds]
    if resolved.type == "DATETIME":
        bounds = [None if b is None else calendar.local_midnight_utc(b, settings.timezone) for b in bounds]
    column = resolved.column
    parts = [column.is_not(None)]
    if bounds[0] is not None:
        parts.append(column >= sa.literal(bounds[0], column.type))
    if bounds[1] is not None:
        parts.append(column < sa.literal(bounds[1], column.type))
    return sa.and_(*parts)


def _listing(definition: ReportDefinition, joins: PathJoins, where: Any, unlimited: bool) -> CompiledReport:
    if not definition.columns:
        raise ValidationError("columns: list columns, or give groupings or measures", field="columns")
    columns = []
    for i, path in enumerate(definition.columns):
        resolved = joins.resolve(path, f"columns.{i}")
        columns.append(GroupOut(path, resolved.label, resolved.type, resolved, False))
    by_name = {c.name: c for c in columns}
    order = []
    for i, item in enumerate(definition.order_by):
        found = by_name.get(item.key) or GroupOut(item.key, "", "", joins.resolve(item.key, f"orderBy.{i}.field"), False)
        column = found.resolved.column
        order.append((column.desc() if item.descending else column.asc()).nulls_last())
    order.append(joins.table.c.id.asc())
    statement = (sa.select(*[c.resolved.column.label(f"c{i}") for i, c in enumerate(columns)])
                 .select_from(joins.from_clause).where(where).order_by(*order))
    limit = definition.limit or (None if unlimited else MAX_ROWS)
    if limit is not None:
        statement = statement.limit(limit)
    return CompiledReport(definition, statement, columns=columns)


def _group(path: str, bucket: str | None, index: int, joins: PathJoins, settings: Settings, dialect: str) -> GroupOut:
    where = f"groupBy.{index}.field"
    resolved = joins.resolve(path, where)
    if bucket is None:
        return GroupOut(path, resolved.label, resolved.type, resolved, False)
    if resolved.type not in ("DATE", "DATETIME"):
        raise ValidationError(f"groupBy.{index}.bucket: '{path}' is not a date", field=f"groupBy.{index}.bucket")
    calendar.check_zone(settings.timezone)
    key = calendar.bucket_sql(resolved.column, bucket, dialect=dialect, is_datetime=resolved.type == "DATETIME",
                              zone=settings.timezone, fiscal_start=settings.fiscal_start)
    label = f"{resolved.label} ({bucket.replace('_', ' ').title()})"
    bucketed = Resolved(path, key, "TEXT", None, label)
    return GroupOut(path, label, "TEXT", bucketed, True)


def _scale(resolved: Resolved) -> int:
    if resolved.type == "INTEGER":
        return 0
    if resolved.field is None:
        return 2
    return int(resolved.field.opt("scale", 4 if resolved.type == "PERCENT" else 2))


def _measure_inputs(definition: ReportDefinition, joins: PathJoins, compiler: QueryCompiler, obj: Any
                    ) -> tuple[list[MeasureOut], list[Any]]:
    """Each measure, and the per-record values it aggregates (``v<i>``, in the rows subquery)."""
    measures: list[MeasureOut] = []
    inputs: list[Any] = []
    known: set[str] = set()
    for i, m in enumerate(definition.measures):
        where = f"measures.{i}"
        if m.formula is not None:
            node = parse_formula(m.formula, known, f"{where}.formula")
            known.add(m.alias)
            measures.append(MeasureOut(m.alias, m.label or m.alias, None, "NUMBER", None, 4, node))
            continue
        known.add(m.alias)
        resolved = joins.resolve(m.field, f"{where}.field") if m.field else None
        function = m.function or "COUNT"
        if resolved is not None and function in ("SUM", "AVG") and resolved.type not in NUMERIC:
            raise ValidationError(f"{where}.field: {function} needs a number, '{m.field}' is {resolved.type}",
                                  field=f"{where}.field")
        if resolved is not None and function in ("MIN", "MAX") and resolved.type not in ORDERED:
            raise ValidationError(f"{where}.field: {function} does not apply to {resolved.type}",
                                  field=f"{where}.field")
        value: Any = resolved.column if resolved is not None else None
        if m.filter is not None:
            check_filter_fields(joins, obj, m.filter, f"{where}.filter")
            condition = compiler.where(obj, m.filter, f"{where}.filter")
            value = sa.case((condition, value if value is not None else sa.literal_column("1")))
        name = f"m{i}"
        if value is not None:
            inputs.append(value.label(f"v{i}"))
        label = m.label or (f"{function.replace('_', ' ').title()} of {resolved.label}" if resolved else "Count")
        if function in ("COUNT", "COUNT_DISTINCT"):
            measures.append(MeasureOut(m.alias, label, function, "INTEGER", None, 0,
                                       columns=(name, f"v{i}" if value is not None else "")))
        elif function in ("MIN", "MAX"):
            assert resolved is not None
            measures.append(MeasureOut(m.alias, label, function, resolved.type, resolved.field,
                                       columns=(name, f"v{i}")))
        else:
            assert resolved is not None
            scale = _scale(resolved)
            out_type = "INTEGER" if resolved.type == "INTEGER" else resolved.type
            if function == "AVG":
                out_type, scale = "NUMBER", scale + 2
            measures.append(MeasureOut(m.alias, label, function, out_type, resolved.field, scale,
                                       columns=(name, f"v{i}"), value_type=resolved.column.type,
                                       integer=resolved.type == "INTEGER"))
    return measures, inputs


def _aggregates(measures: list[MeasureOut], rows: sa.FromClause) -> tuple[list[Any], dict[str, Any]]:
    """The selected aggregate columns over ``rows``, and each measure's SQL for ordering."""
    selected: list[Any] = []
    order_sql: dict[str, Any] = {}
    for m in measures:
        if m.formula is not None:
            order_sql[m.alias] = formula_sql(m.formula, order_sql)
            continue
        name, source = m.columns
        value = rows.c[source] if source else None
        if m.function in ("COUNT", "COUNT_DISTINCT"):
            if value is None:
                sql = sa.func.count()
            else:
                sql = sa.func.count(sa.distinct(value)) if m.function == "COUNT_DISTINCT" else sa.func.count(value)
            selected.append(sql.label(name))
            order_sql[m.alias] = sql
        elif m.function in ("MIN", "MAX"):
            assert value is not None
            sql = sa.type_coerce(getattr(sa.func, m.function.lower())(value), value.type)
            selected.append(sql.label(name))
            order_sql[m.alias] = sql
        else:
            total_type = sa.BigInteger() if m.integer else ExactDecimal(38, m.scale if m.function == "SUM" else m.scale - 2)
            if m.function == "SUM":
                sql = sa.type_coerce(sa.func.coalesce(sa.func.sum(value), sa.literal_column("0")), total_type)
                selected.append(sql.label(name))
                order_sql[m.alias] = sql
            else:
                count = sa.func.count(value)
                selected.extend([sa.type_coerce(sa.func.sum(value), total_type).label(name), count.label(f"{name}_n")])
                order_sql[m.alias] = sa.cast(sa.func.sum(value), sa.Float()) / sa.func.nullif(count, 0)
    return selected, order_sql


def _collated(column: Any, dialect: str) -> Any:
    # NOTE: text sorts byte-wise on both databases (PostgreSQL's default collation is locale-aware).
    if dialect == "postgresql" and isinstance(column.type, sa.String):
        return sa.collate(column, "C")
    return column


def _order(definition: ReportDefinition, groups: list[GroupOut], keys: list[Any], order_sql: dict[str, Any],
           dialect: str) -> list[Any]:
    by_path = {g.name: k for g, k in zip(groups, keys, strict=True)}
    order: list[Any] = []
    used: set[str] = set()
    for i, item in enumerate(definition.order_by):
        if item.key in order_sql:
            column = order_sql[item.key]
        elif item.key in by_path:
            column = _collated(by_path[item.key], dialect)
            used.add(item.key)
        else:
            raise ValidationError(f"orderBy.{i}.field: '{item.key}' is neither a grouping nor a measure",
                                  field=f"orderBy.{i}.field")
        order.append((column.desc() if item.descending else column.asc()).nulls_last())
    for group, key in zip(groups, keys, strict=True):
        if group.name not in used:
            order.append(_collated(key, dialect).asc().nulls_last())
    return order


def _others(definition: ReportDefinition, rows: sa.FromClause, keys: list[Any], measures: list[MeasureOut],
            order: list[Any]) -> sa.Select[Any]:
    limit = definition.limit
    assert limit is not None
    ranked = (sa.select(*[k.label(f"k{i}") for i, k in enumerate(keys)],
                        sa.func.row_number().over(order_by=order).label("rank")).group_by(*keys)).cte("ranked")
    on = [ranked.c[f"k{i}"].is_not_distinct_from(k) for i, k in enumerate(keys)]
    top = ranked.c["rank"] <= sa.literal_column(str(int(limit)))
    slotted = (sa.select(*[sa.case((top, k)).label(f"g{i}") for i, k in enumerate(keys)],
                         *[c for c in rows.c if not c.name.startswith("g")],
                         sa.case((top, ranked.c["rank"]), else_=sa.literal_column(str(int(limit) + 1))).label("_pos"))
               .select_from(rows.join(ranked, sa.and_(*on)))).subquery("s")
    selected, _ = _aggregates(measures, slotted)
    return (sa.select(*[slotted.c[f"g{i}"] for i in range(len(keys))], *selected, slotted.c["_pos"])
            .group_by(*[slotted.c[f"g{i}"] for i in range(len(keys))], slotted.c["_pos"]))
