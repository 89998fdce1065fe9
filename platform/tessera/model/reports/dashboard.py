"""A dashboard's shape: widgets (a saved report or an inline definition, a chart, a size and a
position; KPI cards add a measure, a target and thresholds) and dashboard-level filters, parsed from
their JSON form and checked. Whether the reports exist and compile is checked by the service.

A KPI card's status compares its value with two thresholds: with ``better: HIGHER`` (the default) a
value below ``critical`` is ``critical``, below ``warning`` is ``warning``, otherwise ``ok``; with
``better: LOWER`` the comparisons are reversed (above ``critical`` …).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from tessera.core.errors import ValidationError
from tessera.model.reports.definition import ALIAS, CHART_TYPES, PATH

WIDGET_TYPES = ("CHART", "KPI", "TABLE")
FILTER_OPERATORS = ("eq", "neq", "gt", "gte", "lt", "lte", "in", "notIn", "contains", "startsWith", "isNull")
GRID_COLUMNS = 12
MAX_WIDGETS = 30
MAX_FILTERS = 10
STATUSES = ("ok", "warning", "critical")


@dataclass(frozen=True)
class Widget:
    name: str
    type: str = "CHART"
    title: str | None = None
    report: str | None = None
    definition: Mapping[str, Any] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    chart: Mapping[str, Any] | None = None
    size: Mapping[str, int] = field(default_factory=lambda: {"width": 6, "height": 4})
    position: Mapping[str, int] = field(default_factory=lambda: {"x": 0, "y": 0})
    measure: str | None = None
    target: Decimal | None = None
    warning: Decimal | None = None
    critical: Decimal | None = None
    better: str = "HIGHER"


@dataclass(frozen=True)
class DashboardFilter:
    name: str
    field: str
    operator: str = "eq"
    value: Any = None
    """The default value; None: not applied unless the viewer gives one."""
    label: str | None = None


def _number(value: Any, where: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValidationError(f"{where}: a number is required", field=where)
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValidationError(f"{where}: a number is required", field=where) from None


def _grid(value: Any, where: str, keys: tuple[str, str], default: Mapping[str, int], low: int) -> dict[str, int]:
    if value is None:
        return dict(default)
    if not isinstance(value, Mapping) or set(value) - set(keys):
        raise ValidationError(f"{where}: an object with {' and '.join(keys)}", field=where)
    out = dict(default)
    for key in keys:
        item = value.get(key, default[key])
        if isinstance(item, bool) or not isinstance(item, int) or not low <= item <= 1000:
            raise ValidationError(f"{where}.{key}: an integer from {low}", field=f"{where}.{key}")
        out[key] = item
    if "width" in out and out["width"] > GRID_COLUMNS:
        raise ValidationError(f"{where}.width: at most {GRID_COLUMNS} columns", field=f"{where}.width")
    return out


WIDGET_KEYS = {"name", "type", "title", "report", "definition", "params", "chart", "size", "position", "measure",
               "target", "thresholds", "better"}


def parse_widgets(items: Any) -> tuple[Widget, ...]:
    """The widgets ``items`` describe, or a ValidationError naming the entry (``widgets.2.measure``)."""
    if items is None:
        return ()
    if not isinstance(items, list | tuple) or len(items) > MAX_WIDGETS:
        raise ValidationError(f"widgets: a list of at most {MAX_WIDGETS} widgets", field="widgets")
    found: list[Widget] = []
    names: set[str] = set()
    for i, item in enumerate(items):
        where = f"widgets.{i}"
        if not isinstance(item, Mapping):
            raise ValidationError(f"{where}: an object is required", field=where)
        unknown = sorted(set(item) - WIDGET_KEYS)
        if unknown:
            raise ValidationError(f"{where}.{unknown[0]}: not part of a widget", field=f"{where}.{unknown[0]}")
        name = item.get("name") or f"w{i + 1}"
        if not isinstance(name, str) or not ALIAS.match(name) or name in names:
            raise ValidationError(f"{where}.name: a unique name of letters, digits and _", field=f"{where}.name")
        names.add(name)
        kind = item.get("type") or "CHART"
        if kind not in WIDGET_TYPES:
            raise ValidationError(f"{where}.type: expected one of {', '.join(WIDGET_TYPES)}", field=f"{where}.type")
        report, definition = item.get("report"), item.get("definition")
        if (report is None) == (definition is None):
            raise ValidationError(f"{where}.report: give a saved report's name or an inline definition",
                                  field=f"{where}.report")
        if definition is not None and not isinstance(definition, Mapping):
            raise ValidationError(f"{where}.definition: an object is required", field=f"{where}.definition")
        chart = item.get("chart")
        if chart is not None and (not isinstance(chart, Mapping) or chart.get("type", "TABLE") not in CHART_TYPES):
            raise ValidationError(f"{where}.chart.type: expected one of {', '.join(CHART_TYPES)}",
                                  field=f"{where}.chart.type")
        params = item.get("params") or {}
        if not isinstance(params, Mapping):
            raise ValidationError(f"{where}.params: an object is required", field=f"{where}.params")
        found.append(Widget(
            name=name, type=kind, title=item.get("title"), report=report,
            definition=None if definition is None else dict(definition), params=dict(params),
            chart=None if chart is None else dict(chart),
            size=_grid(item.get("size"), f"{where}.size", ("width", "height"), {"width": 6, "height": 4}, 1),
            position=_grid(item.get("position"), f"{where}.position", ("x", "y"), {"x": 0, "y": 0}, 0),
            **_kpi(item, kind, where),
        ))
    return tuple(found)


def _kpi(item: Mapping[str, Any], kind: str, where: str) -> dict[str, Any]:
    if kind != "KPI":
        for key in ("measure", "target", "thresholds"):
            if item.get(key) is not None:
                raise ValidationError(f"{where}.{key}: only KPI widgets have one", field=f"{where}.{key}")
        return {}
    measure = item.get("measure")
    if not isinstance(measure, str) or not ALIAS.match(measure):
        raise ValidationError(f"{where}.measure: the alias of a measure of the report", field=f"{where}.measure")
    thresholds = item.get("thresholds") or {}
    if not isinstance(thresholds, Mapping) or set(thresholds) - {"warning", "critical"}:
        raise ValidationError(f"{where}.thresholds: an object with warning and/or critical",
                              field=f"{where}.thresholds")
    better = item.get("better") or "HIGHER"
    if better not in ("HIGHER", "LOWER"):
        raise ValidationError(f"{where}.better: HIGHER or LOWER", field=f"{where}.better")
    warning = _number(thresholds.get("warning"), f"{where}.thresholds.warning")
    critical = _number(thresholds.get("critical"), f"{where}.thresholds.critical")
    if warning is not None and critical is not None and (
            (better == "HIGHER" and critical > warning) or (better == "LOWER" and critical < warning)):
        raise ValidationError(f"{where}.thresholds.critical: beyond the warning threshold, not before it",
                              field=f"{where}.thresholds.critical")
    return {"measure": measure, "target": _number(item.get("target"), f"{where}.target"), "warning": warning,
            "critical": critical, "better": better}


def parse_filters(items: Any) -> tuple[DashboardFilter, ...]:
    if items is None:
        return ()
    if not isinstance(items, list | tuple) or len(items) > MAX_FILTERS:
        raise ValidationError(f"filters: a list of at most {MAX_FILTERS} filters", field="filters")
    found: list[DashboardFilter] = []
    for i, item in enumerate(items):
        where = f"filters.{i}"
        if not isinstance(item, Mapping) or set(item) - {"name", "field", "operator", "value", "label"}:
            raise ValidationError(f"{where}: an object with name, field, operator, value, label", field=where)
        name, path = item.get("name"), item.get("field")
        if not isinstance(name, str) or not ALIAS.match(name) or any(f.name == name for f in found):
            raise ValidationError(f"{where}.name: a unique name of letters, digits and _", field=f"{where}.name")
        if not isinstance(path, str) or not PATH.match(path):
            raise ValidationError(f"{where}.field: a field path", field=f"{where}.field")
        operator = item.get("operator") or "eq"
        if operator not in FILTER_OPERATORS:
            raise ValidationError(f"{where}.operator: expected one of {', '.join(FILTER_OPERATORS)}",
                                  field=f"{where}.operator")
        found.append(DashboardFilter(name, path, operator, item.get("value"), item.get("label")))
    return tuple(found)


def filter_for(path: str, operator: str, value: Any) -> dict[str, Any]:
    """The structured filter ``path operator value`` (``account.industry`` nests through the lookup)."""
    out: dict[str, Any] = {operator: value}
    for name in reversed(path.split(".")):
        out = {name: out}
    return out


def with_filter(definition: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """``definition`` with ``extra`` ANDed to its filter."""
    current = definition.get("filter")
    return {**definition, "filter": dict(extra) if not current else {"and": [current, dict(extra)]}}


def kpi_status(value: Any, widget: Widget) -> str | None:
    """``ok``, ``warning`` or ``critical`` for a KPI value; None without a value or thresholds."""
    if value is None or (widget.warning is None and widget.critical is None):
        return None
    number = Decimal(str(value))
    worse = (lambda limit: number < limit) if widget.better == "HIGHER" else (lambda limit: number > limit)
    if widget.critical is not None and worse(widget.critical):
        return "critical"
    if widget.warning is not None and worse(widget.warning):
        return "warning"
    return "ok"


def widget_json(widget: Widget) -> dict[str, Any]:
    """A widget's stored (and exported) form."""
    out: dict[str, Any] = {"name": widget.name, "type": widget.type, "size": dict(widget.size),
                           "position": dict(widget.position)}
    for key in ("title", "report", "definition", "chart", "measure"):
        if getattr(widget, key) is not None:
            out[key] = getattr(widget, key)
    if widget.params:
        out["params"] = dict(widget.params)
    if widget.type == "KPI":
        out["better"] = widget.better
        if widget.target is not None:
            out["target"] = str(widget.target)
        thresholds = {k: str(getattr(widget, k)) for k in ("warning", "critical") if getattr(widget, k) is not None}
        if thresholds:
            out["thresholds"] = thresholds
    return out


def filter_json(item: DashboardFilter) -> dict[str, Any]:
    out = {"name": item.name, "field": item.field, "operator": item.operator, "value": item.value}
    if item.label is not None:
        out["label"] = item.label
    return out
