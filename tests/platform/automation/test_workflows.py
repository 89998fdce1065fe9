"""Workflows through the GraphQL API: every trigger, every action, conditions, inactive workflows,
the recursion guard, versions, the run log, failing actions (retried, then FAILED and requeueable),
notifications, and the refusals of bad definitions and of non-administrators.

The module builds its own runtime on the session's database with fast retries (``retry_base_seconds``
0.1, three attempts) and a workflow depth limit of 3, and one tenant (``world``)::

    admin                      (administrator; creates the workflows)
    boss ← rep                 (rep's manager is boss; standard users)
    s1, s2, s3 (role sales)    (active), s4 (role sales, inactive)
    outsider                   (standard user, no role)

Opportunities are PRIVATE, so a standard user sees only their own. Every test deletes the
workflows it created (an autouse fixture), so tests only see their own automation. Jobs run in
process right after the commit that queued them; retries are run with ``outbox.run_due``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa

from tessera.jobs.transport import EmbeddedTransport
from tessera.plugin import PluginInfo, WorkflowActionSpec, hookimpl
from tessera.plugin_host import PluginHost
from tessera.services import plugins as plugin_service
from tessera.services.automation import outbox as outbox_service
from tessera.services.automation.schedules import tick
from tessera.services.automation.workflows import create_workflow
from tessera.services.runtime import Actor, Runtime
from tessera.storage.system_tables import outbox
from tessera.testing import GraphQLClient, make_app, migrated_runtime, tenant_scope

WORKFLOW = "name object description active version trigger condition actions origin"
CREATE_WORKFLOW = f"mutation($i: CreateWorkflowInput!) {{ createWorkflow(input: $i) {{ {WORKFLOW} }} }}"
UPDATE_WORKFLOW = f"mutation($i: UpdateWorkflowInput!) {{ updateWorkflow(input: $i) {{ {WORKFLOW} }} }}"
DELETE_WORKFLOW = "mutation($n: String!) { deleteWorkflow(name: $n) { name } }"
WORKFLOWS = f"{{ workflows {{ {WORKFLOW} }} }}"
ONE_WORKFLOW = f"query($n: String!) {{ workflow(name: $n) {{ {WORKFLOW} runs {{ status version }} }} }}"
RUN_WORKFLOW = "mutation($n: String!, $id: ID!) { runWorkflow(name: $n, recordId: $id) }"
RUNS = """
query($w: String, $id: ID, $status: WorkflowRunStatus) {
  workflowRuns(workflow: $w, recordId: $id, status: $status, first: 200) {
    id workflow version object recordId trigger status triggeredBy depth durationMs error } }
"""
JOBS = "query($s: JobStatus) { jobs(status: $s, first: 200) { id kind key status attempts maxAttempts lastError } }"
REQUEUE = "mutation($ids: [ID!]) { requeueJobs(ids: $ids) }"
NOTIFICATIONS = """
query($unread: Boolean) { notifications(unreadOnly: $unread, first: 200) { id title body object recordId source read } }
"""
UNREAD = "{ unreadNotifications }"
MARK_READ = "mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) }"

CREATE_ROLE = "mutation($i: RoleInput!) { createRole(input: $i) { name } }"
CREATE_USER = "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }"
CREATE_TOKEN = "mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { token } }"
UPDATE_OBJECT = "mutation($i: UpdateObjectInput!) { updateObject(input: $i) { name sharing } }"
CREATE_RULE = "mutation($i: CreateValidationRuleInput!) { createValidationRule(input: $i) { name } }"
UPDATE_RULE = "mutation($i: UpdateValidationRuleInput!) { updateValidationRule(input: $i) { name active } }"

OPP = "id name amount stage closeDate nextStep description competitor probability owner { id } account { id }"
CREATE_OPP = f"mutation($d: OpportunityCreateInput!) {{ createOpportunity(data: $d) {{ {OPP} }} }}"
UPDATE_OPP = f"mutation($id: ID!, $d: OpportunityUpdateInput!) {{ updateOpportunity(id: $id, data: $d) {{ {OPP} }} }}"
DELETE_OPP = "mutation($id: ID!) { deleteOpportunity(id: $id) { id } }"
GET_OPP = f"query($id: ID!) {{ opportunity(id: $id) {{ {OPP} }} }}"
OPP_ACTIVITIES = """
query($id: ID!) { opportunity(id: $id) {
  activities { totalCount edges { node { id subject activityType notes owner { id } opportunity { id } } } } } }
"""
CREATE_ACCOUNT = "mutation($d: AccountCreateInput!) { createAccount(data: $d) { id } }"
UPDATE_ACCOUNT = "mutation($id: ID!, $d: AccountUpdateInput!) { updateAccount(id: $id, data: $d) { id } }"
GET_ACCOUNT = "query($id: ID!) { account(id: $id) { id name rating description } }"
CONTACTS = """
query($f: ContactFilter) { contacts(filter: $f, first: 100) { totalCount edges { node { id lastName } } } }
"""
HISTORY = """
query($o: String!, $id: ID!) { recordHistory(object: $o, id: $id) { action field oldValue newValue user { id } channel } }
"""

MAX_DEPTH = 3
RETRY_BASE = 0.1


# --- the module's world ----------------------------------------------------------------------
@dataclass
class World:
    rt: Runtime
    app: Any
    admin: GraphQLClient
    admin_id: str
    tenant_id: str
    slug: str
    users: dict[str, str] = field(default_factory=dict)
    clients: dict[str, GraphQLClient] = field(default_factory=dict)

    def __getitem__(self, name: str) -> GraphQLClient:
        return self.clients[name]

    def workflow(self, **definition: Any) -> dict[str, Any]:
        return self.admin.data(CREATE_WORKFLOW, {"i": definition})["createWorkflow"]

    def workflow_by_service(self, **definition: Any) -> None:
        """Create a workflow through the service layer (what createWorkflow calls)."""
        create_workflow(self.rt, Actor(self.rt.tenant(self.slug), self.admin_id), definition)

    def opp(self, client: GraphQLClient | None = None, **data: Any) -> dict[str, Any]:
        values = {"name": f"deal-{uuid.uuid4().hex[:8]}", "closeDate": "2026-06-30", **data}
        return (client or self.admin).data(CREATE_OPP, {"d": values})["createOpportunity"]

    def get(self, record_id: str) -> dict[str, Any]:
        return self.admin.data(GET_OPP, {"id": record_id})["opportunity"]

    def runs(self, workflow: str, record_id: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """The workflow's runs, oldest first (the API lists the newest first)."""
        return self.admin.data(RUNS, {"w": workflow, "id": record_id, "status": status})["workflowRuns"][::-1]

    def history(self, object_name: str, record_id: str) -> list[dict[str, Any]]:
        return self.admin.data(HISTORY, {"o": object_name, "id": record_id})["recordHistory"]

    def outbox_rows(self, kind: str | None = None) -> list[dict[str, Any]]:
        with self.rt.db.system.connect() as conn:
            query = sa.select(outbox).where(outbox.c.tenant_id == self.tenant_id)
            if kind is not None:
                query = query.where(outbox.c.kind == kind)
            return [dict(r) for r in conn.execute(query.order_by(outbox.c.created_at)).mappings()]


def _fast_runtime(runtime: Runtime, **jobs: Any) -> Runtime:
    settings = {"retry_base_seconds": RETRY_BASE, "max_attempts": 3, "workflow_max_depth": MAX_DEPTH, **jobs}
    return migrated_runtime(replace(runtime.config, jobs=replace(runtime.config.jobs, **settings)))


@pytest.fixture(scope="module")
def world(runtime: Runtime) -> Iterator[World]:
    rt = _fast_runtime(runtime)
    app = make_app(rt)
    try:
        with tenant_scope(rt) as created:
            admin = GraphQLClient(app, created.token)
            w = World(rt, app, admin, created.admin_user_id, created.tenant.id, created.tenant.slug)
            admin.data(CREATE_ROLE, {"i": {"name": "sales"}})
            for name, manager, role, active in (("boss", None, None, True), ("rep", "boss", None, True),
                                                ("s1", None, "sales", True), ("s2", None, "sales", True),
                                                ("s3", None, "sales", True), ("s4", None, "sales", False),
                                                ("outsider", None, None, True)):
                data: dict[str, Any] = {"email": f"{name}@example.com", "name": name, "active": active}
                if manager:
                    data["manager"] = w.users[manager]
                if role:
                    data["role"] = role
                user_id = admin.data(CREATE_USER, {"i": data})["createUser"]["id"]
                w.users[name] = user_id
                if active:
                    token = admin.data(CREATE_TOKEN, {"i": {"name": name, "user": user_id}})["createApiToken"]["token"]
                    w.clients[name] = GraphQLClient(app, token)
            admin.data(UPDATE_OBJECT, {"i": {"name": "opportunity", "sharing": "PRIVATE"}})
            yield w
    finally:
        rt.close()


@pytest.fixture(autouse=True)
def _own_workflows(world: World) -> Iterator[None]:
    """Each test starts and ends without workflows."""
    yield
    for found in world.admin.data(WORKFLOWS)["workflows"]:
        world.admin.data(DELETE_WORKFLOW, {"n": found["name"]})


def _changes(history: list[dict[str, Any]], channel: str) -> dict[str, tuple[Any, str | None]]:
    """field -> (new value, user id) of the history rows written through ``channel``."""
    return {row["field"]: (row["newValue"], (row["user"] or {}).get("id")) for row in history
            if row["channel"] == channel}


# --- record-triggered: CREATED, UPDATED, DELETED ------------------------------------------------
def test_created_runs_field_updates_in_the_same_write_recorded_as_the_triggering_user(world: World) -> None:
    world.workflow(object="opportunity", name="stampNew", trigger={"event": "CREATED"}, actions=[{
        "type": "UPDATE_FIELDS", "values": {"nextStep": "qualify"},
        "formulas": {"description": "name & ' worth ' & TEXT(amount * 2)", "probability": "IF(amount > 1000, 50, 10)"},
    }])
    created = world.opp(world["rep"], name="Acme renewal", amount="1500")
    # the create's own answer already carries the workflow's values (same transaction)
    assert created["nextStep"] == "qualify"
    assert created["description"] == "Acme renewal worth 3000"
    assert float(created["probability"]) == 50
    history = world.history("opportunity", created["id"])
    by_workflow = _changes(history, "workflow")
    assert set(by_workflow) == {"nextStep", "description", "probability"}
    assert {user for _, user in by_workflow.values()} == {world.users["rep"]}
    assert by_workflow["nextStep"][0] == "qualify"
    assert _changes(history, "api")["name"] == ("Acme renewal", world.users["rep"])
    [run] = world.runs("stampNew")
    assert (run["status"], run["trigger"], run["recordId"], run["version"]) == ("SUCCEEDED", "CREATED", created["id"], 1)
    assert (run["triggeredBy"], run["depth"], run["object"], run["error"]) == (world.users["rep"], 0, "opportunity", None)
    assert run["durationMs"] >= 0


def test_updated_with_fields_fires_only_when_a_watched_field_changes(world: World) -> None:
    world.workflow(object="opportunity", name="stageWatch", trigger={"event": "UPDATED", "fields": ["stage"]},
                   actions=[{"type": "UPDATE_FIELDS", "formulas": {"nextStep": "'now ' & TEXT(stage)"}}])
    record = world.opp(amount="10")
    assert world.runs("stageWatch") == []  # a create is no update
    world.admin.data(UPDATE_OPP, {"id": record["id"], "d": {"amount": "20", "competitor": "Globex"}})
    assert world.runs("stageWatch") == []
    assert world.get(record["id"])["nextStep"] is None
    world.admin.data(UPDATE_OPP, {"id": record["id"], "d": {"stage": "proposal"}})
    assert world.get(record["id"])["nextStep"] == "now proposal"
    assert len(world.runs("stageWatch", record["id"])) == 1
    world.admin.data(UPDATE_OPP, {"id": record["id"], "d": {"stage": "proposal"}})  # no change of stage
    world.admin.data(UPDATE_OPP, {"id": record["id"], "d": {"stage": "negotiation", "amount": "30"}})
    assert world.get(record["id"])["nextStep"] == "now negotiation"
    assert [r["status"] for r in world.runs("stageWatch", record["id"])] == ["SUCCEEDED", "SUCCEEDED"]


def test_updated_when_the_condition_becomes_true_fires_once_per_crossing(world: World) -> None:
    world.workflow_by_service(object="opportunity", name="crossedBig", condition="amount > 1000",
                   trigger={"event": "UPDATED", "conditionBecomesTrue": True},
                   actions=[{"type": "UPDATE_FIELDS", "formulas": {"competitor": "'crossed at ' & TEXT(amount)"}}])
    record = world.opp(amount="500")
    steps = [("2000", 1), ("3000", 1), ("4000", 1), ("800", 1), ("5000", 2), ("6000", 2)]
    for amount, expected in steps:
        world.admin.data(UPDATE_OPP, {"id": record["id"], "d": {"amount": amount}})
        assert len(world.runs("crossedBig", record["id"])) == expected, amount
    assert world.get(record["id"])["competitor"] == "crossed at 5000"
    # a record created already meeting the condition has not crossed it on its later updates
    already = world.opp(amount="9000")
    world.admin.data(UPDATE_OPP, {"id": already["id"], "d": {"amount": "9500"}})
    assert world.runs("crossedBig", already["id"]) == []


def test_a_false_condition_runs_nothing_and_changes_nothing(world: World) -> None:
    world.workflow(object="opportunity", name="onlyBig", condition="amount > 1000", trigger={"event": "CREATED"},
                   actions=[{"type": "UPDATE_FIELDS", "values": {"nextStep": "big deal"}},
                            {"type": "NOTIFY", "recipients": ["owner"], "title": "Big: {{ name }}"}])
    small = world.opp(world["rep"], amount="999")
    assert world.get(small["id"])["nextStep"] is None
    assert world.runs("onlyBig") == []
    assert [n for n in world["rep"].data(NOTIFICATIONS)["notifications"] if n["recordId"] == small["id"]] == []
    assert _changes(world.history("opportunity", small["id"]), "workflow") == {}
    big = world.opp(world["rep"], amount="1001")
    assert world.get(big["id"])["nextStep"] == "big deal"
    assert [r["recordId"] for r in world.runs("onlyBig")] == [big["id"]]
    assert [n["title"] for n in world["rep"].data(NOTIFICATIONS)["notifications"]
            if n["recordId"] == big["id"]] == [f"Big: {big['name']}"]


def test_deleted_runs_after_the_delete_with_the_record_s_last_values(world: World) -> None:
    world.workflow(object="opportunity", name="goneDeal", trigger={"event": "DELETED"}, actions=[
        {"type": "NOTIFY", "recipients": ["owner"], "title": "{{ name }} ({{ amount }}) was deleted",
         "body": "It was due {{ closeDate }}"},
        {"type": "CREATE_RECORD", "object": "activity", "values": {"activityType": "task"},
         "formulas": {"subject": "'Deleted ' & name"}},
    ])
    record = world.opp(world["rep"], name="Doomed", amount="70")
    assert world.runs("goneDeal") == []
    world["rep"].data(DELETE_OPP, {"id": record["id"]})
    [run] = world.runs("goneDeal")
    assert (run["status"], run["trigger"], run["recordId"], run["triggeredBy"]) == (
        "SUCCEEDED", "DELETED", record["id"], world.users["rep"])
    mine = [n for n in world["rep"].data(NOTIFICATIONS)["notifications"] if n["recordId"] == record["id"]]
    assert [(n["title"], n["body"], n["source"]) for n in mine] == [
        ("Doomed (70.00) was deleted", "It was due 2026-06-30", "workflow:goneDeal")]
    subjects = [e["node"]["subject"] for e in world.admin.data(
        '{ activities(filter: {subject: {eq: "Deleted Doomed"}}) { edges { node { subject } } } }')["activities"]["edges"]]
    assert subjects == ["Deleted Doomed"]


def test_workflows_of_other_events_and_objects_do_not_fire(world: World) -> None:
    world.workflow(object="opportunity", name="onUpdate", trigger={"event": "UPDATED"},
                   actions=[{"type": "NOTIFY", "recipients": ["owner"], "title": "changed"}])
    world.workflow(object="account", name="onAccount", trigger={"event": "CREATED"},
                   actions=[{"type": "NOTIFY", "recipients": ["owner"], "title": "account"}])
    record = world.opp()
    world.admin.data(DELETE_OPP, {"id": record["id"]})
    assert world.runs("onUpdate") == [] and world.runs("onAccount") == []


# --- MANUAL -----------------------------------------------------------------------------------
def test_manual_runs_for_a_record_the_caller_can_see(world: World) -> None:
    world.workflow(object="opportunity", name="escalate", trigger={"event": "MANUAL"}, actions=[
        {"type": "UPDATE_FIELDS", "formulas": {"nextStep": "'escalated: ' & name"}},
        {"type": "NOTIFY", "recipients": ["manager"], "title": "{{ name }} escalated"},
    ])
    record = world.opp(world["rep"], name="Stuck")
    assert world.runs("escalate") == []  # a manual workflow never fires on its own
    key = world["rep"].data(RUN_WORKFLOW, {"n": "escalate", "id": record["id"]})["runWorkflow"]
    assert key.startswith("wf:")
    assert world["rep"].data(GET_OPP, {"id": record["id"]})["opportunity"]["nextStep"] == "escalated: Stuck"
    [run] = world.runs("escalate")
    assert (run["trigger"], run["status"], run["triggeredBy"]) == ("MANUAL", "SUCCEEDED", world.users["rep"])
    assert _changes(world.history("opportunity", record["id"]), "workflow") == {
        "nextStep": ("escalated: Stuck", world.users["rep"])}
    assert [n["title"] for n in world["boss"].data(NOTIFICATIONS)["notifications"]
            if n["recordId"] == record["id"]] == ["Stuck escalated"]
    # each manual run is a run of its own
    world["rep"].data(RUN_WORKFLOW, {"n": "escalate", "id": record["id"]})
    assert len(world.runs("escalate")) == 2

    # a record the caller cannot see (private opportunities), a malformed id, an unknown record
    for client, record_id in ((world["outsider"], record["id"]), (world["rep"], "not-an-id"),
                              (world["rep"], str(uuid.uuid4()))):
        error = client.error(RUN_WORKFLOW, {"n": "escalate", "id": record_id})
        assert error["extensions"]["code"] == "NOT_FOUND" and error["extensions"]["field"] == "recordId", error
    assert len(world.runs("escalate")) == 2
    # only active MANUAL workflows run by hand
    world.workflow(object="opportunity", name="notManual", trigger={"event": "CREATED"},
                   actions=[{"type": "NOTIFY", "recipients": ["owner"], "title": "x"}])
    world.admin.data(UPDATE_WORKFLOW, {"i": {"name": "escalate", "active": False}})
    for name in ("notManual", "escalate", "noSuchWorkflow"):
        error = world["rep"].error(RUN_WORKFLOW, {"n": name, "id": record["id"]})
        assert error["extensions"]["code"] == "NOT_FOUND" and error["extensions"]["field"] == "name", error


# --- SCHEDULED and DATE_RELATIVE ----------------------------------------------------------------
def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _scheduled_keys(world: World, workflow: str) -> list[str]:
    return [r["job_key"] for r in world.outbox_rows("workflow.run") if r["payload"]["workflow"] == workflow]


def test_a_cron_workflow_fires_once_per_fire_time_for_each_matching_record(world: World) -> None:
    tagged = [world.opp(competitor="cron-target", amount=str(n)) for n in (1, 2)]
    other = world.opp(competitor="someone else")
    world.workflow(object="opportunity", name="hourly", condition="competitor = 'cron-target'",
                   trigger={"event": "SCHEDULED", "cron": "0 * * * *"},
                   actions=[{"type": "UPDATE_FIELDS", "formulas": {"description": "'touched ' & TEXT(amount)"}}])
    # the first tick arms the workflow: hours before it was seen never fire
    assert tick(world.rt, now=_at("2030-01-01T10:30:00")) == 0
    assert tick(world.rt, now=_at("2030-01-01T10:59:00")) == 0
    assert world.runs("hourly") == []
    # 11:00 passed: one run per matching record
    assert tick(world.rt, now=_at("2030-01-01T11:05:00")) == 2
    runs = world.runs("hourly")
    assert sorted(r["recordId"] for r in runs) == sorted(r["id"] for r in tagged)
    assert {(r["trigger"], r["status"], r["triggeredBy"]) for r in runs} == {("SCHEDULED", "SUCCEEDED", world.admin_id)}
    assert world.get(tagged[0]["id"])["description"] == "touched 1"
    assert world.get(other["id"])["description"] is None
    # the same fire time again (a second tick, an overlapping scheduler) queues nothing more
    assert tick(world.rt, now=_at("2030-01-01T11:30:00")) == 0
    assert tick(world.rt, now=_at("2030-01-01T11:05:00")) == 0
    assert len(world.runs("hourly")) == 2
    keys = _scheduled_keys(world, "hourly")
    assert len(keys) == len(set(keys)) == 2
    # the next hour fires again
    assert tick(world.rt, now=_at("2030-01-01T12:00:30")) == 2
    assert len(world.runs("hourly")) == 4


def test_a_date_relative_workflow_fires_once_per_record_and_date(world: World) -> None:
    early = world.opp(world["rep"], closeDate="2030-03-10", competitor="dated")
    late = world.opp(world["rep"], closeDate="2030-03-20", competitor="dated")
    world.workflow_by_service(object="opportunity", name="closingSoon", condition="competitor = 'dated'",
                   trigger={"event": "DATE_RELATIVE", "dateField": "closeDate", "offsetDays": -3},
                   actions=[{"type": "NOTIFY", "recipients": ["owner"], "title": "{{ name }} closes on {{ closeDate }}"}])
    assert tick(world.rt, now=_at("2030-03-01T00:00:00")) == 0  # arming
    assert tick(world.rt, now=_at("2030-03-06T23:59:00")) == 0  # three days before 03-10 is 03-07
    assert tick(world.rt, now=_at("2030-03-07T00:30:00")) == 1
    assert [r["recordId"] for r in world.runs("closingSoon")] == [early["id"]]
    titles = [n["title"] for n in world["rep"].data(NOTIFICATIONS)["notifications"] if n["recordId"] == early["id"]]
    assert titles == [f"{early['name']} closes on 2030-03-10"]
    # later ticks of the same day, and the same tick twice, do not fire it again
    assert tick(world.rt, now=_at("2030-03-07T00:30:00")) == 0
    assert tick(world.rt, now=_at("2030-03-07T09:00:00")) == 0
    assert tick(world.rt, now=_at("2030-03-17T00:00:00")) == 1
    assert [r["recordId"] for r in world.runs("closingSoon")] == [early["id"], late["id"]]
    assert {r["trigger"] for r in world.runs("closingSoon")} == {"DATE_RELATIVE"}
    assert tick(world.rt, now=_at("2030-04-30T00:00:00")) == 0


# --- actions ------------------------------------------------------------------------------------
def test_create_record_links_the_new_record_and_records_the_triggering_user(world: World) -> None:
    world.workflow(object="opportunity", name="followUp", trigger={"event": "CREATED"}, condition="amount >= 100",
                   actions=[{"type": "CREATE_RECORD", "object": "activity", "link": "opportunity",
                             "values": {"activityType": "call", "priority": "high"},
                             "formulas": {"subject": "'Call about ' & name", "notes": "'Amount ' & TEXT(amount)"}}])
    record = world.opp(world["rep"], name="Initech", amount="250")
    activities = world.admin.data(OPP_ACTIVITIES, {"id": record["id"]})["opportunity"]["activities"]
    assert activities["totalCount"] == 1
    node = activities["edges"][0]["node"]
    assert (node["subject"], node["activityType"], node["notes"]) == ("Call about Initech", "call", "Amount 250")
    assert node["opportunity"]["id"] == record["id"]
    assert node["owner"]["id"] == world.users["rep"]
    created = _changes(world.history("activity", node["id"]), "workflow")
    assert created["subject"] == ("Call about Initech", world.users["rep"])
    # with system rights: rep may read the activity it got, though it did not write it through the API
    assert world["rep"].data(OPP_ACTIVITIES, {"id": record["id"]})["opportunity"]["activities"]["totalCount"] == 1
    # below the condition nothing is created
    small = world.opp(world["rep"], amount="5")
    assert world.admin.data(OPP_ACTIVITIES, {"id": small["id"]})["opportunity"]["activities"]["totalCount"] == 0


def test_update_related_changes_the_parent_and_the_children(world: World) -> None:
    world.workflow(object="opportunity", name="hotAccount", condition="stage = 'closedWon'",
                   trigger={"event": "UPDATED", "fields": ["stage"]},
                   actions=[{"type": "UPDATE_RELATED", "lookup": "account", "values": {"rating": "hot"},
                             "formulas": {"description": "'won ' & name"}}])
    world.workflow(object="account", name="cascadeNote", trigger={"event": "UPDATED", "fields": ["accountType"]},
                   actions=[{"type": "UPDATE_RELATED", "children": "opportunity.account",
                             "formulas": {"nextStep": "'account is now ' & TEXT(accountType)"}}])
    account = world.admin.data(CREATE_ACCOUNT, {"d": {"name": "Umbrella"}})["createAccount"]["id"]
    other_account = world.admin.data(CREATE_ACCOUNT, {"d": {"name": "Wayne"}})["createAccount"]["id"]
    first = world.opp(world["rep"], name="U1", account=account)
    second = world.opp(name="U2", account=account)
    elsewhere = world.opp(name="W1", account=other_account)

    world["rep"].data(UPDATE_OPP, {"id": first["id"], "d": {"stage": "closedWon"}})
    parent = world.admin.data(GET_ACCOUNT, {"id": account})["account"]
    assert (parent["rating"], parent["description"]) == ("hot", "won U1")
    assert world.admin.data(GET_ACCOUNT, {"id": other_account})["account"]["rating"] is None
    assert _changes(world.history("account", account), "workflow")["rating"] == ("hot", world.users["rep"])

    world.admin.data(UPDATE_ACCOUNT, {"id": account, "d": {"accountType": "customer"}})
    assert [world.get(r["id"])["nextStep"] for r in (first, second, elsewhere)] == [
        "account is now customer", "account is now customer", None]
    [run] = world.runs("cascadeNote")
    assert (run["object"], run["recordId"], run["status"]) == ("account", account, "SUCCEEDED")


def test_notify_reaches_owner_manager_role_and_user_with_rendered_templates(world: World) -> None:
    users = world.users
    world.workflow(object="opportunity", name="newDeal", trigger={"event": "CREATED"}, actions=[{
        "type": "NOTIFY", "recipients": ["owner", "manager", "role:sales", f"user:{users['outsider']}"],
        "title": "New deal {{ name }} for {{ amount * 2 }}", "body": "Closes {{ closeDate }}; {{ nextStep }}.",
    }])
    record = world.opp(world["rep"], name="Soylent", amount="1200.5", closeDate="2026-09-01")
    expected = ("New deal Soylent for 2401.00", "Closes 2026-09-01; .")  # an empty hole renders as nothing

    def mine(name: str, unread: bool | None = None) -> list[dict[str, Any]]:
        found = world[name].data(NOTIFICATIONS, {"unread": unread})["notifications"]
        return [n for n in found if n["recordId"] == record["id"]]

    for name in ("rep", "boss", "s1", "s2", "s3", "outsider"):
        [note] = mine(name)
        assert (note["title"], note["body"]) == expected, name
        assert (note["object"], note["source"], note["read"]) == ("opportunity", "workflow:newDeal", False)
    # nobody else: not the admin (not a recipient), not the inactive member of the role
    assert [n for n in world.admin.data(NOTIFICATIONS)["notifications"] if n["recordId"] == record["id"]] == []
    assert world.runs("newDeal")[0]["status"] == "SUCCEEDED"

    # each user reads and marks only their own
    unread_before = world["s1"].data(UNREAD)["unreadNotifications"]
    assert unread_before >= 1
    boss_note = mine("boss")[0]["id"]
    assert world["s1"].data(MARK_READ, {"ids": [boss_note]})["markNotificationsRead"] == 0
    assert mine("boss", unread=True) != []
    s1_note = mine("s1")[0]["id"]
    assert world["s1"].data(MARK_READ, {"ids": [s1_note]})["markNotificationsRead"] == 1
    assert world["s1"].data(MARK_READ, {"ids": [s1_note]})["markNotificationsRead"] == 0
    assert world["s1"].data(UNREAD)["unreadNotifications"] == unread_before - 1
    assert mine("s1", unread=True) == [] and mine("s1")[0]["read"] is True
    assert mine("s2", unread=True) != []
    # marking all
    world["s2"].data(MARK_READ)
    assert world["s2"].data(UNREAD)["unreadNotifications"] == 0
    assert world["boss"].data(UNREAD)["unreadNotifications"] >= 1


def test_assign_round_robins_over_the_active_users_of_a_role(world: World) -> None:
    world.workflow(object="opportunity", name="roundRobin", trigger={"event": "CREATED"},
                   actions=[{"type": "ASSIGN", "role": "sales"}])
    members = sorted(world.users[n] for n in ("s1", "s2", "s3"))  # s4 is inactive
    records = [world.opp(name=f"rr{n}") for n in range(4)]
    owners = [world.get(r["id"])["owner"]["id"] for r in records]
    assert owners[:3] == members and len(set(owners[:3])) == 3
    assert owners[3] == members[0]
    assert world.users["s4"] not in owners
    owner_change = _changes(world.history("opportunity", records[0]["id"]), "workflow")
    assert owner_change["owner"][1] == world.admin_id
    # the new owner sees the record assigned to them (private sharing)
    assert world[_name_of(world, owners[1])].data(GET_OPP, {"id": records[1]["id"]})["opportunity"]["id"] == records[1]["id"]

    world.workflow(object="opportunity", name="pickUsers", trigger={"event": "UPDATED", "fields": ["stage"]},
                   actions=[{"type": "ASSIGN", "users": [world.users["boss"]]}])
    world.admin.data(UPDATE_OPP, {"id": records[0]["id"], "d": {"stage": "proposal"}})
    assert world.get(records[0]["id"])["owner"]["id"] == world.users["boss"]


def _name_of(world: World, user_id: str) -> str:
    return next(name for name, found in world.users.items() if found == user_id)


# --- inactive, versions, recursion --------------------------------------------------------------
def test_inactive_workflows_do_not_run_and_edits_are_versions(world: World) -> None:
    created = world.workflow(object="opportunity", name="versioned", active=False, trigger={"event": "CREATED"},
                             actions=[{"type": "UPDATE_FIELDS", "values": {"nextStep": "v1"}}])
    assert (created["version"], created["active"], created["origin"]) == (1, False, "custom")
    off = world.opp()
    assert world.get(off["id"])["nextStep"] is None and world.runs("versioned") == []

    enabled = world.admin.data(UPDATE_WORKFLOW, {"i": {"name": "versioned", "active": True}})["updateWorkflow"]
    assert (enabled["version"], enabled["active"]) == (2, True)
    first = world.opp()
    assert world.get(first["id"])["nextStep"] == "v1"

    changed = world.admin.data(UPDATE_WORKFLOW, {"i": {"name": "versioned", "actions": [
        {"type": "UPDATE_FIELDS", "values": {"nextStep": "v3"}}]}})["updateWorkflow"]
    assert changed["version"] == 3 and changed["actions"][0]["values"] == {"nextStep": "v3"}
    assert changed["trigger"] == {"event": "CREATED"}  # keys not given are kept
    # saving the same definition again is no new version
    same = world.admin.data(UPDATE_WORKFLOW, {"i": {"name": "versioned", "active": True}})["updateWorkflow"]
    assert same["version"] == 3
    second = world.opp()
    assert world.get(second["id"])["nextStep"] == "v3"
    assert [(r["recordId"], r["version"]) for r in world.runs("versioned")] == [(first["id"], 2), (second["id"], 3)]
    listed = world.admin.data(ONE_WORKFLOW, {"n": "versioned"})["workflow"]
    assert listed["version"] == 3 and sorted(r["version"] for r in listed["runs"]) == [2, 3]

    world.admin.data(UPDATE_WORKFLOW, {"i": {"name": "versioned", "active": False}})
    third = world.opp()
    assert world.get(third["id"])["nextStep"] is None
    assert len(world.runs("versioned")) == 2


def test_a_workflow_updating_its_own_trigger_stops_at_the_depth_limit(world: World) -> None:
    world.workflow(object="opportunity", name="selfLoop", trigger={"event": "UPDATED"},
                   actions=[{"type": "UPDATE_FIELDS", "formulas": {"amount": "amount + 1"}}])
    record = world.opp(world["rep"], amount="100")
    world["rep"].data(UPDATE_OPP, {"id": record["id"], "d": {"amount": "200"}})
    # the user's write committed, and the workflow ran MAX_DEPTH times before the guard stopped it
    assert float(world.get(record["id"])["amount"]) == 200 + MAX_DEPTH
    runs = world.runs("selfLoop", record["id"])
    assert sorted(r["depth"] for r in runs if r["status"] == "SUCCEEDED") == list(range(MAX_DEPTH))
    [skipped] = [r for r in runs if r["status"] == "SKIPPED"]
    assert skipped["depth"] == MAX_DEPTH and skipped["triggeredBy"] == world.users["rep"]
    assert f"at most {MAX_DEPTH} deep" in skipped["error"] and "TESSERA_WORKFLOW_MAX_DEPTH" in skipped["error"]
    amounts = [row["newValue"] for row in world.history("opportunity", record["id"])
               if row["field"] == "amount" and row["channel"] == "workflow"]
    assert len(amounts) == MAX_DEPTH


def test_workflows_creating_records_that_trigger_them_again_stop_at_the_depth_limit(world: World) -> None:
    """The same guard on the background path: each run's CREATE_RECORD queues the next run, one level deeper."""
    world.workflow(object="activity", name="breeder", trigger={"event": "CREATED"},
                   actions=[{"type": "CREATE_RECORD", "object": "activity",
                             "formulas": {"subject": "'child of ' & subject"}}])
    world.admin.data("mutation($d: ActivityCreateInput!) { createActivity(data: $d) { id } }",
                     {"d": {"subject": "seed"}})
    subjects = [e["node"]["subject"] for e in world.admin.data(
        '{ activities(filter: {subject: {contains: "seed"}}, first: 50) { edges { node { subject } } } }'
    )["activities"]["edges"]]
    assert sorted(subjects, key=len) == ["seed"] + ["child of " * n + "seed" for n in range(1, MAX_DEPTH + 1)]
    runs = world.runs("breeder")
    assert sorted((r["status"], r["depth"]) for r in runs) == [
        *[("SKIPPED", MAX_DEPTH)], *[("SUCCEEDED", d) for d in range(MAX_DEPTH)]]


# --- failures, the run log and jobs ---------------------------------------------------------------
def _job(world: World, job_id: str) -> dict[str, Any]:
    [row] = [r for r in world.outbox_rows() if r["id"] == job_id]
    return row


def _next_attempt(world: World, job_id: str) -> dict[str, Any]:
    """Wait for the job's retry to be due (the backoff), run due jobs, and return the job's row."""
    before = _job(world, job_id)
    assert before["status"] == "PENDING", before
    deadline = time.monotonic() + 20 * RETRY_BASE
    while time.monotonic() < deadline:
        time.sleep(RETRY_BASE / 4)
        outbox_service.run_due(world.rt)
        row = _job(world, job_id)
        if row["attempts"] != before["attempts"]:
            return row
    raise AssertionError(f"job {job_id} was not retried")


def test_a_failing_action_is_retried_then_failed_and_can_be_requeued(world: World) -> None:
    world.admin.data(CREATE_RULE, {"i": {"object": "contact", "name": "noBlocked", "expression": "lastName = 'Blocked'",
                                         "message": "Blocked is not a name", "field": "lastName"}})
    try:
        world.workflow(object="opportunity", name="makeContact", trigger={"event": "CREATED"},
                       actions=[{"type": "NOTIFY", "recipients": ["owner"], "title": "contact for {{ name }}"},
                                {"type": "CREATE_RECORD", "object": "contact", "formulas": {"lastName": "name"}}])
        ok = world.opp(name="Fine")
        assert world.runs("makeContact", ok["id"])[0]["status"] == "SUCCEEDED"

        record = world.opp(world["rep"], name="Blocked")
        # the record itself is saved; its workflow job failed once and waits for a retry
        assert world.get(record["id"])["name"] == "Blocked"
        job = next(j for j in world.admin.data(JOBS)["jobs"] if record["id"] in j["key"])
        assert (job["kind"], job["status"], job["attempts"], job["maxAttempts"]) == ("workflow.run", "PENDING", 1, 3)
        assert "Blocked is not a name" in job["lastError"]
        assert world.runs("makeContact", record["id"]) == []  # not final yet
        assert _next_attempt(world, job["id"])["status"] == "PENDING"
        assert _next_attempt(world, job["id"])["status"] == "FAILED"
        failed = next(j for j in world.admin.data(JOBS, {"s": "FAILED"})["jobs"] if j["id"] == job["id"])
        assert failed["attempts"] == 3 and "Blocked is not a name" in failed["lastError"]
        [run] = world.runs("makeContact", record["id"])
        assert (run["status"], run["trigger"], run["triggeredBy"]) == ("FAILED", "CREATED", world.users["rep"])
        assert "Blocked is not a name" in run["error"] and run["durationMs"] >= 0
        # each attempt rolled back all of its effects: no contact, no notification
        assert world.admin.data(CONTACTS, {"f": {"lastName": {"eq": "Blocked"}}})["contacts"]["totalCount"] == 0
        assert [n for n in world["rep"].data(NOTIFICATIONS)["notifications"] if n["recordId"] == record["id"]] == []

        # fix the cause, requeue: the run's work is done once
        world.admin.data(UPDATE_RULE, {"i": {"object": "contact", "name": "noBlocked", "active": False}})
        assert world.admin.data(REQUEUE, {"ids": [job["id"]]})["requeueJobs"] == 1
        assert world.admin.data(REQUEUE, {"ids": [job["id"]]})["requeueJobs"] == 0  # no longer FAILED
        done = next(j for j in world.admin.data(JOBS)["jobs"] if j["id"] == job["id"])
        assert (done["status"], done["attempts"], done["lastError"]) == ("DONE", 1, None)
        assert world.admin.data(CONTACTS, {"f": {"lastName": {"eq": "Blocked"}}})["contacts"]["totalCount"] == 1
        assert len([n for n in world["rep"].data(NOTIFICATIONS)["notifications"] if n["recordId"] == record["id"]]) == 1
    finally:
        world.admin.data(UPDATE_RULE, {"i": {"object": "contact", "name": "noBlocked", "active": False}})


def test_the_run_log_shows_the_outcome_of_a_requeued_run(world: World) -> None:
    world.workflow(object="opportunity", name="flaky", trigger={"event": "CREATED"},
                   actions=[{"type": "CREATE_RECORD", "object": "contact", "formulas": {"lastName": "nextStep"}}])
    record = world.opp(name="no next step")  # nextStep is empty: contact.lastName is required
    job = next(j for j in world.admin.data(JOBS)["jobs"] if record["id"] in j["key"])
    _next_attempt(world, job["id"])
    assert _next_attempt(world, job["id"])["status"] == "FAILED"
    assert [r["status"] for r in world.runs("flaky", record["id"])] == ["FAILED"]
    world.admin.data(UPDATE_OPP, {"id": record["id"], "d": {"nextStep": "Fixed"}})
    failed = [j["id"] for j in world.admin.data(JOBS, {"s": "FAILED"})["jobs"] if record["id"] in j["key"]]
    assert world.admin.data(REQUEUE, {"ids": failed})["requeueJobs"] == 1
    assert world.admin.data(CONTACTS, {"f": {"lastName": {"eq": "Fixed"}}})["contacts"]["totalCount"] == 1
    # the run did succeed in the end; the log should say so
    assert [r["status"] for r in world.runs("flaky", record["id"])] == ["SUCCEEDED"]


@pytest.mark.parametrize("trigger", [
    {"event": "UPDATED", "fields": ["amount"], "conditionBecomesTrue": True},
    {"event": "DATE_RELATIVE", "dateField": "closeDate", "offsetDays": -3},
])
def test_graphql_takes_every_trigger_key(world: World, trigger: dict[str, Any]) -> None:
    created = world.workflow(object="opportunity", name="everyKey", condition="amount > 10", trigger=trigger,
                             actions=[{"type": "NOTIFY", "recipients": ["owner"], "title": "{{ name }}"}])
    assert {k: v for k, v in created["trigger"].items() if k in trigger} == trigger


def test_date_time_fields_of_the_automation_api_are_iso_strings(world: World) -> None:
    world.workflow(object="opportunity", name="stamp", trigger={"event": "CREATED"},
                   actions=[{"type": "NOTIFY", "recipients": ["owner"], "title": "new {{ name }}"}])
    world.opp()
    broken = []
    for query in ("{ workflowRuns { startedAt finishedAt } }", "{ jobs { availableAt createdAt } }",
                  "{ notifications { createdAt } }"):
        result = world.admin.execute(query)
        if world.admin.last_status != 200 or not result or result.get("errors"):
            broken.append(query)
            continue
        rows = next(iter(result["data"].values()))
        assert rows and all(isinstance(v, str) and v.endswith("Z") for row in rows for v in row.values()), rows
    assert broken == []


# --- PLUGIN actions -----------------------------------------------------------------------------
def _stamp_plugin() -> ModuleType:
    """A plugin with one workflow action: it writes its ``label`` param and who triggered the run."""
    module = ModuleType("tessera_test_stamp_plugin")

    def run(context: Any) -> None:
        text = f"{context.params['label']} by {context.triggered_by} for {context.record['name']}"
        context.update(context.object, context.record_id, {"nextStep": text})

    module.register_plugin = hookimpl(lambda: PluginInfo(name="stamp", version="1.0.0", description="Stamps"))
    module.register_workflow_actions = hookimpl(lambda: [
        WorkflowActionSpec(key="stamp.write", description="Write a stamp into nextStep", run=run)])
    return module


def test_a_plugin_action_runs_with_its_params(runtime: Runtime) -> None:
    rt = Runtime(runtime.config, plugins=PluginHost([("stamp", _stamp_plugin())]))
    rt.transport = EmbeddedTransport(rt)
    try:
        with tenant_scope(rt) as created:
            admin = GraphQLClient(make_app(rt), created.token)
            definition = {"object": "opportunity", "name": "stamped", "trigger": {"event": "CREATED"},
                          "actions": [{"type": "PLUGIN", "action": "stamp.write", "params": {"label": "seen"}}]}
            # not installed yet: the action is unknown to the tenant
            error = admin.error(CREATE_WORKFLOW, {"i": definition})
            assert error["extensions"]["code"] == "VALIDATION_ERROR"
            assert error["message"].startswith("actions.0.action: no workflow action 'stamp.write'"), error
            plugin_service.install_plugin(rt, Actor(rt.tenant(created.tenant.slug), created.admin_user_id), "stamp")
            admin.data(CREATE_WORKFLOW, {"i": definition})
            record = admin.data(CREATE_OPP, {"d": {"name": "Plugged", "closeDate": "2026-01-01"}})["createOpportunity"]
            got = admin.data(GET_OPP, {"id": record["id"]})["opportunity"]
            assert got["nextStep"] == f"seen by {created.admin_user_id} for Plugged"
            history = admin.data(HISTORY, {"o": "opportunity", "id": record["id"]})["recordHistory"]
            assert _changes(history, "workflow")["nextStep"][1] == created.admin_user_id
            [run] = admin.data(RUNS, {"w": "stamped"})["workflowRuns"]
            assert run["status"] == "SUCCEEDED"
    finally:
        rt.close()


# --- refusals -------------------------------------------------------------------------------------
BASE = {"object": "opportunity", "name": "candidate", "trigger": {"event": "CREATED"},
        "actions": [{"type": "UPDATE_FIELDS", "values": {"nextStep": "x"}}]}
HOOK = {"type": "WEBHOOK", "url": "http://127.0.0.1:9/hook", "secret": "0123456789abcdef"}


@pytest.mark.parametrize(("change", "field", "fragment"), [
    ({"actions": [{"type": "UPDATE_FIELDS", "formulas": {"nextStep": "amount +"}}]}, "actions",
     "actions.0.formulas.nextStep: "),
    ({"actions": [{"type": "UPDATE_FIELDS", "formulas": {"amount": "name"}}]}, "actions",
     "actions.0.formulas.amount: "),
    ({"actions": [{"type": "UPDATE_FIELDS", "values": {"nope": 1}}]}, "actions",
     "actions.0.values: opportunity has no field 'nope'"),
    ({"actions": [{"type": "UPDATE_FIELDS", "values": {"opportunityNumber": "X"}}]}, "actions",
     "actions.0.values: opportunity.opportunityNumber cannot be written"),
    ({"actions": [{"type": "UPDATE_FIELDS", "values": {"nextStep": "x"}, "colour": "red"}]}, "actions",
     "actions.0: unknown key 'colour'"),
    ({"actions": [{"type": "SEND_FAX"}]}, "actions", "actions.0.type: 'SEND_FAX' is not one of"),
    ({"actions": []}, "actions", "actions: give at least one action"),
    ({"trigger": {"event": "SCHEDULED", "cron": "every day"}}, "trigger",
     "trigger.cron: 'every day' is not a cron expression"),
    ({"trigger": {"event": "SCHEDULED", "cron": "0 0 * * * *"}}, "trigger", "trigger.cron: "),
    ({"trigger": {"event": "CREATED", "cron": "0 * * * *"}}, "trigger", "trigger: unknown key 'cron'"),
    ({"trigger": {"event": "UPDATED", "fields": ["stage", "nope"]}}, "trigger",
     "trigger.fields: opportunity has no field 'nope'"),
    ({"trigger": {"event": "DATE_RELATIVE"}}, "trigger", "trigger.dateField: opportunity has no date field 'None'"),
    ({"condition": "amount >"}, "condition", "condition: "),
    ({"condition": "ISCHANGED(amount)"}, "condition", "condition: ISCHANGED and PRIORVALUE need an UPDATED trigger"),
    ({"actions": [{**HOOK, "secret": "short"}]}, "actions", "actions.0.secret: give a shared secret of at least 16"),
    ({"actions": [{**HOOK, "url": "ftp://example.com/x"}]}, "actions", "actions.0.url: 'ftp://example.com/x' is not"),
    ({"actions": [{**HOOK, "timeoutSeconds": 0}]}, "actions", "actions.0.timeoutSeconds: "),
    ({"actions": [{**HOOK, "fields": ["nope"]}]}, "actions", "actions.0.fields: opportunity has no field 'nope'"),
    ({"actions": [{"type": "ASSIGN", "role": "nobody"}]}, "actions", "actions.0.role: no role 'nobody'"),
    ({"actions": [{"type": "NOTIFY", "recipients": ["role:nobody"], "title": "t"}]}, "actions",
     "actions.0.recipients: no role 'nobody'"),
    ({"actions": [{"type": "NOTIFY", "recipients": ["everyone"], "title": "t"}]}, "actions",
     "actions.0.recipients: 'everyone' is not"),
    ({"actions": [{"type": "NOTIFY", "recipients": ["owner"], "title": "Hi {{ nope }}"}]}, "actions",
     "actions.0.title: in {{nope}}: "),
    ({"actions": [{"type": "CREATE_RECORD", "object": "contact"}]}, "actions",
     "actions.0: contact.lastName is required"),
    ({"actions": [{"type": "CREATE_RECORD", "object": "activity", "link": "account",
                   "values": {"subject": "s"}}]}, "actions",
     "actions.0.link: activity has no lookup 'account' to opportunity"),
    ({"actions": [{"type": "UPDATE_RELATED", "children": "contact.account", "values": {"title": "x"}}]}, "actions",
     "actions.0.children: 'contact.account' is not a lookup to opportunity"),
    ({"trigger": {"event": "DELETED"}}, "actions", "actions.0: a deleted record cannot be updated"),
    ({"actions": [{"type": "PLUGIN", "action": "nobody.nothing"}]}, "actions",
     "actions.0.action: no workflow action 'nobody.nothing'"),
    ({"name": "Bad Name"}, "name", "name: "),
    ({"object": "spaceship"}, "object", "object: no object 'spaceship'"),
])
def test_bad_definitions_are_refused_naming_the_input(
    world: World, change: dict[str, Any], field: str, fragment: str
) -> None:
    error = world.admin.error(CREATE_WORKFLOW, {"i": {**BASE, **change}})
    assert error["extensions"]["code"] == "VALIDATION_ERROR", error
    assert error["extensions"].get("field") == field, error
    assert error["message"].startswith(fragment), error["message"]
    assert world.admin.data(WORKFLOWS)["workflows"] == []


def test_names_are_unique_and_updates_are_checked_like_creates(world: World) -> None:
    world.workflow(**BASE)
    error = world.admin.error(CREATE_WORKFLOW, {"i": BASE})
    assert error["extensions"]["code"] == "VALIDATION_ERROR" and "already exists" in error["message"]
    error = world.admin.error(UPDATE_WORKFLOW, {"i": {"name": "candidate", "trigger": {"event": "UPDATED",
                                                                                       "fields": ["nope"]}}})
    assert error["message"].startswith("trigger.fields: opportunity has no field 'nope'")
    assert world.admin.data(ONE_WORKFLOW, {"n": "candidate"})["workflow"]["version"] == 1
    error = world.admin.error(UPDATE_WORKFLOW, {"i": {"name": "missing", "active": False}})
    assert error["extensions"]["code"] == "NOT_FOUND"


def test_only_administrators_manage_workflows_runs_and_jobs(world: World) -> None:
    world.workflow(**BASE)
    outsider = world["outsider"]
    for query, variables in ((CREATE_WORKFLOW, {"i": {**BASE, "name": "mine"}}),
                             (UPDATE_WORKFLOW, {"i": {"name": "candidate", "active": False}}),
                             (DELETE_WORKFLOW, {"n": "candidate"}),
                             (WORKFLOWS, None), (ONE_WORKFLOW, {"n": "candidate"}), (RUNS, {}),
                             (JOBS, {}), (REQUEUE, {}), ("{ webhookDeliveries { id } }", None)):
        error = outsider.error(query, variables)
        assert error["extensions"]["code"] == "FORBIDDEN", (query, error)
    [listed] = world.admin.data(WORKFLOWS)["workflows"]
    assert (listed["name"], listed["version"], listed["active"]) == ("candidate", 1, True)
    # everyone may read their own notifications
    assert isinstance(outsider.data(UNREAD)["unreadNotifications"], int)


def test_webhook_secrets_are_never_shown(world: World) -> None:
    secret = "do-not-show-" + uuid.uuid4().hex
    created = world.workflow(object="opportunity", name="hooked", trigger={"event": "CREATED"},
                             actions=[{**HOOK, "secret": secret, "timeoutSeconds": 1, "maxAttempts": 1}])
    listed = world.admin.data(WORKFLOWS)["workflows"]
    one = world.admin.data(ONE_WORKFLOW, {"n": "hooked"})["workflow"]
    for shown in (created, listed, one):
        assert secret not in json.dumps(shown)
    action = one["actions"][0]
    assert action["url"] == HOOK["url"] and action["secret"] != secret
    # giving the masked secret back keeps the stored one (the definition is unchanged: no new version)
    kept = world.admin.data(UPDATE_WORKFLOW, {"i": {"name": "hooked", "actions": one["actions"]}})["updateWorkflow"]
    assert kept["version"] == 1
    world.admin.data(UPDATE_WORKFLOW, {"i": {"name": "hooked", "active": False}})
