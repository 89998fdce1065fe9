"""Object and field permissions shape each user's schema: what a user may not read is absent from
their types, filters, sort inputs, record inputs, the metadata API and introspection; what they may
read but not edit is absent from record inputs and refused on write.

One tenant is built once for the module. Sharing stays PUBLIC_READ_WRITE, so only object and field
permissions are at play. Users and the sets they hold (besides, where said, ``standardUser``):

- ``hidden``: standardUser + ``hideAmount`` (opportunity.amount neither read nor edit)
- ``probReader``: standardUser + ``readOnlyProbability`` (opportunity.probability read, not edit)
- ``unioned``: standardUser + hideAmount + ``readAmount`` (amount read, not edit): the union reads it
- ``accountReader``: only ``accountsReadOnly`` (account: read)
- ``oppOnly``: only ``oppNoAccount`` (opportunity: read, create, edit; nothing on account/contact)
- ``creator``: only ``oppCreateOnly`` (opportunity: create, which implies read)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tessera.core.errors import Forbidden, NotFound, ValidationError, ValidationErrors
from tessera.services.records import create_records, delete_record, update_record
from tessera.services.runtime import Actor, Runtime
from tessera.testing import GraphQLClient, tenant_scope

CREATE_SET = "mutation($input: PermissionSetInput!) { createPermissionSet(input: $input) { name } }"
CREATE_USER = "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }"
CREATE_TOKEN = "mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token } }"
CREATE_OPP = "mutation($data: OpportunityCreateInput!) { createOpportunity(data: $data) { id name } }"
UPDATE_OPP = """
mutation($id: ID!, $data: OpportunityUpdateInput!) { updateOpportunity(id: $id, data: $data) { id nextStep } }
"""
FIELDS_OF = 'query($name: String!) { __type(name: $name) { fields { name } inputFields { name } } }'
ROOT_FIELDS = '{ q: __type(name: "Query") { fields { name } } m: __type(name: "Mutation") { fields { name } } }'

SETS = [
    {"name": "hideAmount", "fieldPermissions": [{"object": "opportunity", "field": "amount", "read": False}]},
    {"name": "readAmount", "fieldPermissions": [{"object": "opportunity", "field": "amount", "read": True}]},
    {"name": "readOnlyProbability",
     "fieldPermissions": [{"object": "opportunity", "field": "probability", "read": True, "edit": False}]},
    {"name": "accountsReadOnly", "objectPermissions": [{"object": "account", "read": True}]},
    {"name": "oppNoAccount",
     "objectPermissions": [{"object": "opportunity", "read": True, "create": True, "edit": True}]},
    {"name": "oppCreateOnly", "objectPermissions": [{"object": "opportunity", "create": True}]},
]
USERS = {
    "hidden": ["standardUser", "hideAmount"],
    "probReader": ["standardUser", "readOnlyProbability"],
    "unioned": ["standardUser", "hideAmount", "readAmount"],
    "accountReader": ["accountsReadOnly"],
    "oppOnly": ["oppNoAccount"],
    "creator": ["oppCreateOnly"],
}


@dataclass
class World:
    runtime: Runtime
    slug: str
    admin: GraphQLClient
    user_ids: dict[str, str] = field(default_factory=dict)
    clients: dict[str, GraphQLClient] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, user: str) -> GraphQLClient:
        return self.clients[user]

    def actor(self, user: str) -> tuple[Actor, Any]:
        """The user as the services see them (for writes the GraphQL input types cannot even express)."""
        ref = self.runtime.tenant(self.slug)
        with self.runtime.db.system.connect() as conn:
            model = self.runtime.model(conn, ref)
            access = self.runtime.access(conn, ref, self.user_ids[user])
        return Actor(ref, self.user_ids[user], "api", access), model


@pytest.fixture(scope="module")
def world(runtime: Runtime, app: Any) -> Iterator[World]:
    with tenant_scope(runtime) as created:
        w = World(runtime, created.tenant.slug, GraphQLClient(app, created.token))
        for permission_set in SETS:
            w.admin.data(CREATE_SET, {"input": permission_set})
        for name, sets in USERS.items():
            user_id = w.admin.data(CREATE_USER, {"input": {"email": f"{name.lower()}@example.com", "name": name,
                                                           "permissionSets": sets}})["createUser"]["id"]
            token = w.admin.data(CREATE_TOKEN, {"input": {"name": name, "user": user_id}})["createApiToken"]["token"]
            w.user_ids[name] = user_id
            w.clients[name] = GraphQLClient(app, token)
        w.ids["A1"] = w.admin.data("mutation { createAccount(data: {name: \"Acme\"}) { id } }")["createAccount"]["id"]
        w.ids["O1"] = w.admin.data(CREATE_OPP, {"data": {
            "name": "Big", "amount": "1000", "probability": "50", "closeDate": "2026-03-31", "account": w.ids["A1"],
        }})["createOpportunity"]["id"]
        w.ids["O2"] = w.admin.data(CREATE_OPP, {"data": {"name": "Small", "amount": "10", "closeDate": "2026-04-30"}})[
            "createOpportunity"]["id"]
        yield w


def _names(client: GraphQLClient, type_name: str) -> set[str] | None:
    found = client.data(FIELDS_OF, {"name": type_name})["__type"]
    if found is None:
        return None
    return {f["name"] for f in (found["fields"] or found["inputFields"] or [])}


def _roots(client: GraphQLClient) -> tuple[set[str], set[str]]:
    found = client.data(ROOT_FIELDS)
    return {f["name"] for f in found["q"]["fields"]}, {f["name"] for f in found["m"]["fields"]}


def _amount(world: World, record: str) -> str:
    return world.admin.data("query($id: ID!) { opportunity(id: $id) { amount } }", {"id": record})["opportunity"]["amount"]


# --- a hidden field ----------------------------------------------------------------------------
@pytest.mark.parametrize("type_name", [
    "Opportunity", "OpportunityFilter", "OpportunityLookupFilter", "OpportunityOrderBy",
    "OpportunityCreateInput", "OpportunityUpdateInput",
])
def test_a_hidden_field_is_absent_from_every_type_of_the_users_schema(world: World, type_name: str) -> None:
    shown = _names(world["hidden"], type_name)
    assert shown is not None and "amount" not in shown
    assert "name" in shown
    # the administrator's schema has it (and so does a standard user's)
    assert "amount" in (_names(world.admin, type_name) or set())
    assert "amount" in (_names(world["probReader"], type_name) or set())


def test_a_hidden_field_is_absent_from_the_metadata_api(world: World) -> None:
    found = world["hidden"].data('{ object(name: "opportunity") { fields { name } amount: field(name: "amount") { name } } }')
    names = {f["name"] for f in found["object"]["fields"]}
    assert "amount" not in names and {"name", "probability", "stage"} <= names
    assert found["object"]["amount"] is None
    everything = world["hidden"].data("{ objects { name fields { name } } }")["objects"]
    assert all("amount" not in {f["name"] for f in o["fields"]} for o in everything if o["name"] == "opportunity")


@pytest.mark.parametrize(("document", "variables"), [
    ("{ opportunities { edges { node { name amount } } } }", {}),
    ('query($id: ID!) { opportunity(id: $id) { amount } }', "O1"),
    ("{ opportunities(filter: {amount: {gt: \"0\"}}) { totalCount } }", {}),
    ("{ opportunities(orderBy: [{amount: DescNullsLast}]) { totalCount } }", {}),
    ("{ activities(filter: {opportunity: {amount: {gt: \"0\"}}}) { totalCount } }", {}),
    ("{ accounts { edges { node { opportunities(filter: {amount: {gt: \"0\"}}) { totalCount } } } } }", {}),
    ("{ accounts { edges { node { opportunities(orderBy: [{amount: AscNullsLast}]) { totalCount } } } } }", {}),
    ('mutation { createOpportunity(data: {name: "X", closeDate: "2026-01-01", amount: "5"}) { id } }', {}),
    ('mutation($id: ID!) { updateOpportunity(id: $id, data: {amount: "5"}) { id } }', "O1"),
])
def test_reading_filtering_sorting_or_writing_a_hidden_field_is_refused(
    world: World, document: str, variables: Any,
) -> None:
    if isinstance(variables, str):
        variables = {"id": world.ids[variables]}
    result = world["hidden"].execute(document, variables)
    assert result["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert "amount" in result["errors"][0]["message"]
    assert result.get("data") is None
    # the same document is fine for a standard user
    assert not world["probReader"].execute(document.replace('amount: "5"', 'nextStep: "n"')
                                           if document.startswith("mutation") else document, variables).get("errors")
    assert _amount(world, world.ids["O1"]) == "1000.00"


def test_writing_a_hidden_field_through_the_services_is_refused(world: World) -> None:
    actor, model = world.actor("hidden")
    with pytest.raises(ValidationError) as raised:
        update_record(world.runtime, actor, model, "opportunity", world.ids["O1"], {"amount": "1"})
    assert raised.value.message == "opportunity has no field 'amount'"
    with pytest.raises(ValidationErrors) as many:
        create_records(world.runtime, actor, model, "opportunity",
                       [{"name": "Hidden", "closeDate": "2026-01-01", "amount": "1"}])
    assert [e.message for e in many.value.errors] == ["data.0: opportunity has no field 'amount'"]
    assert _amount(world, world.ids["O1"]) == "1000.00"


def test_a_user_without_the_field_still_uses_the_rest_of_the_record(world: World) -> None:
    hidden = world["hidden"]
    found = hidden.data("{ opportunities(orderBy: [{name: AscNullsLast}]) { totalCount edges { node { name probability } } } }")
    assert found["opportunities"]["totalCount"] >= 2
    assert {"name": "Big", "probability": "50.0000"} in [e["node"] for e in found["opportunities"]["edges"]]
    updated = hidden.data(UPDATE_OPP, {"id": world.ids["O2"], "data": {"nextStep": "by hidden"}})
    assert updated["updateOpportunity"]["nextStep"] == "by hidden"
    # the field's value is untouched by that write
    assert _amount(world, world.ids["O2"]) == "10.00"


def test_one_set_granting_a_field_is_enough_when_several_name_it(world: World) -> None:
    unioned = world["unioned"]
    found = unioned.data('query($id: ID!) { opportunity(id: $id) { amount } }', {"id": world.ids["O1"]})
    assert found == {"opportunity": {"amount": "1000.00"}}
    # readAmount grants reading only: not editable
    assert "amount" in (_names(unioned, "OpportunityFilter") or set())
    assert "amount" not in (_names(unioned, "OpportunityUpdateInput") or set())


# --- a field readable but not editable ---------------------------------------------------------
def test_a_read_only_field_is_read_but_absent_from_the_record_inputs(world: World) -> None:
    reader = world["probReader"]
    assert "probability" in (_names(reader, "Opportunity") or set())
    assert "probability" in (_names(reader, "OpportunityFilter") or set())
    assert "probability" in (_names(reader, "OpportunityOrderBy") or set())
    assert "probability" not in (_names(reader, "OpportunityCreateInput") or set())
    assert "probability" not in (_names(reader, "OpportunityUpdateInput") or set())
    found = reader.data("""{ opportunities(filter: {probability: {eq: "50"}}) { edges { node { name probability } } }
                             object(name: "opportunity") { field(name: "probability") { readOnly } } }""")
    assert found["opportunities"]["edges"] == [{"node": {"name": "Big", "probability": "50.0000"}}]
    assert found["object"]["field"] == {"readOnly": True}
    # the administrator's view of the field is unchanged
    assert world.admin.data('{ object(name: "opportunity") { field(name: "probability") { readOnly } } }') == {
        "object": {"field": {"readOnly": False}}}
    error = reader.error(UPDATE_OPP, {"id": world.ids["O1"], "data": {"probability": "90"}})
    assert error["extensions"]["code"] == "VALIDATION_ERROR"


def test_writing_a_read_only_field_through_the_services_is_refused(world: World) -> None:
    actor, model = world.actor("probReader")
    with pytest.raises(ValidationError) as raised:
        update_record(world.runtime, actor, model, "opportunity", world.ids["O1"], {"probability": "90"})
    assert raised.value.message == "probability is read-only for you"
    with pytest.raises(ValidationErrors) as many:
        create_records(world.runtime, actor, model, "opportunity",
                       [{"name": "RO", "closeDate": "2026-01-01", "probability": "1"}])
    assert [e.message for e in many.value.errors] == ["data.0: probability is read-only for you"]
    found = world.admin.data('query($id: ID!) { opportunity(id: $id) { probability } }', {"id": world.ids["O1"]})
    assert found == {"opportunity": {"probability": "50.0000"}}


# --- objects without read permission -----------------------------------------------------------
def test_objects_without_read_permission_are_absent_from_the_schema(world: World) -> None:
    reader = world["accountReader"]
    queries, mutations = _roots(reader)
    assert {"accounts", "account"} <= queries
    for name in ("opportunities", "opportunity", "contacts", "contact", "leads", "activities"):
        assert name not in queries
    # read only: no record mutation at all
    assert not {m for m in mutations if m.endswith(("Account", "Accounts", "Opportunity", "Opportunities"))}
    assert {"createApiToken", "revokeApiToken"} <= mutations
    assert [o["name"] for o in reader.data("{ objects { name } }")["objects"]] == ["account"]
    assert reader.data('{ object(name: "opportunity") { name } }') == {"object": None}
    assert _names(reader, "Opportunity") is None
    # reverse relations from unreadable objects are absent too
    account_fields = _names(reader, "Account") or set()
    assert "name" in account_fields
    assert not {"opportunities", "contacts", "activities"} & account_fields
    assert "opportunities" in (_names(world.admin, "Account") or set())
    error = reader.error("{ opportunities { totalCount } }")
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert reader.data("{ accounts { totalCount } }")["accounts"]["totalCount"] >= 1


def test_the_services_refuse_an_object_the_user_cannot_read(world: World) -> None:
    actor, model = world.actor("accountReader")
    with pytest.raises(NotFound) as raised:
        create_records(world.runtime, actor, model, "opportunity", [{"name": "X", "closeDate": "2026-01-01"}])
    assert raised.value.message == "no object 'opportunity'"
    with pytest.raises(Forbidden) as forbidden:
        update_record(world.runtime, actor, model, "account", world.ids["A1"], {"name": "Renamed"})
    assert forbidden.value.message == "you may not edit accounts"


def test_lookups_to_objects_the_user_cannot_read_are_absent(world: World) -> None:
    user = world["oppOnly"]
    for type_name in ("Opportunity", "OpportunityFilter", "OpportunityCreateInput", "OpportunityUpdateInput"):
        shown = _names(user, type_name) or set()
        assert "name" in shown and not {"account", "contact"} & shown, type_name
    queries, mutations = _roots(user)
    assert "accounts" not in queries and "opportunities" in queries
    assert {"createOpportunity", "updateOpportunity"} <= mutations
    assert "deleteOpportunity" not in mutations and "restoreOpportunity" not in mutations
    error = user.error('query($id: ID!) { opportunity(id: $id) { account { name } } }', {"id": world.ids["O1"]})
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert user.data('query($id: ID!) { opportunity(id: $id) { name } }', {"id": world.ids["O1"]}) == {
        "opportunity": {"name": "Big"}}


# --- create only -------------------------------------------------------------------------------
def test_create_only_creates_but_cannot_update_or_delete(world: World) -> None:
    creator = world["creator"]
    _, mutations = _roots(creator)
    assert {"createOpportunity", "createOpportunities"} <= mutations
    assert not {"updateOpportunity", "deleteOpportunity", "restoreOpportunity"} & mutations
    made = creator.data(CREATE_OPP, {"data": {"name": "Created only", "closeDate": "2026-05-01", "nextStep": "call"}})
    record = made["createOpportunity"]["id"]
    assert made["createOpportunity"]["name"] == "Created only"
    found = world.admin.data('query($id: ID!) { opportunity(id: $id) { name nextStep owner { email } } }', {"id": record})
    assert found["opportunity"] == {"name": "Created only", "nextStep": "call", "owner": {"email": "creator@example.com"}}
    error = creator.error('mutation($id: ID!) { updateOpportunity(id: $id, data: {nextStep: "changed"}) { id } }',
                          {"id": record})
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert "Cannot query field 'updateOpportunity' on type 'Mutation'" in error["message"]
    actor, model = world.actor("creator")
    with pytest.raises(Forbidden) as raised:
        update_record(world.runtime, actor, model, "opportunity", record, {"nextStep": "changed"})
    assert raised.value.message == "you may not edit opportunities"
    with pytest.raises(Forbidden):
        delete_record(world.runtime, actor, model, "opportunity", record)
    found = world.admin.data('query($id: ID!) { opportunity(id: $id) { nextStep } }', {"id": record})
    assert found == {"opportunity": {"nextStep": "call"}}
