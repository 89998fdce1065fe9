"""The metric functions of ``tessera_funnel.analytics`` on rows built by hand (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from tessera_funnel import analytics
from tessera_funnel.stages import DEFAULT_STAGES

STAGES = list(DEFAULT_STAGES)
Q1 = (date(2025, 1, 1), date(2025, 3, 31))


def h(opp: str, stage: str, entered: str, left: str | None = None) -> dict[str, str | None]:
    return {"opportunity": opp, "toStage": stage, "enteredAt": entered, "leftAt": left}


HISTORY = [
    h("a", "prospecting", "2025-01-10T00:00:00Z", "2025-01-20T00:00:00Z"),
    h("a", "qualification", "2025-01-20T00:00:00Z", "2025-02-01T12:00:00Z"),
    h("a", "closedWon", "2025-02-01T12:00:00Z"),
    h("b", "prospecting", "2025-03-31T23:59:59Z", "2025-04-02T00:00:00Z"),
    h("b", "closedLost", "2025-04-02T00:00:00Z"),
    # c was won, then reopened and lost: the last close counts
    h("c", "prospecting", "2024-12-31T23:00:00Z", "2025-01-05T00:00:00Z"),
    h("c", "closedWon", "2025-01-05T00:00:00Z", "2025-01-06T00:00:00Z"),
    h("c", "closedLost", "2025-01-06T00:00:00Z"),
]


def test_conversion_cohort_is_who_entered_the_from_stage_in_the_period() -> None:
    assert analytics.conversion(HISTORY, "prospecting", "closedWon", *Q1) == {
        "fromStage": "prospecting", "toStage": "closedWon", "cohort": 2, "converted": 1, "rate": Decimal("50.00")}
    # c entered prospecting on 2024-12-31 (UTC): not in the cohort of January
    assert analytics.conversion(HISTORY, "prospecting", "closedLost", date(2025, 1, 1), date(2025, 1, 31))[
        "cohort"] == 1
    # b converts after the period: "afterwards" is at any time up to now
    assert analytics.conversion(HISTORY, "prospecting", "closedLost", date(2025, 3, 31), date(2025, 3, 31)) == {
        "fromStage": "prospecting", "toStage": "closedLost", "cohort": 1, "converted": 1, "rate": Decimal("100.00")}
    empty = analytics.conversion(HISTORY, "proposal", "closedWon", *Q1)
    assert (empty["cohort"], empty["converted"], empty["rate"]) == (0, 0, None)
    # entering the to-stage before the from-stage does not convert
    assert analytics.conversion(HISTORY, "closedWon", "prospecting", *Q1)["converted"] == 0


def test_win_rate_counts_each_deals_last_close_in_the_period() -> None:
    assert analytics.win_rate(HISTORY, STAGES, *Q1) == {"won": 1, "lost": 1, "rate": Decimal("50.00")}
    assert analytics.win_rate(HISTORY, STAGES, date(2025, 4, 1), date(2025, 4, 30)) == {
        "won": 0, "lost": 1, "rate": Decimal("0.00")}
    assert analytics.win_rate(HISTORY, STAGES, date(2024, 1, 1), date(2024, 12, 31)) == {
        "won": 0, "lost": 0, "rate": None}
    assert analytics.win_rate([], STAGES, *Q1)["rate"] is None


def test_sales_cycle_starts_at_the_first_stage_or_the_creation() -> None:
    opportunities = [{"id": "a", "createdAt": "2025-01-15T00:00:00Z"},
                     {"id": "d", "createdAt": "2025-03-01T00:00:00Z"}]
    history = [*HISTORY, h("d", "closedWon", "2025-03-11T06:00:00Z")]
    # a: 01-10 (its first stage, before its creation) → 02-01 12:00 = 22.5; d: created 03-01 → 03-11 06:00 = 10.25
    assert analytics.sales_cycle(opportunities, history, STAGES, *Q1) == {"deals": 2, "averageDays": Decimal("16.38")}
    assert analytics.sales_cycle(opportunities, history, STAGES, date(2025, 4, 1), date(2025, 4, 30)) == {
        "deals": 0, "averageDays": None}


def test_stage_durations_list_every_stage_in_funnel_order() -> None:
    rows = analytics.stage_durations(HISTORY, STAGES, *Q1)
    assert [r["stage"] for r in rows] == [s["stage"] for s in STAGES]
    by_stage = {r["stage"]: (r["exits"], r["averageDays"]) for r in rows}
    # prospecting: a 10 days, c 4 days 1 hour (b leaves in April); qualification: a 12.5 days
    assert by_stage["prospecting"] == (2, Decimal("7.02"))
    assert by_stage["qualification"] == (1, Decimal("12.50"))
    assert by_stage["closedWon"] == (1, Decimal("1.00"))
    assert by_stage["proposal"] == (0, None)


def test_pipeline_and_forecast_weigh_open_deals_with_the_stage_default_when_probability_is_null() -> None:
    opportunities = [
        {"id": "1", "stage": "proposal", "amount": "1000.00", "probability": None, "closeDate": "2025-05-31"},
        {"id": "2", "stage": "proposal", "amount": "1000.00", "probability": "25", "closeDate": "2025-05-01"},
        {"id": "3", "stage": "prospecting", "amount": "333.33", "probability": None, "closeDate": None},
        {"id": "4", "stage": "closedWon", "amount": "9999.00", "probability": None, "closeDate": "2025-01-01"},
        {"id": "5", "stage": "negotiation", "amount": None, "probability": None, "closeDate": "2025-02-10"},
    ]
    assert analytics.pipeline(opportunities, STAGES) == {
        "deals": 4, "amount": Decimal("2333.33"), "weighted": Decimal("883.33")}
    assert analytics.forecast(opportunities, STAGES) == [
        {"month": "2025-02", "deals": 1, "amount": Decimal("0.00"), "weighted": Decimal("0.00")},
        {"month": "2025-05", "deals": 2, "amount": Decimal("2000.00"), "weighted": Decimal("850.00")},
        {"month": "none", "deals": 1, "amount": Decimal("333.33"), "weighted": Decimal("33.33")},
    ]
    assert analytics.pipeline([], STAGES) == {"deals": 0, "amount": Decimal("0.00"), "weighted": Decimal("0.00")}


def test_stalled_uses_the_later_of_stage_entry_and_last_completed_activity() -> None:
    stages = [*STAGES, {"stage": "custom", "kind": "open", "position": 8, "probability": None, "stallDays": None}]
    opportunities = [
        {"id": "1", "name": "One", "stage": "prospecting", "stageEnteredAt": "2025-01-01T00:00:00Z", "owner": "u"},
        {"id": "2", "name": "Two", "stage": "prospecting", "stageEnteredAt": "2025-01-01T00:00:00Z", "owner": "u"},
        {"id": "3", "name": "Three", "stage": "custom", "stageEnteredAt": None, "createdAt": "2025-01-01T00:00:00Z"},
        {"id": "4", "name": "Four", "stage": "closedLost", "stageEnteredAt": "2024-01-01T00:00:00Z"},
    ]
    activities = [
        {"opportunity": "2", "status": "completed", "completedAt": "2025-01-20T00:00:00Z"},
        {"opportunity": "1", "status": "planned", "dueAt": "2025-01-30T00:00:00Z"},
        {"opportunity": "1", "status": "completed", "completedAt": "2025-03-01T00:00:00Z"},  # after as_of
    ]
    as_of = datetime(2025, 2, 1, tzinfo=UTC)
    assert analytics.stalled(opportunities, stages, activities, as_of) == [
        # equally idle: by name
        {"id": "1", "name": "One", "stage": "prospecting", "owner": "u", "idleDays": 31, "stallDays": 14},
        {"id": "3", "name": "Three", "stage": "custom", "owner": None, "idleDays": 31, "stallDays": 30},
    ]
    # exactly at the limit is not stalled yet
    assert analytics.stalled(opportunities[1:2], stages, activities, datetime(2025, 2, 3, tzinfo=UTC)) == []


def test_scorecard_counts_completed_activities_of_the_period_per_owner() -> None:
    opportunities = [{"id": "a", "owner": "u1", "amount": "500.00"}, {"id": "c", "owner": "u2", "amount": "7.00"},
                     {"id": "b", "owner": None, "amount": "1.00"}]
    activities = [
        {"owner": "u1", "status": "completed", "completedAt": "2025-01-01T00:00:00Z", "activityType": "call",
         "durationMinutes": 12, "effectiveFollowUp": True},
        {"owner": "u1", "status": "completed", "completedAt": "2025-03-31T23:59:59Z", "activityType": "visit"},
        {"owner": "u1", "status": "planned", "completedAt": "2025-02-01T00:00:00Z", "activityType": "meeting"},
        {"owner": "u1", "status": "completed", "completedAt": "2025-04-01T00:00:00Z", "activityType": "call",
         "durationMinutes": 99},
        {"owner": "u2", "status": "completed", "completedAt": "2025-02-01T00:00:00Z", "activityType": "meeting",
         "effectiveFollowUp": True},
    ]
    cards = analytics.scorecard(opportunities, HISTORY, STAGES, activities, *Q1)
    assert cards == [
        {"owner": "u1", "visits": 1, "calls": 1, "callMinutes": 12, "meetings": 0, "effectiveFollowUps": 1,
         "wonDeals": 1, "lostDeals": 0, "wonAmount": Decimal("500.00"), "winRate": Decimal("100.00")},
        {"owner": "u2", "visits": 0, "calls": 0, "callMinutes": 0, "meetings": 1, "effectiveFollowUps": 1,
         "wonDeals": 0, "lostDeals": 1, "wonAmount": Decimal("0.00"), "winRate": Decimal("0.00")},
    ]
