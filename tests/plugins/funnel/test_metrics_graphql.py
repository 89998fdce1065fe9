"""The funnel's metric queries, as the administrator sees them, against figures worked out by hand on
the fixed dataset of ``seed`` (conftest.py: six deals and ten activities in 2025)."""

from __future__ import annotations

from typing import Any

import pytest

CONVERSION = """query($f: String!, $t: String!, $s: String!, $e: String!) {
  funnelConversion(fromStage: $f, toStage: $t, start: $s, end: $e) { fromStage toStage cohort converted rate } }"""
WIN_RATE = "query($s: String!, $e: String!) { funnelWinRate(start: $s, end: $e) { won lost rate } }"
CYCLE = "query($s: String!, $e: String!) { funnelSalesCycle(start: $s, end: $e) { deals averageDays } }"
DURATIONS = "query($s: String!, $e: String!) { funnelStageDurations(start: $s, end: $e) { stage exits averageDays } }"
PIPELINE = "query { funnelPipeline { deals amount weighted } }"
FORECAST = "query { funnelForecast { month deals amount weighted } }"
STALLED = "query($a: String) { funnelStalledDeals(asOf: $a) { id name stage owner idleDays stallDays } }"
SCORECARD = """query($s: String!, $e: String!) { funnelScorecard(start: $s, end: $e) {
  owner visits calls callMinutes meetings effectiveFollowUps wonDeals lostDeals wonAmount winRate } }"""


@pytest.mark.parametrize(("from_stage", "to_stage", "start", "end", "expected"), [
    ("prospecting", "qualification", "2025-01-01", "2025-01-31", (2, 2, "100.00")),  # D1, D2
    ("prospecting", "closedWon", "2025-01-01", "2025-03-31", (4, 1, "25.00")),  # D1 of D1, D2, D3, D5
    ("qualification", "closedWon", "2025-01-01", "2025-01-31", (3, 1, "33.33")),  # D1 of D1, D2, D4
    ("qualification", "closedLost", "2025-01-31", "2025-01-31", (1, 1, "100.00")),  # D2 at 18:00, last day
    ("prospecting", "qualification", "2025-02-01", "2025-02-01", (1, 1, "100.00")),  # D3 at 00:00, first day
    ("prospecting", "qualification", "2025-01-16", "2025-01-31", (0, 0, None)),  # D2 entered on the 15th
    ("qualification", "prospecting", "2025-01-01", "2025-03-31", (4, 0, "0.00")),  # D3 was there before
    ("needsAnalysis", "proposal", "2025-01-01", "2025-12-31", (0, 0, None)),  # empty cohort
])
def test_conversion(dataset: Any, module_funnel: Any, from_stage: str, to_stage: str, start: str, end: str,
                    expected: tuple[int, int, str | None]) -> None:
    result = module_funnel.query(CONVERSION, {"f": from_stage, "t": to_stage, "s": start, "e": end})
    assert result["funnelConversion"] == {"fromStage": from_stage, "toStage": to_stage, "cohort": expected[0],
                                          "converted": expected[1], "rate": expected[2]}


@pytest.mark.parametrize(("start", "end", "expected"), [
    ("2025-01-01", "2025-03-31", {"won": 2, "lost": 1, "rate": "66.67"}),  # D1, D6 won; D2 lost
    ("2025-01-01", "2025-01-31", {"won": 0, "lost": 0, "rate": None}),
    ("2025-02-01", "2025-02-28", {"won": 0, "lost": 1, "rate": "0.00"}),
    ("2025-03-31", "2025-03-31", {"won": 1, "lost": 0, "rate": "100.00"}),  # D6 at 12:00
    ("2025-03-02", "2025-03-30", {"won": 0, "lost": 0, "rate": None}),  # D1 on the 1st, D6 on the 31st
])
def test_win_rate(dataset: Any, module_funnel: Any, start: str, end: str, expected: dict[str, Any]) -> None:
    assert module_funnel.query(WIN_RATE, {"s": start, "e": end})["funnelWinRate"] == expected


@pytest.mark.parametrize(("start", "end", "expected"), [
    # D1: 01-10 09:00 → 03-01 09:00 = 50 days; D6: 02-20 00:00 → 03-31 12:00 = 39.5 days
    ("2025-01-01", "2025-03-31", {"deals": 2, "averageDays": "44.75"}),
    ("2025-03-01", "2025-03-01", {"deals": 1, "averageDays": "50.00"}),
    ("2025-02-01", "2025-02-28", {"deals": 0, "averageDays": None}),  # D2 was lost, not won
])
def test_sales_cycle(dataset: Any, module_funnel: Any, start: str, end: str, expected: dict[str, Any]) -> None:
    assert module_funnel.query(CYCLE, {"s": start, "e": end})["funnelSalesCycle"] == expected


def test_stage_durations(dataset: Any, module_funnel: Any) -> None:
    quarter = module_funnel.query(DURATIONS, {"s": "2025-01-01", "e": "2025-03-31"})["funnelStageDurations"]
    assert quarter == [
        # D1 10, D2 16.75, D3 10 (the row created directly), D5 10 → 46.75 / 4
        {"stage": "prospecting", "exits": 4, "averageDays": "11.69"},
        {"stage": "qualification", "exits": 2, "averageDays": "10.75"},  # D1 12, D2 9.5; D3, D4 still there
        {"stage": "needsAnalysis", "exits": 0, "averageDays": None},
        {"stage": "proposal", "exits": 1, "averageDays": "28.00"},  # D1
        {"stage": "negotiation", "exits": 1, "averageDays": "39.50"},  # D6; D5 still there
        {"stage": "closedWon", "exits": 0, "averageDays": None},
        {"stage": "closedLost", "exits": 0, "averageDays": None},
    ]
    january = module_funnel.query(DURATIONS, {"s": "2025-01-01", "e": "2025-01-31"})["funnelStageDurations"]
    # D1 left on the 20th, D2 on the 31st at 18:00: (10 + 16.75) / 2 = 13.375
    assert [(d["stage"], d["exits"], d["averageDays"]) for d in january][:2] == [
        ("prospecting", 2, "13.38"), ("qualification", 0, None)]


def test_pipeline_weighs_by_the_deals_probability_or_its_stages(dataset: Any, module_funnel: Any) -> None:
    # D3 20000 × 20% (qualification's default) + D4 30000 × 50% (its own) + D5 40000 × 80% (negotiation's)
    assert module_funnel.query(PIPELINE)["funnelPipeline"] == {
        "deals": 3, "amount": "90000.00", "weighted": "51000.00"}


def test_forecast_by_close_month(dataset: Any, module_funnel: Any) -> None:
    assert module_funnel.query(FORECAST)["funnelForecast"] == [
        {"month": "2025-04", "deals": 2, "amount": "50000.00", "weighted": "19000.00"},  # D3, D4
        {"month": "2025-05", "deals": 1, "amount": "40000.00", "weighted": "32000.00"},  # D5
    ]


def test_stalled_deals_are_judged_against_the_later_of_stage_change_and_last_activity(
    dataset: Any, module_funnel: Any
) -> None:
    deals, admin, rep = dataset.deals, module_funnel.admin_id, dataset.rep

    def stalled(as_of: str) -> list[tuple[str, str, str, int, int]]:
        rows = module_funnel.query(STALLED, {"a": as_of})["funnelStalledDeals"]
        return [(r["id"], r["name"], r["owner"], r["idleDays"], r["stallDays"]) for r in rows]

    # D3 idle since 02-11 (its call planned for 04-10 does not count: only completed activities do);
    # D4 in qualification since 01-05 but called on 03-20 12:00 (11.5 days); D5 at 21 of its 30 days
    assert stalled("2025-04-01T00:00:00Z") == [(deals["D3"], "D3", admin, 49, 21)]
    # exactly 30 days for D5 is not yet stalled; D4 at 20.5 of 21 days
    assert stalled("2025-04-10T00:00:00Z") == [(deals["D3"], "D3", admin, 58, 21)]
    # longest idle first; closed deals (D1, D2, D6) never stall
    assert stalled("2025-04-12T00:00:00Z") == [(deals["D3"], "D3", admin, 60, 21), (deals["D5"], "D5", rep, 32, 30),
                                               (deals["D4"], "D4", admin, 22, 21)]
    # the stage of each comes along
    rows = module_funnel.query(STALLED, {"a": "2025-04-12T00:00:00Z"})["funnelStalledDeals"]
    assert [r["stage"] for r in rows] == ["qualification", "negotiation", "qualification"]


def test_stalled_deals_default_to_now(dataset: Any, module_funnel: Any) -> None:
    # every open deal is long idle by now (2025 is in the past of the test run)
    rows = module_funnel.query(STALLED, {"a": None})["funnelStalledDeals"]
    assert sorted(r["name"] for r in rows) == ["D3", "D4", "D5"]


def test_scorecard_counts_completed_activities_of_the_period_and_the_deals_closed_in_it(
    dataset: Any, module_funnel: Any
) -> None:
    admin, rep = module_funnel.admin_id, dataset.rep
    quarter = module_funnel.query(SCORECARD, {"s": "2025-01-01", "e": "2025-03-31"})["funnelScorecard"]
    expected = {
        # a1 (15'), a3 (25') calls, a2 visit; a4 is in April, a6 was cancelled; a1, a3, a7 effective; D1 + D6 won
        admin: {"owner": admin, "visits": 1, "calls": 2, "callMinutes": 40, "meetings": 0, "effectiveFollowUps": 3,
                "wonDeals": 2, "lostDeals": 0, "wonAmount": "110000.00", "winRate": "100.00"},
        # r1 on 01-31 23:00, r2 on 03-31 23:59 (both in), r3 on 04-01 (out); D2 lost
        rep: {"owner": rep, "visits": 0, "calls": 1, "callMinutes": 10, "meetings": 1, "effectiveFollowUps": 1,
              "wonDeals": 0, "lostDeals": 1, "wonAmount": "0.00", "winRate": "0.00"},
    }
    assert quarter == [expected[owner] for owner in sorted(expected)]
    april = module_funnel.query(SCORECARD, {"s": "2025-04-01", "e": "2025-04-30"})["funnelScorecard"]
    expected = {
        admin: {"owner": admin, "visits": 0, "calls": 0, "callMinutes": 0, "meetings": 1, "effectiveFollowUps": 0,
                "wonDeals": 0, "lostDeals": 0, "wonAmount": "0.00", "winRate": None},
        rep: {"owner": rep, "visits": 1, "calls": 0, "callMinutes": 0, "meetings": 0, "effectiveFollowUps": 0,
              "wonDeals": 0, "lostDeals": 0, "wonAmount": "0.00", "winRate": None},
    }
    assert april == [expected[owner] for owner in sorted(expected)]
    # a period without anything: no cards
    assert module_funnel.query(SCORECARD, {"s": "2024-01-01", "e": "2024-12-31"})["funnelScorecard"] == []


def test_a_period_that_is_not_a_date_is_a_clear_error(module_funnel: Any) -> None:
    error = module_funnel.admin.error(WIN_RATE, {"s": "2025-13-01", "e": "2025-12-31"})
    assert error["extensions"]["code"] != "INTERNAL_ERROR"
    assert "start" in error["message"] and "2025-13-01" in error["message"]
