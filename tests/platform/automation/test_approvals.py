"""Approval processes through the GraphQL API: defining them (and the refusals of bad definitions),
submitting records, a two-level manager chain, role approvers, decisions by administrators, recall,
the record lock while pending, outcome field updates with their field history, notifications, and
the history queries.

The module's tenant (users with the standard user permission set)::

    ceo ← vp ← mgr ← rep        (manager chain: rep's manager is mgr, whose manager is vp...)
    loner                        (no manager)
    fin1, fin2                   (role finance)

Processes on opportunity (tried in name order when a submission names none):

    bigDeal     MANAGER_CHAIN levels 2, entry amount > 1000, locks; onSubmit/onApprove/onReject set nextStep
    finance     ROLE finance, no entry condition, locks; onReject sets forecastCategory omitted
    openReview  USERS [loner], entry amount < 100, does not lock (after finance: used only when named)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa

from tessera.services.runtime import Runtime
from tessera.storage.system_tables import notifications
from tessera.testing import GraphQLClient, tenant_scope

PROCESS = ("object name description active entryCondition approvers { type role levels users } "
           "onSubmit onApprove onReject lockRecord origin")
CREATE_PROCESS = f"mutation($input: CreateApprovalProcessInput!) {{ createApprovalProcess(input: $input) {{ {PROCESS} }} }}"
UPDATE_PROCESS = f"mutation($input: UpdateApprovalProcessInput!) {{ updateApprovalProcess(input: $input) {{ {PROCESS} }} }}"
DELETE_PROCESS = "mutation($o: String!, $n: String!) { deleteApprovalProcess(object: $o, name: $n) { name } }"
PROCESSES = f"query($object: String!) {{ approvalProcesses(object: $object) {{ {PROCESS} }} }}"
REQUEST = ("id process object recordId status step submittedBy submittedAt completedAt comment currentApprovers "
           "steps { step approverId decidedBy decision comment createdAt decidedAt }")
SUBMIT = f"""
mutation($object: String!, $id: ID!, $process: String, $comment: String) {{
  submitForApproval(object: $object, recordId: $id, process: $process, comment: $comment) {{ {REQUEST} }} }}
"""
APPROVE = f"mutation($id: ID!, $c: String) {{ approveRequest(id: $id, comment: $c) {{ {REQUEST} }} }}"
REJECT = f"mutation($id: ID!, $c: String) {{ rejectRequest(id: $id, comment: $c) {{ {REQUEST} }} }}"
RECALL = f"mutation($id: ID!) {{ recallApprovalRequest(id: $id) {{ {REQUEST} }} }}"
PENDING = f"{{ pendingApprovals {{ {REQUEST} }} }}"
HISTORY = f"""
query($object: String, $id: ID, $status: ApprovalStatus) {{
  approvalRequests(object: $object, recordId: $id, status: $status) {{ {REQUEST} }} }}
"""
CREATE_FIELD = "mutation($input: CreateFieldInput!) { createField(input: $input) { name } }"
DELETE_FIELD = "mutation($input: DeleteFieldInput!) { deleteField(input: $input) { name } }"
CREATE_ROLE = "mutation($input: RoleInput!) { createRole(input: $input) { name } }"
CREATE_USER = "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }"
CREATE_TOKEN = "mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token } }"
CREATE_OPP = "mutation($data: OpportunityCreateInput!) { createOpportunity(data: $data) { id } }"
UPDATE_OPP = """
mutation($id: ID!, $data: OpportunityUpdateInput!) { updateOpportunity(id: $id, data: $data) { id nextStep } }
"""
DELETE_OPP = "mutation($id: ID!) { deleteOpportunity(id: $id) { id } }"
GET_OPP = "query($id: ID!) { opportunity(id: $id) { nextStep forecastCategory } }"
RECORD_HISTORY = """
query($id: ID!) { recordHistory(object: "opportunity", id: $id) { action field newValue user { id } channel } }
"""

BIG_DEAL = {
    "object": "opportunity", "name": "bigDeal", "description": "Deals over 1000 need two managers",
    "entryCondition": "amount > 1000", "approvers": {"type": "MANAGER_CHAIN", "levels": 2},
    "onSubmit": {"nextStep": "awaiting approval"}, "onApprove": {"nextStep": "approved", "forecastCategory": "commit"},
    "onReject": {"nextStep": "rejected"},
}
FINANCE = {"object": "opportunity", "name": "finance", "approvers": {"type": "ROLE", "role": "finance"},
           "onReject": {"forecastCategory": "omitted"}}


@dataclass
class World:
    admin: GraphQLClient
    runtime: Runtime
    tenant_id: str
    users: dict[str, str] = field(default_factory=dict)
    clients: dict[str, GraphQLClient] = field(default_factory=dict)

    def __getitem__(self, name: str) -> GraphQLClient:
        return self.clients[name]

    def notified(self, name: str, record_id: str) -> list[str]:
        """Titles of the notifications ``name`` got about ``record_id``."""
        with self.runtime.db.system.connect() as conn:
            return list(conn.execute(sa.select(notifications.c.title).where(
                notifications.c.user_id == self.users[name], notifications.c.record_id == record_id,
                notifications.c.source == "approval").order_by(notifications.c.created_at)).scalars())


@pytest.fixture(scope="module")
def world(runtime: Runtime, app: Any) -> Iterator[World]:
    with tenant_scope(runtime) as created:
        w = World(GraphQLClient(app, created.token), runtime, created.tenant.id)
        w.admin.data(CREATE_ROLE, {"input": {"name": "finance"}})
        for name, manager, role in (("ceo", None, None), ("vp", "ceo", None), ("mgr", "vp", None),
                                    ("rep", "mgr", None), ("loner", None, None), ("fin1", None, "finance"),
                                    ("fin2", None, "finance")):
            data = {"email": f"{name}@example.com", "name": name}
            if manager:
                data["manager"] = w.users[manager]
            if role:
                data["role"] = role
            user_id = w.admin.data(CREATE_USER, {"input": data})["createUser"]["id"]
            token = w.admin.data(CREATE_TOKEN, {"input": {"name": name, "user": user_id}})["createApiToken"]["token"]
            w.users[name], w.clients[name] = user_id, GraphQLClient(app, token)
        w.admin.data(CREATE_PROCESS, {"input": BIG_DEAL})
        w.admin.data(CREATE_PROCESS, {"input": FINANCE})
        w.admin.data(CREATE_PROCESS, {"input": {
            "object": "opportunity", "name": "openReview", "entryCondition": "amount < 100", "lockRecord": False,
            "approvers": {"type": "USERS", "users": [w.users["loner"]]}}})
        yield w


def _opp(client: GraphQLClient, amount: str = "5000") -> str:
    data = {"name": f"deal-{uuid.uuid4().hex[:8]}", "closeDate": "2026-06-30", "amount": amount}
    return client.data(CREATE_OPP, {"data": data})["createOpportunity"]["id"]


def _submit(client: GraphQLClient, record_id: str, **extra: Any) -> dict[str, Any]:
    return client.data(SUBMIT, {"object": "opportunity", "id": record_id, **extra})["submitForApproval"]


# --- definitions -------------------------------------------------------------------------------
def test_processes_are_listed_as_defined(world: World) -> None:
    listed = {p["name"]: p for p in world["rep"].data(PROCESSES, {"object": "opportunity"})["approvalProcesses"]}
    assert sorted(listed) == ["bigDeal", "finance", "openReview"]
    big = listed["bigDeal"]
    assert big["approvers"] == {"type": "MANAGER_CHAIN", "role": None, "levels": 2, "users": None}
    assert big["onApprove"] == {"nextStep": "approved", "forecastCategory": "commit"}
    assert (big["entryCondition"], big["lockRecord"], big["active"]) == ("amount > 1000", True, True)
    assert listed["openReview"]["approvers"]["users"] == [world.users["loner"]]
    on_object = world["rep"].data('{ object(name: "opportunity") { approvalProcesses { name } } }')["object"]
    assert [p["name"] for p in on_object["approvalProcesses"]] == ["bigDeal", "finance", "openReview"]


@pytest.mark.parametrize(("change", "field", "fragment"), [
    ({"entryCondition": "amount >"}, "entryCondition", "entryCondition: "),
    ({"entryCondition": "amount + 1"}, "entryCondition", "entryCondition: "),
    ({"onApprove": {"nope": 1}}, "onApprove", "onApprove.nope: opportunity has no field 'nope'"),
    ({"onReject": {"stage": "lost"}}, "onReject", "onReject.stage: "),
    ({"onSubmit": {"opportunityNumber": "X"}}, "onSubmit", "onSubmit.opportunityNumber: opportunity.opportunityNumber "
                                                           "cannot be written"),
    ({"approvers": {"type": "ROLE", "role": "nobody"}}, "approvers", "approvers.role: no role 'nobody'"),
    ({"approvers": {"type": "ROLE"}}, "approvers", "approvers.role: ROLE approvers need a role"),
    ({"approvers": {"type": "USERS", "users": [str(uuid.uuid4())]}}, "approvers", "approvers.users: no active user"),
    ({"approvers": {"type": "MANAGER_CHAIN", "role": "finance"}}, "approvers", "approvers.role: not used by"),
    ({"approvers": {"type": "MANAGER_CHAIN", "levels": 11}}, "approvers", "approvers: "),
    ({"name": "Bad Name"}, "name", "name: approval process name 'Bad Name' must be camelCase"),
])
def test_bad_definitions_are_refused_naming_the_input(
    world: World, change: dict[str, Any], field: str, fragment: str
) -> None:
    data = {"object": "opportunity", "name": "candidate", "approvers": {"type": "MANAGER_CHAIN"}, **change}
    error = world.admin.error(CREATE_PROCESS, {"input": data})
    assert error["extensions"]["code"] == "VALIDATION_ERROR", error
    assert error["extensions"]["field"] == field
    assert error["message"].startswith(fragment), error["message"]


def test_only_administrators_define_processes_names_are_unique_and_updates_merge(world: World) -> None:
    assert world["mgr"].error(CREATE_PROCESS, {"input": {**FINANCE, "name": "mine"}})["extensions"]["code"] == "FORBIDDEN"
    assert world.admin.error(CREATE_PROCESS, {"input": FINANCE})["extensions"]["code"] == "CONFLICT"
    created = world.admin.data(CREATE_PROCESS, {"input": {**FINANCE, "name": "spare"}})["createApprovalProcess"]
    assert (created["lockRecord"], created["onSubmit"]) == (True, {})
    updated = world.admin.data(UPDATE_PROCESS, {"input": {"object": "opportunity", "name": "spare", "active": False,
                                                          "onApprove": {"nextStep": "ok"}}})["updateApprovalProcess"]
    assert (updated["active"], updated["onApprove"], updated["approvers"]["role"]) == (False, {"nextStep": "ok"}, "finance")
    world.admin.data(DELETE_PROCESS, {"o": "opportunity", "n": "spare"})
    assert "spare" not in [p["name"] for p in world.admin.data(PROCESSES, {"object": "opportunity"})["approvalProcesses"]]


# --- a two-level manager chain -----------------------------------------------------------------
def test_a_manager_chain_approves_level_by_level(world: World) -> None:
    record = _opp(world["rep"])
    # when rep submits (bigDeal: the first active process whose entry condition holds)
    request = _submit(world["rep"], record, comment="please")
    assert (request["process"], request["status"], request["step"]) == ("bigDeal", "PENDING", 1)
    assert request["currentApprovers"] == [world.users["mgr"]]
    assert request["submittedBy"] == world.users["rep"]
    # then onSubmit applied and the first manager is asked
    assert world["rep"].data(GET_OPP, {"id": record})["opportunity"]["nextStep"] == "awaiting approval"
    assert len(world.notified("mgr", record)) == 1
    assert world.notified("mgr", record)[0].startswith("Approval requested: Opportunity deal-")
    assert world.notified("vp", record) == []
    assert [r["id"] for r in world["mgr"].data(PENDING)["pendingApprovals"]] == [request["id"]]
    assert world["vp"].data(PENDING)["pendingApprovals"] == []
    # the second level may not decide yet, nor may the submitter
    for who in ("vp", "rep"):
        error = world[who].error(APPROVE, {"id": request["id"]})
        assert error["extensions"]["code"] == "FORBIDDEN"
    step2 = world["mgr"].data(APPROVE, {"id": request["id"], "c": "fine by me"})["approveRequest"]
    assert (step2["status"], step2["step"], step2["currentApprovers"]) == ("PENDING", 2, [world.users["vp"]])
    assert len(world.notified("vp", record)) == 1
    done = world["vp"].data(APPROVE, {"id": request["id"], "c": "go"})["approveRequest"]
    assert done["status"] == "APPROVED" and done["completedAt"] is not None
    assert [(s["step"], s["approverId"], s["decidedBy"], s["decision"], s["comment"]) for s in done["steps"]] == [
        (1, world.users["mgr"], world.users["mgr"], "APPROVED", "fine by me"),
        (2, world.users["vp"], world.users["vp"], "APPROVED", "go"),
    ]
    # then onApprove applied, through the approval channel as the last approver
    assert world["rep"].data(GET_OPP, {"id": record})["opportunity"] == {
        "nextStep": "approved", "forecastCategory": "commit"}
    history = world.admin.data(RECORD_HISTORY, {"id": record})["recordHistory"]
    approved = [h for h in history if h["field"] == "nextStep" and h["newValue"] == "approved"]
    assert [(h["channel"], h["user"]["id"]) for h in approved] == [("approval", world.users["vp"])]
    submitted = [h for h in history if h["field"] == "nextStep" and h["newValue"] == "awaiting approval"]
    assert [(h["channel"], h["user"]["id"]) for h in submitted] == [("approval", world.users["rep"])]
    assert world.notified("rep", record) == [f"Approved: {world.notified('mgr', record)[0].split(': ', 1)[1]} (bigDeal)"]
    # and deciding again is refused
    assert world["vp"].error(APPROVE, {"id": request["id"]})["extensions"]["code"] == "CONFLICT"


def test_a_user_without_a_manager_cannot_submit_to_a_manager_chain(world: World) -> None:
    record = _opp(world["loner"])
    error = world["loner"].error(SUBMIT, {"object": "opportunity", "id": record, "process": "bigDeal"})
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("VALIDATION_ERROR", "process")
    assert "you have no active manager" in error["message"]


# --- locking -----------------------------------------------------------------------------------
def test_a_pending_record_is_locked_except_for_approvers_and_administrators(world: World) -> None:
    record = _opp(world["rep"])
    request = _submit(world["rep"], record)
    for who in ("rep", "vp"):
        error = world[who].error(UPDATE_OPP, {"id": record, "data": {"nextStep": "sneaky"}})
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert "locked pending approval" in error["message"]
        assert error["extensions"]["approvalRequest"] == request["id"]
    error = world["rep"].error(DELETE_OPP, {"id": record})
    assert (error["extensions"]["code"], "locked pending approval" in error["message"]) == ("FORBIDDEN", True)
    # the current approver and administrators may still change it
    assert world["mgr"].data(UPDATE_OPP, {"id": record, "data": {"nextStep": "by mgr"}})["updateOpportunity"]
    assert world.admin.data(UPDATE_OPP, {"id": record, "data": {"nextStep": "by admin"}})["updateOpportunity"]
    # a second submission is refused while one is pending
    error = world["rep"].error(SUBMIT, {"object": "opportunity", "id": record})
    assert error["extensions"]["code"] == "CONFLICT"
    # rejection unlocks it and applies onReject
    rejected = world["mgr"].data(REJECT, {"id": request["id"], "c": "too big"})["rejectRequest"]
    assert rejected["status"] == "REJECTED"
    assert world["rep"].data(UPDATE_OPP, {"id": record, "data": {"nextStep": "again"}})["updateOpportunity"]
    assert world.notified("rep", record)[-1].startswith("Rejected: ")


def test_a_process_that_does_not_lock(world: World) -> None:
    record = _opp(world["rep"], amount="10")
    request = _submit(world["rep"], record, process="openReview")
    assert request["process"] == "openReview"
    assert world["rep"].data(UPDATE_OPP, {"id": record, "data": {"nextStep": "free"}})["updateOpportunity"]
    world["rep"].data(RECALL, {"id": request["id"]})


# --- role approvers, administrators, recall ----------------------------------------------------
def test_any_user_of_the_role_decides_for_all(world: World) -> None:
    record = _opp(world["rep"], amount="500")
    request = _submit(world["rep"], record)
    assert request["process"] == "finance"
    assert request["currentApprovers"] == sorted([world.users["fin1"], world.users["fin2"]])
    assert len(world.notified("fin1", record)) == len(world.notified("fin2", record)) == 1
    rejected = world["fin2"].data(REJECT, {"id": request["id"], "c": "no budget"})["rejectRequest"]
    assert rejected["status"] == "REJECTED"
    decisions = {s["approverId"]: (s["decision"], s["decidedBy"]) for s in rejected["steps"]}
    assert decisions == {world.users["fin2"]: ("REJECTED", world.users["fin2"]),
                         world.users["fin1"]: ("SKIPPED", world.users["fin2"])}
    assert world["rep"].data(GET_OPP, {"id": record})["opportunity"]["forecastCategory"] == "omitted"
    assert world["fin1"].error(APPROVE, {"id": request["id"]})["extensions"]["code"] == "CONFLICT"


def test_an_administrator_may_decide_any_request(world: World) -> None:
    record = _opp(world["rep"], amount="500")
    request = _submit(world["rep"], record)
    done = world.admin.data(APPROVE, {"id": request["id"], "c": "override"})["approveRequest"]
    assert done["status"] == "APPROVED"
    admin_row = [s for s in done["steps"] if s["decision"] == "APPROVED"]
    assert [(s["approverId"], s["comment"]) for s in admin_row] == [(None, "override")]
    assert admin_row[0]["decidedBy"] not in world.users.values()


def test_only_the_submitter_recalls(world: World) -> None:
    record = _opp(world["rep"], amount="500")
    request = _submit(world["rep"], record)
    assert world["fin1"].error(RECALL, {"id": request["id"]})["extensions"]["code"] == "FORBIDDEN"
    recalled = world["rep"].data(RECALL, {"id": request["id"]})["recallApprovalRequest"]
    assert recalled["status"] == "RECALLED"
    assert {s["decision"] for s in recalled["steps"]} == {"RECALLED"}
    assert world["fin1"].data(PENDING)["pendingApprovals"] == []
    assert world["rep"].data(UPDATE_OPP, {"id": record, "data": {"nextStep": "unlocked"}})["updateOpportunity"]


def test_submissions_need_an_applicable_process_and_edit_rights(world: World) -> None:
    record = _opp(world["rep"], amount="10")
    error = world["rep"].error(SUBMIT, {"object": "opportunity", "id": record, "process": "bigDeal"})
    assert error["extensions"]["field"] == "process"
    assert "does not meet the entry condition of 'bigDeal'" in error["message"]
    error = world["rep"].error(SUBMIT, {"object": "opportunity", "id": record, "process": "nope"})
    assert error["extensions"]["code"] == "NOT_FOUND"
    error = world["rep"].error(SUBMIT, {"object": "opportunity", "id": str(uuid.uuid4())})
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("NOT_FOUND", "recordId")


def test_history_by_record_and_status(world: World) -> None:
    record = _opp(world["rep"], amount="500")
    first = _submit(world["rep"], record)
    world["rep"].data(RECALL, {"id": first["id"]})
    second = _submit(world["rep"], record, comment="second try")
    listed = world["rep"].data(HISTORY, {"object": "opportunity", "id": record})["approvalRequests"]
    assert [(r["id"], r["status"]) for r in listed] == [(second["id"], "PENDING"), (first["id"], "RECALLED")]
    pending = world.admin.data(HISTORY, {"object": "opportunity", "id": record, "status": "PENDING"})["approvalRequests"]
    assert [r["comment"] for r in pending] == ["second try"]
    # someone with no part in it and no record given sees only their own requests
    assert world["ceo"].data(HISTORY, {})["approvalRequests"] == []
    world.admin.data(REJECT, {"id": second["id"]})


def test_a_process_with_history_cannot_be_deleted(world: World) -> None:
    error = world.admin.error(DELETE_PROCESS, {"o": "opportunity", "n": "finance"})
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("IN_USE", "name")
    assert "deactivate it instead" in error["message"]


def test_fields_an_outcome_sets_cannot_be_deleted(world: World) -> None:
    world.admin.data(CREATE_FIELD, {"input": {"object": "opportunity", "name": "approvedOn", "type": "DATE"}})
    world.admin.data(CREATE_PROCESS, {"input": {**FINANCE, "name": "dated", "active": False,
                                                "onApprove": {"approvedOn": "2026-01-01"}}})
    delete = {"input": {"object": "opportunity", "name": "approvedOn", "confirm": True}}
    error = world.admin.error(DELETE_FIELD, delete)
    assert error["extensions"]["code"] == "IN_USE"
    assert "approval process dated: onApprove.approvedOn: opportunity has no field 'approvedOn'" in error["message"]
    world.admin.data(DELETE_PROCESS, {"o": "opportunity", "n": "dated"})
    assert world.admin.data(DELETE_FIELD, delete)["deleteField"]["name"] == "approvedOn"
