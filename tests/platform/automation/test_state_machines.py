"""Stage state machines through the GraphQL API: defining them (and the refusals of bad definitions),
their enforcement on single and bulk creates and on updates by users with restricted rights, the
administrators' and system actors' role bypass (never a graph bypass), required fields on entering
a state, and IN_USE refusals of metadata changes that would break a machine.

The module's tenant: roles ``salesRep`` (user ``rep``) and ``salesManager`` (user ``boss``), both
with the standard user permission set. The machine on ``opportunity.stage``::

    (new) → prospecting            anyone
    (new) → qualification          salesManager
    prospecting → qualification    anyone
    qualification → proposal       anyone       (entering proposal needs amount)
    qualification → closedLost     anyone       (entering closedLost needs lossReason)
    proposal → closedWon           salesManager
    proposal → closedLost          anyone
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tessera.core.errors import ValidationError, ValidationErrors
from tessera.services.automation.approval_processes import apply_approval_process
from tessera.services.automation.state_machines import apply_state_machine
from tessera.services.records import create_records
from tessera.services.runtime import Actor, Runtime
from tessera.testing import GraphQLClient, tenant_scope

MACHINE = "object field transitions { from to roles } requiredFields active origin"
CREATE_MACHINE = f"mutation($input: CreateStateMachineInput!) {{ createStateMachine(input: $input) {{ {MACHINE} }} }}"
UPDATE_MACHINE = f"mutation($input: UpdateStateMachineInput!) {{ updateStateMachine(input: $input) {{ {MACHINE} }} }}"
DELETE_MACHINE = "mutation($o: String!, $f: String!) { deleteStateMachine(object: $o, field: $f) { field } }"
MACHINES = f"query($object: String!) {{ stateMachines(object: $object) {{ {MACHINE} }} }}"
CREATE_ROLE = "mutation($input: RoleInput!) { createRole(input: $input) { name } }"
DELETE_ROLE = "mutation($input: DeleteByNameInput!) { deleteRole(input: $input) { name } }"
CREATE_USER = "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }"
CREATE_TOKEN = "mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token } }"
CREATE_FIELD = "mutation($input: CreateFieldInput!) { createField(input: $input) { name } }"
UPDATE_FIELD = "mutation($input: UpdateFieldInput!) { updateField(input: $input) { name } }"
DELETE_FIELD = "mutation($input: DeleteFieldInput!) { deleteField(input: $input) { name } }"
CREATE_OPP = "mutation($data: OpportunityCreateInput!) { createOpportunity(data: $data) { id stage } }"
CREATE_OPPS = "mutation($data: [OpportunityCreateInput!]!) { createOpportunities(data: $data) { id stage } }"
UPDATE_OPP = """
mutation($id: ID!, $data: OpportunityUpdateInput!) { updateOpportunity(id: $id, data: $data) { id stage amount } }
"""
OBJECT_MACHINES = '{ object(name: "opportunity") { stateMachines { field transitions { to } } } }'
COUNT = "query($filter: OpportunityFilter) { opportunities(filter: $filter) { totalCount } }"

TRANSITIONS = [
    {"from": None, "to": "prospecting"},
    {"from": None, "to": "qualification", "roles": ["salesManager"]},
    {"from": "prospecting", "to": "qualification"},
    {"from": "qualification", "to": "proposal"},
    {"from": "qualification", "to": "closedLost"},
    {"from": "proposal", "to": "closedWon", "roles": ["salesManager"]},
    {"from": "proposal", "to": "closedLost"},
]
REQUIRED = {"proposal": ["amount"], "closedLost": ["lossReason"]}
STAGE_MACHINE = {"object": "opportunity", "field": "stage", "transitions": TRANSITIONS, "requiredFields": REQUIRED}


@dataclass
class World:
    admin: GraphQLClient
    runtime: Runtime
    created: Any
    users: dict[str, str] = field(default_factory=dict)
    clients: dict[str, GraphQLClient] = field(default_factory=dict)

    def __getitem__(self, name: str) -> GraphQLClient:
        return self.clients[name]


@pytest.fixture(scope="module")
def world(runtime: Runtime, app: Any) -> Iterator[World]:
    with tenant_scope(runtime) as created:
        w = World(GraphQLClient(app, created.token), runtime, created)
        for role in ("salesManager", "salesRep"):
            w.admin.data(CREATE_ROLE, {"input": {"name": role}})
        for name, role in (("rep", "salesRep"), ("boss", "salesManager")):
            user_id = w.admin.data(CREATE_USER, {"input": {"email": f"{name}@example.com", "role": role}})["createUser"]["id"]
            token = w.admin.data(CREATE_TOKEN, {"input": {"name": name, "user": user_id}})["createApiToken"]["token"]
            w.users[name], w.clients[name] = user_id, GraphQLClient(app, token)
        w.admin.data(CREATE_MACHINE, {"input": STAGE_MACHINE})
        yield w


def _opp(**data: Any) -> dict[str, Any]:
    return {"name": f"deal-{uuid.uuid4().hex[:8]}", "closeDate": "2026-06-30", **data}


def _create(client: GraphQLClient, **data: Any) -> dict[str, Any]:
    return client.data(CREATE_OPP, {"data": _opp(**data)})["createOpportunity"]


def _update(client: GraphQLClient, record_id: str, **data: Any) -> dict[str, Any]:
    return client.data(UPDATE_OPP, {"id": record_id, "data": data})["updateOpportunity"]


def _refused(client: GraphQLClient, record_id: str, **data: Any) -> dict[str, Any]:
    return client.error(UPDATE_OPP, {"id": record_id, "data": data})


# --- definitions -------------------------------------------------------------------------------
def test_a_machine_is_listed_for_users_who_read_the_object(world: World) -> None:
    machines = world["rep"].data(MACHINES, {"object": "opportunity"})["stateMachines"]
    assert len(machines) == 1
    machine = machines[0]
    assert (machine["object"], machine["field"], machine["active"], machine["origin"]) == (
        "opportunity", "stage", True, "custom")
    assert machine["transitions"][1] == {"from": None, "to": "qualification", "roles": ["salesManager"]}
    assert machine["transitions"][0] == {"from": None, "to": "prospecting", "roles": []}
    assert machine["requiredFields"] == REQUIRED
    # the metadata API's object shows them too
    on_object = world["rep"].data(OBJECT_MACHINES)["object"]["stateMachines"]
    assert [(m["field"], m["transitions"][0]["to"]) for m in on_object] == [("stage", "prospecting")]


@pytest.mark.parametrize(("change", "field", "fragment"), [
    ({"field": "nope"}, "field", "field: opportunity has no field 'nope'"),
    ({"field": "name"}, "field", "field: opportunity.name is a TEXT field, not a PICKLIST"),
    ({"transitions": [{"from": "web", "to": "won"}]}, "transitions",
     "transitions.0.to: 'won' is not an option of opportunity.leadSource"),
    ({"transitions": [{"from": "lost", "to": "web"}]}, "transitions",
     "transitions.0.from: 'lost' is not an option of opportunity.leadSource"),
    ({"transitions": [{"to": "web", "roles": ["nobody"]}]}, "transitions", "transitions.0.roles: no role 'nobody'"),
    ({"transitions": [{"to": "web"}, {"to": "web"}]}, "transitions", "transitions.1: the move from no value"),
    ({"transitions": []}, "transitions", "transitions:"),
    ({"requiredFields": {"web": ["why"]}}, "requiredFields", "requiredFields: opportunity has no field 'why'"),
    ({"requiredFields": {"gone": ["amount"]}}, "requiredFields",
     "requiredFields: 'gone' is not an option of opportunity.leadSource"),
])
def test_bad_definitions_are_refused_naming_the_input(
    world: World, change: dict[str, Any], field: str, fragment: str
) -> None:
    # given a definition with one problem, on a field without a machine
    data = {"object": "opportunity", "field": "leadSource", "transitions": [{"to": "web"}], **change}
    error = world.admin.error(CREATE_MACHINE, {"input": data})
    assert error["extensions"]["code"] == "VALIDATION_ERROR", error
    assert error["extensions"]["field"] == field
    assert error["message"].startswith(fragment), error["message"]
    assert world.admin.data(MACHINES, {"object": "opportunity"})["stateMachines"][0]["field"] == "stage"


def test_only_administrators_define_machines_and_one_per_field(world: World) -> None:
    error = world["boss"].error(CREATE_MACHINE, {"input": {**STAGE_MACHINE, "field": "leadSource",
                                                          "transitions": [{"to": "web"}]}})
    assert error["extensions"]["code"] == "FORBIDDEN"
    error = world.admin.error(CREATE_MACHINE, {"input": STAGE_MACHINE})
    assert error["extensions"]["code"] == "CONFLICT"
    assert error["extensions"]["field"] == "field"


# --- creating records --------------------------------------------------------------------------
def test_creates_start_only_in_initial_states(world: World) -> None:
    # the default stage (prospecting) is an initial state anyone may use
    assert _create(world["rep"])["stage"] == "prospecting"
    error = world["rep"].error(CREATE_OPP, {"data": _opp(stage="proposal", amount="10")})
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["extensions"]["field"] == "stage"
    assert error["message"] == ("stage: a new opportunity cannot start at 'proposal'; from no value it may go to "
                                "'prospecting', 'qualification'")
    assert error["extensions"]["allowed"] == ["prospecting", "qualification"]


def test_an_initial_state_reserved_to_a_role(world: World) -> None:
    error = world["rep"].error(CREATE_OPP, {"data": _opp(stage="qualification")})
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["extensions"]["roles"] == ["salesManager"]
    assert "only users with role salesManager" in error["message"]
    assert _create(world["boss"], stage="qualification")["stage"] == "qualification"
    # administrators bypass roles
    assert _create(world.admin, stage="qualification")["stage"] == "qualification"


def test_bulk_creates_report_each_row_and_write_nothing(world: World) -> None:
    tag = uuid.uuid4().hex[:8]
    rows = [_opp(name=f"{tag}-ok"), _opp(name=f"{tag}-won", stage="closedWon"),
            _opp(name=f"{tag}-lost", stage="closedLost")]
    error = world["rep"].error(CREATE_OPPS, {"data": rows})
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    indexes = [(e["index"], e["field"]) for e in error["extensions"]["errors"]]
    assert indexes == [(1, "stage"), (2, "stage")]
    assert error["extensions"]["errors"][0]["message"].startswith("data.1: stage: a new opportunity cannot start at")
    count = world.admin.data(COUNT, {"filter": {"name": {"startsWith": tag}}})["opportunities"]["totalCount"]
    assert count == 0
    # a role refusal in bulk names the row too
    error = world["rep"].error(CREATE_OPPS, {"data": [_opp(), _opp(stage="qualification")]})
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["extensions"]["index"] == 1
    assert error["message"].startswith("data.1: stage: only users with role salesManager")
    created = world["boss"].data(CREATE_OPPS, {"data": [_opp(), _opp(stage="qualification")]})["createOpportunities"]
    assert [r["stage"] for r in created] == ["prospecting", "qualification"]


def test_required_fields_apply_on_create_too(world: World) -> None:
    world.admin.data(UPDATE_MACHINE, {"input": {"object": "opportunity", "field": "stage",
                                                "requiredFields": {**REQUIRED, "prospecting": ["nextStep"]}}})
    try:
        error = world["rep"].error(CREATE_OPP, {"data": _opp()})
        assert error["extensions"]["field"] == "nextStep"
        assert error["message"] == "nextStep is required when stage becomes 'prospecting'"
        assert _create(world["rep"], nextStep="call")["stage"] == "prospecting"
    finally:
        world.admin.data(UPDATE_MACHINE, {"input": {"object": "opportunity", "field": "stage",
                                                    "requiredFields": REQUIRED}})


# --- updating records --------------------------------------------------------------------------
def test_moves_outside_the_graph_are_refused_naming_from_to_and_targets(world: World) -> None:
    opp = _create(world["rep"])
    error = _refused(world["rep"], opp["id"], stage="closedWon")
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["extensions"]["field"] == "stage"
    assert error["message"] == ("stage: cannot go from 'prospecting' to 'closedWon'; from 'prospecting' it may go to "
                                "'qualification'")
    assert (error["extensions"]["from"], error["extensions"]["to"]) == ("prospecting", "closedWon")
    # an update leaving the stage alone is not a move
    assert _update(world["rep"], opp["id"], nextStep="demo", stage="prospecting")["stage"] == "prospecting"


def test_a_full_path_with_required_fields_and_roles(world: World) -> None:
    opp = _create(world["rep"])
    assert _update(world["rep"], opp["id"], stage="qualification")["stage"] == "qualification"
    error = _refused(world["rep"], opp["id"], stage="proposal")
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("VALIDATION_ERROR", "amount")
    assert error["message"] == "amount is required when stage becomes 'proposal'"
    # the required field may come with the move
    assert _update(world["rep"], opp["id"], stage="proposal", amount="900")["stage"] == "proposal"
    error = _refused(world["rep"], opp["id"], stage="closedWon")
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["extensions"]["roles"] == ["salesManager"]
    assert error["message"] == ("stage: only users with role salesManager may move opportunity from 'proposal' "
                                "to 'closedWon'")
    assert _update(world["boss"], opp["id"], stage="closedWon")["stage"] == "closedWon"
    error = _refused(world.admin, opp["id"], stage="proposal")
    assert error["message"].endswith("from 'closedWon' it may go to nowhere (it is final)")


def test_a_required_field_already_set_on_the_record_counts(world: World) -> None:
    opp = _create(world["rep"], amount="50")
    _update(world["rep"], opp["id"], stage="qualification")
    assert _update(world["rep"], opp["id"], stage="proposal")["amount"] == "50.00"


def test_administrators_bypass_roles_but_not_the_graph(world: World) -> None:
    opp = _create(world["rep"], stage="prospecting", amount="10")
    error = _refused(world.admin, opp["id"], stage="proposal")
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    _update(world.admin, opp["id"], stage="qualification")
    _update(world.admin, opp["id"], stage="proposal")
    assert _update(world.admin, opp["id"], stage="closedWon")["stage"] == "closedWon"


def test_system_writes_follow_the_graph(world: World) -> None:
    # given the write path plugins, sample data and jobs use (system rights)
    actor = Actor(world.runtime.tenant(world.created.tenant.slug), None)
    model = _model(world)
    with pytest.raises(ValidationErrors) as refused:
        create_records(world.runtime, actor, model, "opportunity", [_opp(), _opp(stage="closedWon")])
    assert [(e.details["index"], e.field) for e in refused.value.errors] == [(1, "stage")]
    with pytest.raises(ValidationError) as single:
        create_records(world.runtime, actor, model, "opportunity", [_opp(stage="closedLost")], bulk=False)
    assert single.value.field == "stage"
    # roles do not bind it
    assert len(create_records(world.runtime, actor, model, "opportunity", [_opp(stage="qualification")])) == 1


def _model(world: World) -> Any:
    ref = world.runtime.tenant(world.created.tenant.slug)
    with world.runtime.read(ref) as conn:
        return world.runtime.model(conn, ref)


def test_inactive_and_deleted_machines_are_not_enforced(world: World) -> None:
    opp = _create(world["rep"])
    world.admin.data(UPDATE_MACHINE, {"input": {"object": "opportunity", "field": "stage", "active": False}})
    try:
        assert _update(world["rep"], opp["id"], stage="closedWon")["stage"] == "closedWon"
    finally:
        machine = world.admin.data(UPDATE_MACHINE, {"input": {"object": "opportunity", "field": "stage",
                                                              "active": True}})["updateStateMachine"]
    assert machine["transitions"] == world.admin.data(MACHINES, {"object": "opportunity"})["stateMachines"][0][
        "transitions"]
    world.admin.data(DELETE_MACHINE, {"o": "opportunity", "f": "stage"})
    try:
        assert world.admin.data(MACHINES, {"object": "opportunity"})["stateMachines"] == []
        assert _create(world["rep"], stage="closedWon")["stage"] == "closedWon"
    finally:
        world.admin.data(CREATE_MACHINE, {"input": STAGE_MACHINE})
    assert world["rep"].error(CREATE_OPP, {"data": _opp(stage="closedWon")})["extensions"]["field"] == "stage"


# --- what a machine depends on -----------------------------------------------------------------
def test_metadata_changes_that_break_a_machine_are_refused(world: World) -> None:
    # a required field cannot be deleted
    world.admin.data(CREATE_FIELD, {"input": {"object": "opportunity", "name": "closeNote", "type": "TEXT"}})
    world.admin.data(UPDATE_MACHINE, {"input": {"object": "opportunity", "field": "stage",
                                                "requiredFields": {**REQUIRED, "closedWon": ["closeNote"]}}})
    delete_note = {"input": {"object": "opportunity", "name": "closeNote", "confirm": True}}
    error = world.admin.error(DELETE_FIELD, delete_note)
    assert error["extensions"]["code"] == "IN_USE"
    assert "state machine opportunity.stage: requiredFields: opportunity has no field 'closeNote'" in error["message"]
    world.admin.data(UPDATE_MACHINE, {"input": {"object": "opportunity", "field": "stage", "requiredFields": REQUIRED}})
    world.admin.data(DELETE_FIELD, delete_note)
    # nor can an option the machine moves through
    options = [{"value": v} for v in ("prospecting", "qualification", "proposal", "closedWon")]
    error = world.admin.error(UPDATE_FIELD, {"input": {"object": "opportunity", "name": "stage", "options": options}})
    assert error["extensions"]["code"] == "IN_USE"
    assert "'closedLost' is not an option of opportunity.stage" in error["message"]
    # nor a role a transition names
    world.admin.data(CREATE_ROLE, {"input": {"name": "auditor"}})
    world.admin.data(CREATE_MACHINE, {"input": {"object": "opportunity", "field": "leadSource",
                                                "transitions": [{"to": "web", "roles": ["auditor"]}]}})
    try:
        error = world.admin.error(DELETE_ROLE, {"input": {"name": "auditor"}})
        assert error["extensions"]["code"] == "IN_USE"
        assert "no role 'auditor'" in error["message"]
    finally:
        world.admin.data(DELETE_MACHINE, {"o": "opportunity", "f": "leadSource"})
    world.admin.data(DELETE_ROLE, {"input": {"name": "auditor"}})


def test_packages_apply_definitions_idempotently(world: World) -> None:
    ref = world.runtime.tenant(world.created.tenant.slug)
    actor = Actor(ref, world.created.admin_user_id)
    spec = {"object": "opportunity", "field": "forecastCategory", "transitions": [{"from": None, "to": "pipeline"}]}
    first = apply_state_machine(world.runtime, actor, spec, origin="demoPackage")
    again = apply_state_machine(world.runtime, actor, spec, origin="demoPackage")
    assert (first.id, first.origin) == (again.id, "demoPackage")
    changed = apply_state_machine(world.runtime, actor, {**spec, "transitions": [{"from": None, "to": "commit"}]})
    assert [t.to_state for t in changed.transitions] == ["commit"]
    world.admin.data(DELETE_MACHINE, {"o": "opportunity", "f": "forecastCategory"})
    process = {"object": "opportunity", "name": "pkgProcess", "approvers": {"type": "MANAGER_CHAIN"}, "active": False}
    created = apply_approval_process(world.runtime, actor, process, origin="demoPackage")
    assert apply_approval_process(world.runtime, actor, process).id == created.id
    updated = apply_approval_process(world.runtime, actor, {**process, "onApprove": {"nextStep": "ok"}})
    assert (updated.origin, dict(updated.on_approve)) == ("demoPackage", {"nextStep": "ok"})
    world.admin.data('mutation { deleteApprovalProcess(object: "opportunity", name: "pkgProcess") { name } }')
