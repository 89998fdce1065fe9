"""The shared report result: ``columns`` (name, label, type), ``rows`` (lists in column order, JSON
values: decimals as strings like the data API), ``totals`` (by measure alias) and a ``chart`` spec.

Plugin report types return the same shape (``ReportResult``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tessera.model.field_types import registry
from tessera.model.reports.compiler import CompiledReport, GroupOut, MeasureOut
from tessera.model.reports.formula import formula_value
from tessera.storage.types import iso_datetime

OTHERS = "Others"


@dataclass
class ReportResult:
    columns: list[dict[str, str]]
    rows: list[list[Any]]
    totals: dict[str, Any] = field(default_factory=dict)
    chart: dict[str, Any] = field(default_factory=dict)


def json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return iso_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _key_output(group: GroupOut) -> Callable[[Any], Any]:
    resolved = group.resolved
    if group.bucketed or resolved.field is None:
        return json_value
    field_def = resolved.field
    convert = registry().value_type(field_def).to_output
    return lambda v: None if v is None else json_value(convert(field_def, v))


def _quantize(value: Decimal | None, scale: int) -> Decimal | None:
    return None if value is None else value.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)


class Shaper:
    """Turns the statement's rows into measure values, totals and output rows."""

    def __init__(self, compiled: CompiledReport) -> None:
        self.compiled = compiled
        self.groups = compiled.groups
        self.measures = compiled.measures
        self.key_out = [_key_output(g) for g in self.groups]

    def values(self, row: Any) -> dict[str, Any]:
        """Exact measure values of one grouped row (raw Python values, not yet JSON)."""
        mapping = row._mapping
        out: dict[str, Any] = {}
        for m in self.measures:
            if m.formula is not None:
                out[m.alias] = _quantize(formula_value(m.formula, out), m.scale)
            elif m.function == "AVG":
                total, count = mapping[m.columns[0]], mapping[f"{m.columns[0]}_n"]
                out[m.alias] = _quantize(Decimal(total) / count, m.scale) if count else None
                out[f"{m.alias}__sum"], out[f"{m.alias}__n"] = total, count
            else:
                out[m.alias] = mapping[m.columns[0]]
        return out

    def totals_from(self, groups: Sequence[dict[str, Any]]) -> dict[str, Any]:
        totals: dict[str, Any] = {}
        for m in self.measures:
            found = [g[m.alias] for g in groups if g.get(m.alias) is not None]
            if m.formula is not None:
                totals[m.alias] = _quantize(formula_value(m.formula, totals), m.scale)
            elif m.function in ("COUNT", "SUM"):
                totals[m.alias] = sum(found, 0 if m.type == "INTEGER" else Decimal(0))
                if m.function == "SUM" and m.type != "INTEGER":
                    totals[m.alias] = _quantize(Decimal(totals[m.alias]), m.scale)
            elif m.function == "MIN":
                totals[m.alias] = min(found) if found else None
            elif m.function == "MAX":
                totals[m.alias] = max(found) if found else None
            elif m.function == "AVG":
                total = sum((Decimal(g[f"{m.alias}__sum"]) for g in groups if g[f"{m.alias}__n"]), Decimal(0))
                count = sum(g[f"{m.alias}__n"] or 0 for g in groups)
                totals[m.alias] = _quantize(total / count, m.scale) if count else None
        return totals

    def measure_json(self, m: MeasureOut, value: Any) -> Any:
        if value is None:
            return None
        if m.function in ("MIN", "MAX") and m.field is not None:
            return json_value(registry().value_type(m.field).to_output(m.field, value))
        return json_value(value)

    def keys(self, row: Any) -> list[Any]:
        return [self.key_out[i](row._mapping[f"g{i}"]) for i in range(len(self.groups))]


def grouped_result(compiled: CompiledReport, rows: Iterable[Any]) -> ReportResult:
    shaper = Shaper(compiled)
    lines: list[tuple[list[Any], dict[str, Any], bool]] = []
    totals: dict[str, Any] | None = None
    others_pos = (compiled.definition.limit or 0) + 1
    for row in rows:
        values = shaper.values(row)
        if row._mapping["_total"] == 1:
            totals = values
            continue
        other = compiled.definition.others and row._mapping["_pos"] == others_pos
        keys = [OTHERS] + [None] * (len(shaper.groups) - 1) if other else shaper.keys(row)
        lines.append((keys, values, other))
    if totals is None:
        totals = shaper.totals_from([v for _, v, _ in lines])
    else:
        # The totals row computes COUNT_DISTINCT exactly; the derivable measures come from it too.
        totals = {m.alias: totals[m.alias] for m in shaper.measures}
    total_json = {m.alias: shaper.measure_json(m, totals.get(m.alias)) for m in shaper.measures}
    group_columns = [{"name": g.name, "label": g.label, "type": g.type} for g in shaper.groups]
    measure_columns = [{"name": m.alias, "label": m.label, "type": m.type} for m in shaper.measures]
    chart = chart_spec(compiled, shaper)
    if compiled.definition.layout == "MATRIX":
        return _matrix(shaper, lines, group_columns, total_json, chart)
    out_rows = [keys + [shaper.measure_json(m, values[m.alias]) for m in shaper.measures]
                for keys, values, _ in lines]
    return ReportResult(group_columns + measure_columns, out_rows, total_json, chart)


def _matrix(shaper: Shaper, lines: list[tuple[list[Any], dict[str, Any], bool]], group_columns: list[dict[str, str]],
            totals: dict[str, Any], chart: dict[str, Any]) -> ReportResult:
    across = sorted({keys[1] for keys, _, _ in lines if keys[1] is not None}, key=str)
    if any(keys[1] is None for keys, _, _ in lines):
        across.append(None)
    columns = [group_columns[0]]
    for key in across:
        for m in shaper.measures:
            columns.append({"name": f"{key}|{m.alias}", "label": f"{key if key is not None else '-'} {m.label}",
                            "type": m.type})
    by_row: dict[Any, dict[Any, dict[str, Any]]] = {}
    for keys, values, _ in lines:
        by_row.setdefault(keys[0], {})[keys[1]] = values
    rows = []
    for row_key, cells in by_row.items():
        line = [row_key]
        for key in across:
            cell = cells.get(key)
            line.extend(shaper.measure_json(m, cell[m.alias]) if cell else None for m in shaper.measures)
        rows.append(line)
    return ReportResult(columns, rows, totals, chart)


def chart_spec(compiled: CompiledReport, shaper: Shaper) -> dict[str, Any]:
    chart = dict(compiled.definition.chart or {})
    if "type" not in chart:
        if not shaper.groups:
            chart["type"] = "NUMBER" if len(shaper.measures) == 1 else "TABLE"
        elif compiled.definition.layout == "MATRIX":
            chart["type"] = "TABLE"
        else:
            chart["type"] = "STACKED_BAR" if len(shaper.groups) > 1 else "BAR"
    if shaper.groups:
        chart.setdefault("x", shaper.groups[0].name)
        if len(shaper.groups) > 1:
            chart.setdefault("series", shaper.groups[1].name)
    chart.setdefault("y", [m.alias for m in shaper.measures])
    return chart


def listing_rows(compiled: CompiledReport, rows: Iterable[Any]) -> Iterator[list[Any]]:
    outputs = [_key_output(c) for c in compiled.columns]
    for row in rows:
        yield [out(value) for out, value in zip(outputs, row, strict=True)]


def listing_columns(compiled: CompiledReport) -> list[dict[str, str]]:
    return [{"name": c.name, "label": c.label, "type": c.type} for c in compiled.columns]
