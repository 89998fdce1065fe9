"""Installing the funnel into a tenant: the seven default stages, the stage history object, the fields
added to standard objects (origin ``funnel``) and the metric queries; a tenant without it has none."""

from __future__ import annotations

from typing import Any

from tessera.testing import GraphQLClient

STAGES = "query { salesStages(orderBy: [{position: AscNullsLast}]) { edges { node { stage label labelZh position probability kind stallDays } } } }"
OBJECTS = "query { objects { name origin } }"
FIELDS = "query($n: String!) { object(name: $n) { name origin fields { name type origin } } }"
QUERY_FIELDS = "query { __schema { queryType { fields { name } } } }"
METRICS = {"funnelConversion", "funnelWinRate", "funnelSalesCycle", "funnelStageDurations", "funnelPipeline",
           "funnelForecast", "funnelStalledDeals", "funnelScorecard"}


def _field(client: GraphQLClient, object_name: str, field: str) -> dict[str, Any] | None:
    fields = client.data(FIELDS, {"n": object_name})["object"]["fields"]
    return next((f for f in fields if f["name"] == field), None)


def test_install_creates_the_seven_default_stages(funnel: Any) -> None:
    rows = [e["node"] for e in funnel.query(STAGES)["salesStages"]["edges"]]
    assert [(r["stage"], r["position"], r["probability"], r["kind"], r["stallDays"]) for r in rows] == [
        ("prospecting", 1, "10.0000", "open", 14),
        ("qualification", 2, "20.0000", "open", 21),
        ("needsAnalysis", 3, "40.0000", "open", 21),
        ("proposal", 4, "60.0000", "open", 30),
        ("negotiation", 5, "80.0000", "open", 30),
        ("closedWon", 6, "100.0000", "won", None),
        ("closedLost", 7, "0.0000", "lost", None),
    ]
    assert (rows[0]["label"], rows[0]["labelZh"]) == ("Prospecting", "初步接洽")
    assert (rows[5]["label"], rows[5]["labelZh"]) == ("Closed Won", "赢单")


def test_install_adds_the_objects_and_fields_with_origin_funnel(funnel: Any) -> None:
    objects = {o["name"]: o["origin"] for o in funnel.query(OBJECTS)["objects"]}
    assert objects["salesStage"] == "funnel"
    assert objects["stageHistory"] == "funnel"
    assert objects["opportunity"] == "standard"
    assert _field(funnel.admin, "activity", "effectiveFollowUp") == {
        "name": "effectiveFollowUp", "type": "BOOLEAN", "origin": "funnel"}
    assert _field(funnel.admin, "opportunity", "funnelStageCount") == {
        "name": "funnelStageCount", "type": "ROLLUP", "origin": "funnel"}
    history = {f["name"]: f["type"] for f in funnel.query(FIELDS, {"n": "stageHistory"})["object"]["fields"]}
    assert {k: history[k] for k in ("opportunity", "fromStage", "toStage", "enteredAt", "leftAt", "durationDays",
                                    "amount")} == {
        "opportunity": "LOOKUP", "fromStage": "TEXT", "toStage": "TEXT", "enteredAt": "DATETIME",
        "leftAt": "DATETIME", "durationDays": "FORMULA", "amount": "CURRENCY"}
    names = {f["name"] for f in funnel.query(QUERY_FIELDS)["__schema"]["queryType"]["fields"]}
    assert names >= METRICS


def test_the_rollup_counts_the_stages_entered(funnel: Any) -> None:
    deal = funnel.opportunity("Rollup", "prospecting", "2025-01-01T00:00:00Z")
    funnel.move(deal, "qualification", "2025-01-05T00:00:00Z")
    funnel.move(deal, "proposal", "2025-01-09T00:00:00Z")
    count = 'query($id: ID!) { opportunity(id: $id) { funnelStageCount } }'
    assert funnel.query(count, {"id": deal})["opportunity"]["funnelStageCount"] == 3


def test_a_tenant_without_the_plugin_has_none_of_it(gql: GraphQLClient) -> None:
    objects = {o["name"] for o in gql.data(OBJECTS)["objects"]}
    assert not {"salesStage", "stageHistory"} & objects
    assert _field(gql, "activity", "effectiveFollowUp") is None
    assert _field(gql, "opportunity", "funnelStageCount") is None
    names = {f["name"] for f in gql.data(QUERY_FIELDS)["__schema"]["queryType"]["fields"]}
    assert not [n for n in names if n.startswith("funnel")]
    assert "salesStages" not in names
    # and its opportunities get no stage history (the hook does not run for it)
    created = gql.data('mutation { createOpportunity(data: {name: "Plain", stage: "prospecting", '
                       'closeDate: "2025-06-30"}) { id stageEnteredAt } }')["createOpportunity"]
    assert created["stageEnteredAt"] is None
