"""Metrics answer with the caller's permissions: with opportunities PRIVATE a rep gets the figures of
the deals they can read, the administrator those of all; a user who may not read the stage history
gets a clear error from the metrics that need it."""

from __future__ import annotations

from typing import Any

import pytest
from tests.plugins.funnel.conftest import seed

PRIVATE = 'mutation { updateObject(input: {name: "opportunity", sharing: PRIVATE}) { sharing } }'
PERMISSION_SET = """mutation($n: String!, $o: [ObjectPermissionInput!]) {
  createPermissionSet(input: {name: $n, objectPermissions: $o}) { name } }"""
UPDATE_USER = "mutation($i: UpdateUserInput!) { updateUser(input: $i) { id } }"
CONVERSION = """query { funnelConversion(fromStage: "prospecting", toStage: "qualification", start: "2025-01-01",
  end: "2025-03-31") { cohort converted rate } }"""
WIN_RATE = 'query { funnelWinRate(start: "2025-01-01", end: "2025-03-31") { won lost rate } }'
CYCLE = 'query { funnelSalesCycle(start: "2025-01-01", end: "2025-03-31") { deals averageDays } }'
DURATIONS = 'query { funnelStageDurations(start: "2025-01-01", end: "2025-03-31") { stage exits averageDays } }'
PIPELINE = "query { funnelPipeline { deals amount weighted } }"
FORECAST = "query { funnelForecast { month deals amount weighted } }"
STALLED = 'query { funnelStalledDeals(asOf: "2025-04-12T00:00:00Z") { name idleDays } }'
SCORECARD = """query { funnelScorecard(start: "2025-01-01", end: "2025-03-31") {
  owner wonDeals lostDeals wonAmount winRate } }"""


def _private(funnel: Any, seeded: Any) -> Any:
    """The fixed dataset, opportunities PRIVATE, and a set granting read on the funnel's objects."""
    data = seeded(funnel)
    assert funnel.query(PRIVATE)["updateObject"]["sharing"] == "PRIVATE"
    funnel.query(PERMISSION_SET, {"n": "funnelReader", "o": [{"object": "salesStage", "read": True},
                                                             {"object": "stageHistory", "read": True}]})
    funnel.query(PERMISSION_SET, {"n": "noHistory", "o": [{"object": o, "read": True} for o in (
        "opportunity", "activity", "salesStage")]})
    funnel.query(UPDATE_USER, {"i": {"id": data.rep, "permissionSets": ["standardUser", "funnelReader"]}})
    return data


@pytest.fixture
def private(funnel: Any, seeded: Any) -> Any:
    """``_private`` in a tenant of the test's own (for a test that writes)."""
    return _private(funnel, seeded)


@pytest.fixture(scope="module")
def shared(module_funnel: Any) -> Any:
    """``_private`` in the module's tenant, for the tests that only read (and add users of their own)."""
    return _private(module_funnel, seed)


def test_a_rep_gets_the_metrics_of_their_own_deals_only(module_funnel: Any, shared: Any) -> None:
    funnel, private = module_funnel, shared
    rep = private.rep_client
    # the rep owns D2 (prospecting 01-15 → qualification 01-31 → lost 02-10) and D5 (open, negotiation)
    assert funnel.query(CONVERSION, client=rep)["funnelConversion"] == {"cohort": 2, "converted": 1, "rate": "50.00"}
    assert funnel.query(WIN_RATE, client=rep)["funnelWinRate"] == {"won": 0, "lost": 1, "rate": "0.00"}
    assert funnel.query(CYCLE, client=rep)["funnelSalesCycle"] == {"deals": 0, "averageDays": None}
    durations = {d["stage"]: (d["exits"], d["averageDays"])
                 for d in funnel.query(DURATIONS, client=rep)["funnelStageDurations"]}
    # D2 16.75 and D5 10 days in prospecting, D2 9.5 in qualification
    assert durations == {"prospecting": (2, "13.38"), "qualification": (1, "9.50"), "needsAnalysis": (0, None),
                         "proposal": (0, None), "negotiation": (0, None), "closedWon": (0, None),
                         "closedLost": (0, None)}
    assert funnel.query(PIPELINE, client=rep)["funnelPipeline"] == {
        "deals": 1, "amount": "40000.00", "weighted": "32000.00"}
    assert funnel.query(FORECAST, client=rep)["funnelForecast"] == [
        {"month": "2025-05", "deals": 1, "amount": "40000.00", "weighted": "32000.00"}]
    assert funnel.query(STALLED, client=rep)["funnelStalledDeals"] == [{"name": "D5", "idleDays": 32}]
    # activities stay PUBLIC_READ_WRITE: the rep also sees the administrator's card, without any deal
    cards = {c["owner"]: c for c in funnel.query(SCORECARD, client=rep)["funnelScorecard"]}
    assert cards == {
        private.rep: {"owner": private.rep, "wonDeals": 0, "lostDeals": 1, "wonAmount": "0.00", "winRate": "0.00"},
        funnel.admin_id: {"owner": funnel.admin_id, "wonDeals": 0, "lostDeals": 0, "wonAmount": "0.00",
                          "winRate": None}}


def test_the_administrator_still_gets_every_deal(module_funnel: Any, shared: Any) -> None:
    funnel = module_funnel
    # prospecting entered in Q1 by D1, D2, D3, D5; qualification after it by D1, D2, D3
    assert funnel.query(CONVERSION)["funnelConversion"] == {"cohort": 4, "converted": 3, "rate": "75.00"}
    assert funnel.query(WIN_RATE)["funnelWinRate"] == {"won": 2, "lost": 1, "rate": "66.67"}
    assert funnel.query(CYCLE)["funnelSalesCycle"] == {"deals": 2, "averageDays": "44.75"}
    assert funnel.query(PIPELINE)["funnelPipeline"] == {"deals": 3, "amount": "90000.00", "weighted": "51000.00"}
    assert [d["name"] for d in funnel.query(STALLED)["funnelStalledDeals"]] == ["D3", "D5", "D4"]


def test_a_rep_moving_their_deal_writes_its_history_without_rights_on_it(funnel: Any, private: Any) -> None:
    rep = private.rep_client
    funnel.move(private.deals["D5"], "closedWon", "2025-04-05T00:00:00Z", client=rep)
    rows = funnel.history(private.deals["D5"], client=rep)
    assert [(r["fromStage"], r["toStage"], r["owner"]["id"]) for r in rows] == [
        (None, "prospecting", private.rep), ("prospecting", "negotiation", private.rep),
        ("negotiation", "closedWon", private.rep)]
    assert funnel.query(WIN_RATE.replace("2025-03-31", "2025-04-30"), client=rep)["funnelWinRate"] == {
        "won": 1, "lost": 1, "rate": "50.00"}


def test_without_read_on_stage_history_the_metrics_needing_it_fail_clearly(module_funnel: Any, shared: Any) -> None:
    funnel = module_funnel
    # (installing the funnel lets standardUser read its objects: this user has a set of their own only)
    user, client = funnel.user("no.history@example.com", ["noHistory"])
    assert "stageHistories" not in str(client.execute("{ __schema { queryType { fields { name } } } }"))
    for document in (CONVERSION, WIN_RATE, CYCLE, DURATIONS, SCORECARD):
        result = client.execute(document)
        assert result.get("errors"), document
        error = result["errors"][0]
        assert error["extensions"]["code"] in ("NOT_FOUND", "FORBIDDEN", "PLUGIN_ERROR"), error
        assert "stageHistory" in error["message"], error
    # the metrics that do not read the history still answer (opportunities are PRIVATE and the user
    # owns none, so there is nothing in them)
    assert funnel.query(PIPELINE, client=client)["funnelPipeline"] == {"deals": 0, "amount": "0.00",
                                                                       "weighted": "0.00"}
    assert user
