"""The funnel's report types (``runReport(type: "funnel.…")``) in the shared report shape, checked
against figures worked out by hand on the fixed dataset of ``seed`` (conftest.py) — the same ones the
GraphQL extension tests use — and refused in a tenant without the plugin."""

from __future__ import annotations

from typing import Any

from tessera.testing import GraphQLClient

RUN = "query($t: String!, $p: JSON) { runReport(type: $t, params: $p) { columns { name type } rows totals chart } }"


def _run(funnel: Any, key: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return funnel.query(RUN, {"t": key, "p": params or {}})["runReport"]


def test_forecast_report_has_one_row_per_close_month_and_the_pipeline_as_totals(
    dataset: Any, module_funnel: Any
) -> None:
    result = _run(module_funnel, "funnel.forecast")
    assert [c["name"] for c in result["columns"]] == ["month", "deals", "amount", "weighted"]
    assert result["rows"] == [["2025-04", 2, "50000.00", "19000.00"], ["2025-05", 1, "40000.00", "32000.00"]]
    assert result["totals"] == {"deals": 3, "amount": "90000.00", "weighted": "51000.00"}
    assert result["chart"] == {"type": "BAR", "x": "month", "y": ["amount", "weighted"]}


def test_conversion_report_walks_consecutive_stages_for_the_period(dataset: Any, module_funnel: Any) -> None:
    result = _run(module_funnel, "funnel.conversion", {"start": "2025-01-01", "end": "2025-01-31"})
    rows = {(r[0], r[1]): r[2:] for r in result["rows"]}
    # the same cohorts as test_metrics_graphql: prospecting→qualification in January is D1, D2, both converted
    assert rows[("prospecting", "qualification")] == [2, 2, "100.00"]
    assert list(rows) == [("prospecting", "qualification"), ("qualification", "needsAnalysis"),
                          ("needsAnalysis", "proposal"), ("proposal", "negotiation"), ("negotiation", "closedWon")]
    assert result["chart"]["type"] == "FUNNEL"


def test_scorecard_report_matches_the_scorecard_query(dataset: Any, module_funnel: Any) -> None:
    query = """query($s: String!, $e: String!) { funnelScorecard(start: $s, end: $e) {
      owner visits calls callMinutes meetings effectiveFollowUps wonDeals lostDeals wonAmount winRate } }"""
    expected = module_funnel.query(query, {"s": "2025-01-01", "e": "2025-03-31"})["funnelScorecard"]
    result = _run(module_funnel, "funnel.scorecard", {"start": "2025-01-01", "end": "2025-03-31"})
    names = [c["name"] for c in result["columns"]]
    assert [dict(zip(names, row, strict=True)) for row in result["rows"]] == expected
    assert len(expected) == 2


def test_bad_params_and_tenants_without_the_plugin_are_refused(
    dataset: Any, module_funnel: Any, gql: GraphQLClient
) -> None:
    error = module_funnel.admin.error(RUN, {"t": "funnel.scorecard", "p": {"start": "2025-13-01"}})
    assert error["extensions"]["code"] == "PLUGIN_ERROR"
    assert "YYYY-MM-DD" in error["message"]
    missing = gql.error(RUN, {"t": "funnel.forecast", "p": {}})
    assert missing["extensions"]["code"] == "NOT_FOUND"


def test_single_figure_report_types_match_the_hand_worked_figures(dataset: Any, module_funnel: Any) -> None:
    quarter = {"start": "2025-01-01", "end": "2025-03-31"}
    # D1, D6 won and D2 lost in the quarter; D1 and D6 took 44.75 days on average; D3, D4, D5 are open
    assert _run(module_funnel, "funnel.winRate", quarter)["rows"] == [[2, 1, "66.67"]]
    assert _run(module_funnel, "funnel.salesCycle", quarter)["rows"] == [[2, "44.75"]]
    assert _run(module_funnel, "funnel.pipeline")["rows"] == [[3, "90000.00", "51000.00"]]
