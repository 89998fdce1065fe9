"""Workflows as metadata: shipped in YAML packages (idempotent, updated in place), exported with the
object, and protected: a change to fields, objects or roles that would break a workflow is refused
(IN_USE, naming the workflow), like a change that would break a formula."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.core.errors import InUse
from tessera.services.metadata import delete_field
from tessera.services.packages import apply_package, export_metadata
from tessera.services.runtime import Actor, Runtime
from tessera.services.tenants import CreatedTenant
from tessera.testing import GraphQLClient

WORKFLOWS = "{ workflows { name object version trigger condition actions origin } }"


def _package(condition: str) -> list[dict[str, Any]]:
    return [{
        "name": "prospect", "pluralName": "prospects", "label": {"en": "Prospect"}, "pluralLabel": {"en": "Prospects"},
        "fields": [{"name": "score", "type": "NUMBER", "label": {"en": "Score"}}],
        "workflows": [{
            "name": "hotLead", "trigger": {"event": "UPDATED", "fields": ["score"]}, "condition": condition,
            "actions": [{"type": "NOTIFY", "recipients": ["owner"], "title": "Hot lead {{ score }}"}],
        }],
    }]


def _admin(runtime: Runtime, tenant: CreatedTenant) -> Actor:
    return Actor(runtime.tenant(tenant.tenant.slug), tenant.admin_user_id, "api")


def test_a_package_brings_workflows_and_applying_it_again_changes_nothing(
    runtime: Runtime, tenant: CreatedTenant, gql: GraphQLClient
) -> None:
    actor = _admin(runtime, tenant)
    first = apply_package(runtime, actor, _package("score > 80"), origin="acme")
    assert (first["workflowsCreated"], first["workflowsUpdated"]) == (1, 0)
    assert gql.data(WORKFLOWS)["workflows"] == [{
        "name": "hotLead", "object": "prospect", "version": 1, "origin": "acme", "condition": "score > 80",
        "trigger": {"event": "UPDATED", "fields": ["score"], "conditionBecomesTrue": False},
        "actions": [{"type": "NOTIFY", "recipients": ["owner"], "title": "Hot lead {{ score }}", "body": None,
                     "email": False}],
    }]
    again = apply_package(runtime, _admin(runtime, tenant), _package("score > 80"), origin="acme")
    assert (again["workflowsCreated"], again["workflowsUpdated"]) == (0, 0)
    changed = apply_package(runtime, _admin(runtime, tenant), _package("score > 90"), origin="acme")
    assert (changed["workflowsCreated"], changed["workflowsUpdated"]) == (0, 1)
    assert [(w["version"], w["condition"]) for w in gql.data(WORKFLOWS)["workflows"]] == [(2, "score > 90")]
    exported = export_metadata(_meta(runtime, tenant))
    assert "hotLead" in exported and "score > 90" in exported


def _meta(runtime: Runtime, tenant: CreatedTenant) -> Any:
    ref = runtime.tenant(tenant.tenant.slug)
    with runtime.read(ref) as conn:
        return runtime.model(conn, ref).meta


def test_deleting_a_field_a_workflow_uses_is_refused_naming_the_workflow(
    runtime: Runtime, tenant: CreatedTenant, gql: GraphQLClient
) -> None:
    apply_package(runtime, _admin(runtime, tenant), _package("score > 80"), origin="custom")
    with pytest.raises(InUse) as refused:
        delete_field(runtime, _admin(runtime, tenant), {"object": "prospect", "name": "score", "confirm": True})
    assert "workflow hotLead" in refused.value.message
    assert any("hotLead" in d for d in refused.value.details["dependents"])
    # nothing changed: the field and the workflow are both still there
    assert [w["name"] for w in gql.data(WORKFLOWS)["workflows"]] == ["hotLead"]
    fields = gql.data('{ object(name: "prospect") { fields { name } } }')["object"]["fields"]
    assert "score" in [f["name"] for f in fields]
    # through GraphQL the refusal carries its code
    error = gql.error('mutation { deleteField(input: {object: "prospect", name: "score", confirm: true}) { name } }')
    assert error["extensions"]["code"] == "IN_USE"


def _ticket_package(allow_reopen: bool) -> list[dict[str, Any]]:
    transitions = [{"from": None, "to": "open"}, {"from": "open", "to": "closed"}]
    if allow_reopen:
        transitions.append({"from": "closed", "to": "open"})
    return [{
        "name": "ticket", "pluralName": "tickets", "label": {"en": "Ticket"}, "pluralLabel": {"en": "Tickets"},
        "fields": [
            {"name": "subject", "type": "TEXT", "required": True},
            {"name": "status", "type": "PICKLIST", "options": [{"value": "open"}, {"value": "closed"}]},
            {"name": "resolution", "type": "TEXT"},
        ],
        "stateMachines": [{"field": "status", "transitions": transitions, "requiredFields": {"closed": ["resolution"]}}],
        "approvalProcesses": [{"name": "closeTicket", "approvers": {"type": "MANAGER_CHAIN", "levels": 1},
                               "onApprove": {"resolution": "approved"}}],
    }]


def test_a_package_brings_state_machines_and_approval_processes(
    runtime: Runtime, tenant: CreatedTenant, gql: GraphQLClient
) -> None:
    first = apply_package(runtime, _admin(runtime, tenant), _ticket_package(False))
    assert first["automationApplied"] == 2
    assert apply_package(runtime, _admin(runtime, tenant), _ticket_package(False))["automationApplied"] == 0
    assert apply_package(runtime, _admin(runtime, tenant), _ticket_package(True))["automationApplied"] == 1
    # the machine is enforced: closing needs a resolution
    ticket = gql.data('mutation { createTicket(data: {subject: "Printer", status: "open"}) { id } }')["createTicket"]
    error = gql.error('mutation($id: ID!) { updateTicket(id: $id, data: {status: "closed"}) { id } }',
                      {"id": ticket["id"]})
    assert error["extensions"]["code"] == "VALIDATION_ERROR" and error["extensions"]["field"] == "resolution"
    processes = gql.data('{ approvalProcesses(object: "ticket") { name } }')["approvalProcesses"]
    assert [p["name"] for p in processes] == ["closeTicket"]
