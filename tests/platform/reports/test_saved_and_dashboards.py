"""Saved reports (create, update, delete, list) and dashboards (widgets, KPI cards, filters, sharing
per role) through GraphQL; report settings; refusals carry their code and field."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from tests.platform.reports.conftest import Sales

CREATE = "mutation($input: ReportInput!) { createReport(input: $input) { name label object definition snapshotCron } }"
UPDATE = "mutation($input: ReportInput!) { updateReport(input: $input) { name description definition } }"
DELETE = 'mutation($name: String!) { deleteReport(input: {name: $name}) { name } }'
LIST = "{ reports { name object } }"
RUN_SAVED = "query($name: String!) { report(name: $name) { rows totals } }"
CREATE_BOARD = "mutation($input: DashboardInput!) { createDashboard(input: $input) { name roles widgets { name } } }"
UPDATE_BOARD = "mutation($input: DashboardInput!) { updateDashboard(input: $input) { name roles } }"
DELETE_BOARD = 'mutation($name: String!) { deleteDashboard(input: {name: $name}) { name } }'
BOARD = """
query($name: String!, $filters: JSON) {
  dashboard(name: $name, filters: $filters) {
    name filterValues
    widgets { name type size position result { rows totals chart } kpi { value target status } error }
  }
}
"""
BOARDS = "{ dashboards { name } }"
SETTINGS = "mutation($input: ReportSettingsInput!) { updateReportSettings(input: $input) { timezone fiscalYearStartMonth } }"
BY_STAGE = {"object": "opportunity", "groupBy": [{"field": "stage"}], "measures": [{"function": "COUNT", "alias": "n"}]}
TOTAL = {"object": "opportunity", "measures": [{"function": "SUM", "field": "amount", "alias": "amount"},
                                               {"function": "COUNT", "alias": "n"}]}


def _code(error: dict[str, Any]) -> tuple[str, str | None]:
    return error["extensions"]["code"], error["extensions"].get("field")


def test_saved_report_crud(sales: Sales) -> None:
    admin = sales.admin
    created = admin.data(CREATE, {"input": {"name": "dealsByStage", "label": "Deals by stage", "definition": BY_STAGE,
                                            "snapshotCron": "0 6 * * *"}})["createReport"]
    assert created["label"] == {"en": "Deals by stage"} and created["object"] == "opportunity"
    assert created["snapshotCron"] == "0 6 * * *"
    assert _code(admin.error(CREATE, {"input": {"name": "dealsByStage", "definition": BY_STAGE}})) == ("CONFLICT", "name")
    assert _code(admin.error(CREATE, {"input": {"name": "bad", "definition": {
        "object": "opportunity", "groupBy": [{"field": "nope"}]}}})) == ("VALIDATION_ERROR", "groupBy.0.field")
    assert _code(admin.error(CREATE, {"input": {"name": "badCron", "definition": BY_STAGE, "snapshotCron": "soon"}})
                 ) == ("VALIDATION_ERROR", "snapshotCron")
    # a partial update keeps the definition
    updated = admin.data(UPDATE, {"input": {"name": "dealsByStage", "description": "All stages"}})["updateReport"]
    assert updated["description"] == "All stages" and updated["definition"]["groupBy"] == [{"field": "stage"}]
    rows = admin.data(RUN_SAVED, {"name": "dealsByStage"})["report"]["rows"]
    assert rows == sorted([list(kv) for kv in Counter(d["stage"] for d in sales.deals).items()])
    assert {"name": "dealsByStage", "object": "opportunity"} in admin.data(LIST)["reports"]
    # reps run it with their access, but may not change it
    rep_rows = sales.clients["rep1"].data(RUN_SAVED, {"name": "dealsByStage"})["report"]["rows"]
    assert rep_rows == sorted([list(kv) for kv in Counter(d["stage"] for d in sales.visible("rep1")).items()])
    assert _code(sales.clients["rep1"].error(DELETE, {"name": "dealsByStage"}))[0] == "FORBIDDEN"
    assert admin.data(DELETE, {"name": "dealsByStage"})["deleteReport"]["name"] == "dealsByStage"
    assert _code(admin.error(RUN_SAVED, {"name": "dealsByStage"})) == ("NOT_FOUND", "name")


def test_report_settings_are_for_administrators(sales: Sales) -> None:
    assert _code(sales.clients["rep1"].error(SETTINGS, {"input": {"timezone": "Europe/Paris"}}))[0] == "FORBIDDEN"
    assert _code(sales.admin.error(SETTINGS, {"input": {"timezone": "Mars/Olympus"}})) == ("VALIDATION_ERROR", "timezone")
    assert _code(sales.admin.error(SETTINGS, {"input": {"fiscalYearStartMonth": 13}})) == (
        "VALIDATION_ERROR", "fiscalYearStartMonth")
    done = sales.admin.data(SETTINGS, {"input": {"timezone": "Europe/Paris", "fiscalYearStartMonth": 7}})
    assert done["updateReportSettings"] == {"timezone": "Europe/Paris", "fiscalYearStartMonth": 7}
    sales.admin.data(SETTINGS, {"input": {"timezone": "UTC", "fiscalYearStartMonth": 1}})


def _board(sales: Sales, **extra: Any) -> dict[str, Any]:
    return {"name": "pipeline", "label": "Pipeline", "roles": ["manager"], "widgets": [
        {"name": "byStage", "report": "boardByStage", "size": {"width": 8, "height": 4}, "position": {"x": 0, "y": 0}},
        {"name": "total", "type": "KPI", "definition": TOTAL, "measure": "amount", "target": "20000",
         "thresholds": {"warning": "15000", "critical": "5000"}, "position": {"x": 8, "y": 0}},
        {"name": "byIndustry", "definition": {"object": "account", "groupBy": [{"field": "industry"}]},
         "chart": {"type": "PIE"}},
    ], "filters": [{"name": "stage", "field": "stage", "operator": "eq", "value": None}], **extra}


def _sum(deals: list[dict[str, Any]]) -> Decimal:
    return sum((Decimal(d["amount"] or 0) for d in deals), Decimal(0))


def test_dashboard_widgets_kpi_filters_and_sharing(sales: Sales) -> None:
    admin = sales.admin
    admin.data(CREATE, {"input": {"name": "boardByStage", "definition": BY_STAGE}})
    created = admin.data(CREATE_BOARD, {"input": _board(sales)})["createDashboard"]
    assert created["roles"] == ["manager"] and [w["name"] for w in created["widgets"]] == ["byStage", "total", "byIndustry"]

    # the boss (role manager) sees it, computed with their access
    shown = sales.clients["boss"].data(BOARD, {"name": "pipeline"})["dashboard"]
    widgets = {w["name"]: w for w in shown["widgets"]}
    visible = sales.visible("boss")
    assert widgets["byStage"]["result"]["rows"] == sorted([list(kv) for kv in Counter(d["stage"] for d in visible).items()])
    assert widgets["byStage"]["size"] == {"width": 8, "height": 4}
    total = _sum(visible)
    status = "critical" if total < 5000 else "warning" if total < 15000 else "ok"
    assert widgets["total"]["kpi"] == {"value": str(total.quantize(Decimal("0.01"))), "target": "20000", "status": status}
    assert widgets["byIndustry"]["result"]["chart"]["type"] == "PIE"

    # a dashboard filter applies to the widgets whose object has the field (not to the account widget)
    filtered = sales.clients["boss"].data(BOARD, {"name": "pipeline", "filters": {"stage": "closedWon"}})["dashboard"]
    widgets = {w["name"]: w for w in filtered["widgets"]}
    won = [d for d in visible if d["stage"] == "closedWon"]
    assert filtered["filterValues"] == {"stage": "closedWon"}
    assert widgets["byStage"]["result"]["rows"] == [["closedWon", len(won)]]
    assert widgets["total"]["kpi"]["value"] == str(_sum(won).quantize(Decimal("0.01")))
    assert widgets["total"]["kpi"]["status"] == "critical"
    assert widgets["byIndustry"]["error"] is None and widgets["byIndustry"]["result"]["rows"]
    assert _code(sales.clients["boss"].error(BOARD, {"name": "pipeline", "filters": {"region": "x"}})) == (
        "VALIDATION_ERROR", "filters.region")

    # reps (role rep) do not see it; the administrator sees all
    assert sales.clients["rep1"].data(BOARDS)["dashboards"] == []
    assert _code(sales.clients["rep1"].error(BOARD, {"name": "pipeline"})) == ("NOT_FOUND", "name")
    assert sales.clients["boss"].data(BOARDS)["dashboards"] == [{"name": "pipeline"}]
    admin.data(UPDATE_BOARD, {"input": {"name": "pipeline", "roles": ["manager", "rep"]}})
    assert sales.clients["rep1"].data(BOARDS)["dashboards"] == [{"name": "pipeline"}]

    # a widget the viewer cannot run reports its error; the others still show
    hidden = sales.clients["hidden"].data(BOARD, {"name": "pipeline"})["dashboard"]
    widgets = {w["name"]: w for w in hidden["widgets"]}
    assert widgets["total"]["result"] is None
    assert widgets["total"]["error"]["code"] == "VALIDATION_ERROR" and "amount" in widgets["total"]["error"]["message"]
    assert widgets["byStage"]["result"]["rows"]
    admin.data(DELETE_BOARD, {"name": "pipeline"})
    assert admin.data(BOARDS)["dashboards"] == []


def test_dashboard_refusals_name_the_widget(sales: Sales) -> None:
    admin = sales.admin
    for widgets, field in [
        ([{"report": "noSuchReport"}], "widgets.0.report"),
        ([{"definition": BY_STAGE, "report": "x"}], "widgets.0.report"),
        ([{"type": "KPI", "definition": TOTAL, "measure": "missing"}], "widgets.0.measure"),
        ([{"type": "KPI", "definition": TOTAL, "measure": "n", "thresholds": {"warning": 5, "critical": 9}}],
         "widgets.0.thresholds.critical"),
        ([{"definition": {"object": "opportunity", "groupBy": [{"field": "nope"}]}}], "widgets.0.groupBy.0.field"),
        ([{"definition": BY_STAGE, "size": {"width": 13}}], "widgets.0.size.width"),
    ]:
        error = admin.error(CREATE_BOARD, {"input": {"name": "broken", "widgets": widgets}})
        assert _code(error) == ("VALIDATION_ERROR", field), error
    assert _code(admin.error(CREATE_BOARD, {"input": {"name": "broken", "roles": ["nobody"]}})) == (
        "VALIDATION_ERROR", "roles.0")
    assert _code(sales.clients["boss"].error(CREATE_BOARD, {"input": {"name": "mine"}}))[0] == "FORBIDDEN"
