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


def test_notify_the_owner_of_a_related_record(gql: GraphQLClient) -> None:
    # the account belongs to a colleague; the activity is logged by the administrator
    colleague = gql.data('mutation { createUser(input: {email: "kam@example.com", name: "Kam"}) { id } }')["createUser"]["id"]
    account = gql.data("mutation($d: AccountCreateInput!) { createAccount(data: $d) { id } }",
                       {"d": {"name": "Theirs", "owner": colleague}})["createAccount"]["id"]
    gql.data(CREATE_WORKFLOW, {"i": {
        "object": "activity", "name": "tellAccountOwner", "trigger": {"event": "CREATED"},
        "actions": [{"type": "NOTIFY", "recipients": ["owner:account"], "title": "Activity on your account"}],
    }})
    gql.data("mutation($d: ActivityCreateInput!) { createActivity(data: $d) { id } }",
             {"d": {"subject": "visit", "activityType": "visit", "account": account}})
    assert gql.data("{ notifications { title } }")["notifications"] == []  # not the administrator's
    token = gql.data('mutation($u: ID!) { createApiToken(input: {name: "t", user: $u}) { token } }',
                     {"u": colleague})["createApiToken"]["token"]
    theirs = GraphQLClient(gql.app, token).data("{ notifications { title } }")["notifications"]
    assert theirs == [{"title": "Activity on your account"}]
    runs = gql.data(RUNS, {"w": "tellAccountOwner"})["workflowRuns"]
    assert [r["status"] for r in runs] == ["SUCCEEDED"]
    bad = gql.error(CREATE_WORKFLOW, {"i": {
        "object": "activity", "name": "broken", "trigger": {"event": "CREATED"},
        "actions": [{"type": "NOTIFY", "recipients": ["owner:subject"], "title": "x"}],
    }})
    assert bad["extensions"]["code"] == "VALIDATION_ERROR"
    assert bad["message"] == "actions.0.recipients: activity has no lookup 'subject'"
