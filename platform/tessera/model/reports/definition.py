"""A report definition: parsed from its JSON form (GraphQL input, YAML, stored rows) into frozen
dataclasses, checking its shape. Whether the fields exist and the caller may use them is checked
when it is compiled (``compiler.py``), against the caller's view of the metadata.

Runtime parameters are substituted first (``bind_parameters``): a value ``{"$param": "name"}``
anywhere in ``filter``, ``dateRange`` or ``limit`` takes the parameter's value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tessera.core.errors import ValidationError

FUNCTIONS = ("COUNT", "COUNT_DISTINCT", "SUM", "AVG", "MIN", "MAX")
BUCKETS = ("DAY", "WEEK", "MONTH", "QUARTER", "YEAR", "FISCAL_QUARTER", "FISCAL_YEAR")
LAYOUTS = ("TABLE", "MATRIX")
CHART_TYPES = ("BAR", "STACKED_BAR", "LINE", "AREA", "PIE", "FUNNEL", "NUMBER", "TABLE")
MAX_GROUPS = 3
MAX_COLUMNS = 50
MAX_MEASURES = 20
MAX_LIMIT = 10_000
ALIAS = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]{0,62}$")
PATH = re.compile(r"^[a-zA-Z][a-zA-Z0-9]*(\.[a-zA-Z][a-zA-Z0-9]*){0,4}$")
PARAM_TYPES = ("TEXT", "NUMBER", "DATE", "BOOLEAN")


@dataclass(frozen=True)
class Grouping:
    field: str
    bucket: str | None = None


@dataclass(frozen=True)
class Measure:
    alias: str
    function: str | None = None
    field: str | None = None
    formula: str | None = None
    """Arithmetic over other measures' aliases (``won / total``); then ``function`` is None."""
    filter: Mapping[str, Any] | None = None
    """A conditional measure: only records matching this structured filter count."""
    label: str | None = None


@dataclass(frozen=True)
class Ordering:
    key: str
    """A measure alias or a grouping's field (or a column, in a report without groupings)."""
    descending: bool = False


@dataclass(frozen=True)
class DateRange:
    field: str
    range: str | None = None
    start: str | None = None
    end: str | None = None
    shift_years: int = 0


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str = "TEXT"
    default: Any = None
    required: bool = False


@dataclass(frozen=True)
class ReportDefinition:
    object: str
    columns: tuple[str, ...] = ()
    filter: Mapping[str, Any] | None = None
    expression: str | None = None
    date_range: DateRange | None = None
    group_by: tuple[Grouping, ...] = ()
    measures: tuple[Measure, ...] = ()
    order_by: tuple[Ordering, ...] = ()
    limit: int | None = None
    others: bool = False
    layout: str = "TABLE"
    chart: Mapping[str, Any] | None = None
    parameters: tuple[Parameter, ...] = ()

    @property
    def grouped(self) -> bool:
        return bool(self.group_by or self.measures)


def _str(value: Any, where: str, *, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{where}: a non-empty string is required", field=where)
    return value


def _path(value: Any, where: str) -> str:
    text = _str(value, where)
    assert text is not None
    if not PATH.match(text):
        raise ValidationError(f"{where}: '{text}' is not a field path", field=where)
    return text


def _choice(value: Any, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise ValidationError(f"{where}: expected one of {', '.join(allowed)}, got {value!r}", field=where)
    return str(value)


def _list(data: Mapping[str, Any], key: str, limit: int) -> list[Any]:
    value = data.get(key) or []
    if not isinstance(value, list | tuple):
        raise ValidationError(f"{key}: a list is required", field=key)
    if len(value) > limit:
        raise ValidationError(f"{key}: at most {limit} entries", field=key)
    return list(value)


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(f"{where}: an object is required", field=where)
    return value


def parse_definition(data: Any) -> ReportDefinition:
    """The definition ``data`` describes, or a ValidationError naming the offending entry."""
    data = _mapping(data, "definition")
    known = {"object", "columns", "filter", "expression", "dateRange", "groupBy", "measures", "orderBy", "limit",
             "others", "layout", "chart", "parameters"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValidationError(f"{unknown[0]}: not part of a report definition", field=unknown[0])
    object_name = _str(data.get("object"), "object")
    columns = tuple(_path(c, f"columns.{i}") for i, c in enumerate(_list(data, "columns", MAX_COLUMNS)))
    groups = []
    for i, item in enumerate(_list(data, "groupBy", MAX_GROUPS)):
        item = _mapping(item, f"groupBy.{i}")
        bucket = item.get("bucket")
        groups.append(Grouping(_path(item.get("field"), f"groupBy.{i}.field"),
                               None if bucket is None else _choice(bucket, BUCKETS, f"groupBy.{i}.bucket")))
    measures = _measures(_list(data, "measures", MAX_MEASURES))
    if columns and (groups or measures):
        raise ValidationError("columns: a report lists either columns or groupings and measures", field="columns")
    if groups and not measures:
        measures = [Measure(alias="count", function="COUNT")]
    order = []
    for i, item in enumerate(_list(data, "orderBy", MAX_GROUPS + MAX_MEASURES)):
        item = _mapping(item, f"orderBy.{i}")
        direction = _choice(item.get("direction") or "ASC", ("ASC", "DESC"), f"orderBy.{i}.direction")
        order.append(Ordering(_str(item.get("field"), f"orderBy.{i}.field") or "", direction == "DESC"))
    limit = data.get("limit")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT):
        raise ValidationError(f"limit: an integer from 1 to {MAX_LIMIT}", field="limit")
    others = bool(data.get("others"))
    if others and (limit is None or not groups):
        raise ValidationError("others: needs groupings and a limit", field="others")
    layout = _choice(data.get("layout") or "TABLE", LAYOUTS, "layout")
    if layout == "MATRIX" and len(groups) != 2:
        raise ValidationError("layout: a matrix needs exactly two groupings (rows, columns)", field="layout")
    chart = data.get("chart")
    if chart is not None:
        chart = _mapping(chart, "chart")
        _choice(chart.get("type"), CHART_TYPES, "chart.type")
    filter_ = data.get("filter")
    return ReportDefinition(
        object=object_name or "", columns=columns,
        filter=None if filter_ is None else _mapping(filter_, "filter"),
        expression=_str(data.get("expression"), "expression", required=False),
        date_range=_date_range(data.get("dateRange")),
        group_by=tuple(groups), measures=tuple(measures), order_by=tuple(order), limit=limit, others=others,
        layout=layout, chart=chart, parameters=_parameters(_list(data, "parameters", 20)),
    )


def _measures(items: list[Any]) -> list[Measure]:
    measures: list[Measure] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"measures.{i}"
        item = _mapping(item, where)
        formula = _str(item.get("formula"), f"{where}.formula", required=False)
        function = item.get("function")
        if formula is None:
            function = _choice(function, FUNCTIONS, f"{where}.function")
        elif function is not None:
            raise ValidationError(f"{where}: a formula measure takes no function", field=f"{where}.function")
        field = item.get("field")
        if field is not None:
            field = _path(field, f"{where}.field")
        elif function not in (None, "COUNT"):
            raise ValidationError(f"{where}.field: {function} needs a field", field=f"{where}.field")
        alias = item.get("alias") or (formula and None) or (
            f"{(function or '').lower()}{'_' + field.replace('.', '_') if field else ''}")
        if not alias or not ALIAS.match(alias):
            raise ValidationError(f"{where}.alias: a name of letters, digits and _", field=f"{where}.alias")
        if alias in seen:
            raise ValidationError(f"{where}.alias: '{alias}' is used twice", field=f"{where}.alias")
        seen.add(alias)
        condition = item.get("filter")
        measures.append(Measure(
            alias=alias, function=function, field=field, formula=formula,
            filter=None if condition is None else _mapping(condition, f"{where}.filter"),
            label=_str(item.get("label"), f"{where}.label", required=False),
        ))
    return measures


def _date_range(value: Any) -> DateRange | None:
    if value is None:
        return None
    value = _mapping(value, "dateRange")
    shift = value.get("shiftYears", 0)
    if isinstance(shift, bool) or not isinstance(shift, int):
        raise ValidationError("dateRange.shiftYears: an integer", field="dateRange.shiftYears")
    found = DateRange(
        field=_path(value.get("field"), "dateRange.field"),
        range=_str(value.get("range"), "dateRange.range", required=False),
        start=_str(value.get("from"), "dateRange.from", required=False),
        end=_str(value.get("to"), "dateRange.to", required=False),
        shift_years=shift,
    )
    if found.range is None and found.start is None and found.end is None:
        raise ValidationError("dateRange: give a range, or from and/or to", field="dateRange.range")
    return found


def _parameters(items: list[Any]) -> tuple[Parameter, ...]:
    found = []
    for i, item in enumerate(items):
        item = _mapping(item, f"parameters.{i}")
        name = _str(item.get("name"), f"parameters.{i}.name") or ""
        if not ALIAS.match(name):
            raise ValidationError(f"parameters.{i}.name: letters, digits and _", field=f"parameters.{i}.name")
        found.append(Parameter(name, _choice(item.get("type") or "TEXT", PARAM_TYPES, f"parameters.{i}.type"),
                               item.get("default"), bool(item.get("required"))))
    return tuple(found)


def bind_parameters(data: Mapping[str, Any], params: Mapping[str, Any] | None) -> dict[str, Any]:
    """``data`` (a definition's JSON form) with every ``{"$param": name}`` replaced by its value."""
    declared = {}
    for i, item in enumerate(data.get("parameters") or []):
        if isinstance(item, Mapping) and isinstance(item.get("name"), str):
            declared[item["name"]] = (i, item)
    given = dict(params or {})
    for name in given:
        if name not in declared:
            raise ValidationError(f"params.{name}: the report has no such parameter", field=f"params.{name}")
    values = {}
    for name, (_index, item) in declared.items():
        if name in given:
            values[name] = given[name]
        elif item.get("required"):
            raise ValidationError(f"params.{name}: a value is required", field=f"params.{name}")
        else:
            values[name] = item.get("default")

    def substitute(value: Any, where: str) -> Any:
        if isinstance(value, Mapping):
            if set(value) == {"$param"}:
                name = value["$param"]
                if name not in values:
                    raise ValidationError(f"{where}: unknown parameter '{name}'", field=where)
                return values[name]
            return {k: substitute(v, f"{where}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [substitute(v, f"{where}.{i}") for i, v in enumerate(value)]
        return value

    bound = dict(data)
    for key in ("filter", "dateRange", "limit"):
        if key in bound and bound[key] is not None:
            bound[key] = substitute(bound[key], key)
    return bound
