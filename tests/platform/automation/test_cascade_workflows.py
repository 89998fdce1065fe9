"""DELETED workflows run for the records a delete cascades to, not only for the record deleted."""

from __future__ import annotations

from tessera.testing import GraphQLClient

CREATE_WORKFLOW = "mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { name } }"
RUNS = 'query($w: String) { workflowRuns(workflow: $w) { recordId trigger status } }'


def test_activities_deleted_with_their_account_trigger_their_deleted_workflow(gql: GraphQLClient) -> None:
    gql.data(CREATE_WORKFLOW, {"i": {
        "object": "activity", "name": "activityGone", "trigger": {"event": "DELETED"},
        "actions": [{"type": "NOTIFY", "recipients": ["owner"], "title": "Gone: {{ subject }}"}],
    }})
    account = gql.data('mutation { createAccount(data: {name: "Doomed"}) { id } }')["createAccount"]["id"]
    other = gql.data('mutation { createAccount(data: {name: "Kept"}) { id } }')["createAccount"]["id"]
    made = {}
    for subject, owner_account in (("call one", account), ("call two", account), ("elsewhere", other)):
        made[subject] = gql.data("mutation($d: ActivityCreateInput!) { createActivity(data: $d) { id } }", {"d": {
            "subject": subject, "activityType": "call", "account": owner_account}})["createActivity"]["id"]
    gql.data("mutation($id: ID!) { deleteAccount(id: $id) { id } }", {"id": account})
    runs = gql.data(RUNS, {"w": "activityGone"})["workflowRuns"]
    assert sorted(r["recordId"] for r in runs) == sorted([made["call one"], made["call two"]])
    assert {(r["trigger"], r["status"]) for r in runs} == {("DELETED", "SUCCEEDED")}
    titles = sorted(n["title"] for n in gql.data("{ notifications { title } }")["notifications"])
    assert titles == ["Gone: call one", "Gone: call two"]
