"""The funnel's metrics as report types (``runReport(type: "funnel.…", params: {...})``), in the shared
report shape, so dashboards can show them next to ordinary reports.

Each type reads records with the caller's access (``records`` is handed in by the reports engine)
and computes the same figures as the GraphQL extensions (``analytics.py``; definitions in
docs/scenarios/funnel.md). Periods are ``params.start`` / ``params.end`` (YYYY-MM-DD, inclusive);
without them, the last 90 days up to today (UTC).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from tessera.plugin import PluginError, ReportTypeSpec
from tessera_funnel import analytics
from tessera_funnel.alerts import steps
from tessera_funnel.graphql import ACTIVITY_FIELDS, HISTORY_FIELDS, OPPORTUNITY_FIELDS, STAGE_FIELDS

Records = Callable[..., list[dict[str, Any]]]
DEFAULT_DAYS = 90


def report_types() -> list[ReportTypeSpec]:
    return [
        ReportTypeSpec("funnel.conversion", "Stage-to-stage conversion of the cohorts that entered each open "
                       "stage in the period", _conversion),
        ReportTypeSpec("funnel.winRate", "Won / (won + lost) over the deals closed in the period", _win_rate),
        ReportTypeSpec("funnel.salesCycle", "Average days from entering the funnel to winning, over the deals won in the period",
                       _sales_cycle),
        ReportTypeSpec("funnel.pipeline", "Open deals, their amount and their probability-weighted amount", _pipeline),
        ReportTypeSpec("funnel.stageDurations", "Average days deals spent in each stage (stays that ended in the "
                       "period)", _durations),
        ReportTypeSpec("funnel.forecast", "Open pipeline and weighted pipeline by close month", _forecast),
        ReportTypeSpec("funnel.scorecard", "Per rep: visits, calls, call minutes, meetings, effective follow-ups, "
                       "won deals and amount, win rate in the period", _scorecard),
        ReportTypeSpec("funnel.stalled", "Open deals idle longer than their stage allows", _stalled),
    ]


def _period(params: Mapping[str, Any]) -> tuple[date, date]:
    today = datetime.now(UTC).date()
    try:
        end = date.fromisoformat(params["end"]) if params.get("end") else today
        start = date.fromisoformat(params["start"]) if params.get("start") else end - timedelta(days=DEFAULT_DAYS - 1)
    except (TypeError, ValueError):
        raise PluginError("params.start and params.end are dates written YYYY-MM-DD", field="params") from None
    if start > end:
        raise PluginError("params.start is after params.end", field="params")
    return start, end


def _json(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def _shape(columns: Sequence[tuple[str, str, str]], rows: Sequence[Mapping[str, Any]], chart: dict[str, Any],
           totals: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {
        "columns": [{"name": n, "label": label, "type": t} for n, label, t in columns],
        "rows": [[_json(row.get(n)) for n, _, _ in columns] for row in rows],
        "totals": {k: _json(v) for k, v in (totals or {}).items()},
        "chart": chart,
    }


def _conversion(*, records: Records, params: Mapping[str, Any], **_: Any) -> dict[str, Any]:
    start, end = _period(params)
    readable = {o["id"] for o in records("opportunity", ["id"])}
    history = [h for h in records("stageHistory", HISTORY_FIELDS) if h["opportunity"] in readable]
    rows = [analytics.conversion(history, a, b, start, end) for a, b in steps(records("salesStage", STAGE_FIELDS))]
    columns = [("fromStage", "From stage", "TEXT"), ("toStage", "To stage", "TEXT"), ("cohort", "Cohort", "INTEGER"),
               ("converted", "Converted", "INTEGER"), ("rate", "Conversion %", "PERCENT")]
    return _shape(columns, rows, {"type": "FUNNEL", "x": "fromStage", "y": ["cohort", "converted"]})


def _closed_history(records: Records) -> list[dict[str, Any]]:
    readable = {o["id"] for o in records("opportunity", ["id"])}
    return [h for h in records("stageHistory", HISTORY_FIELDS) if h["opportunity"] in readable]


def _win_rate(*, records: Records, params: Mapping[str, Any], **_: Any) -> dict[str, Any]:
    start, end = _period(params)
    row = analytics.win_rate(_closed_history(records), records("salesStage", STAGE_FIELDS), start, end)
    columns = [("won", "Won", "INTEGER"), ("lost", "Lost", "INTEGER"), ("rate", "Win rate %", "PERCENT")]
    return _shape(columns, [row], {"type": "NUMBER", "y": ["rate"]})


def _sales_cycle(*, records: Records, params: Mapping[str, Any], **_: Any) -> dict[str, Any]:
    start, end = _period(params)
    row = analytics.sales_cycle(records("opportunity", OPPORTUNITY_FIELDS), _closed_history(records),
                                records("salesStage", STAGE_FIELDS), start, end)
    columns = [("deals", "Deals won", "INTEGER"), ("averageDays", "Average days", "NUMBER")]
    return _shape(columns, [row], {"type": "NUMBER", "y": ["averageDays"]})


def _pipeline(*, records: Records, **_: Any) -> dict[str, Any]:
    row = analytics.pipeline(records("opportunity", OPPORTUNITY_FIELDS), records("salesStage", STAGE_FIELDS))
    columns = [("deals", "Open deals", "INTEGER"), ("amount", "Amount", "CURRENCY"), ("weighted", "Weighted", "CURRENCY")]
    return _shape(columns, [row], {"type": "NUMBER", "y": ["amount", "weighted"]})


def _durations(*, records: Records, params: Mapping[str, Any], **_: Any) -> dict[str, Any]:
    start, end = _period(params)
    readable = {o["id"] for o in records("opportunity", ["id"])}
    history = [h for h in records("stageHistory", HISTORY_FIELDS) if h["opportunity"] in readable]
    rows = analytics.stage_durations(history, records("salesStage", STAGE_FIELDS), start, end)
    columns = [("stage", "Stage", "TEXT"), ("exits", "Stays ended", "INTEGER"), ("averageDays", "Average days", "NUMBER")]
    return _shape(columns, rows, {"type": "BAR", "x": "stage", "y": ["averageDays"]})


def _forecast(*, records: Records, **_: Any) -> dict[str, Any]:
    stages = records("salesStage", STAGE_FIELDS)
    opportunities = records("opportunity", OPPORTUNITY_FIELDS)
    rows = analytics.forecast(opportunities, stages)
    pipeline = analytics.pipeline(opportunities, stages)
    columns = [("month", "Close month", "TEXT"), ("deals", "Deals", "INTEGER"), ("amount", "Amount", "CURRENCY"),
               ("weighted", "Weighted", "CURRENCY")]
    return _shape(columns, rows, {"type": "BAR", "x": "month", "y": ["amount", "weighted"]}, pipeline)


def _scorecard(*, records: Records, params: Mapping[str, Any], **_: Any) -> dict[str, Any]:
    start, end = _period(params)
    opportunities = records("opportunity", OPPORTUNITY_FIELDS)
    readable = {o["id"] for o in opportunities}
    history = [h for h in records("stageHistory", HISTORY_FIELDS) if h["opportunity"] in readable]
    rows = analytics.scorecard(opportunities, history, records("salesStage", STAGE_FIELDS),
                               records("activity", ACTIVITY_FIELDS), start, end)
    columns = [("owner", "Rep", "TEXT"), ("visits", "Visits", "INTEGER"), ("calls", "Calls", "INTEGER"),
               ("callMinutes", "Call minutes", "INTEGER"), ("meetings", "Meetings", "INTEGER"),
               ("effectiveFollowUps", "Effective follow-ups", "INTEGER"), ("wonDeals", "Won", "INTEGER"),
               ("lostDeals", "Lost", "INTEGER"), ("wonAmount", "Won amount", "CURRENCY"),
               ("winRate", "Win rate %", "PERCENT")]
    return _shape(columns, rows, {"type": "TABLE"})


def _stalled(*, records: Records, params: Mapping[str, Any], **_: Any) -> dict[str, Any]:
    as_of = analytics.moment(params["asOf"]) if params.get("asOf") else datetime.now(UTC)
    if as_of is None:
        raise PluginError("params.asOf: not a date and time", field="params")
    rows = analytics.stalled(records("opportunity", OPPORTUNITY_FIELDS), records("salesStage", STAGE_FIELDS),
                             records("activity", ACTIVITY_FIELDS), as_of)
    columns = [("id", "Deal id", "TEXT"), ("name", "Deal", "TEXT"), ("stage", "Stage", "TEXT"),
               ("owner", "Owner", "TEXT"), ("idleDays", "Idle days", "INTEGER"), ("stallDays", "Allowed", "INTEGER")]
    return _shape(columns, rows, {"type": "TABLE"})
