"""Objects through the metadata API: createObject, updateObject, deleteObject, and the generated API
they add or remove (each object is a real table and a set of generated queries and mutations)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tessera.services.runtime import Runtime
from tessera.services.tenants import CreatedTenant
from tessera.testing import GraphQLClient, drop_custom_objects, tenant_scope

STANDARD_OBJECTS = ["account", "contact", "lead", "opportunity", "activity"]

CREATE_OBJECT = """
mutation($input: CreateObjectInput!) {
  createObject(input: $input) {
    name pluralName origin label zh: label(locale: "zh") pluralLabel zhPlural: pluralLabel(locale: "zh")
    labels pluralLabels fields { name type }
  }
}
"""
UPDATE_OBJECT = """
mutation($input: UpdateObjectInput!) {
  updateObject(input: $input) { name pluralName label zh: label(locale: "zh") labels pluralLabels }
}
"""
DELETE_OBJECT = """
mutation($input: DeleteObjectInput!) { deleteObject(input: $input) { name pluralName } }
"""
CREATE_FIELD = """
mutation($input: CreateFieldInput!) { createField(input: $input) { name type } }
"""
OBJECTS = "{ objects { name pluralName origin } }"
OBJECT = """
query($name: String!) {
  object(name: $name) { name pluralName label zh: label(locale: "zh") fields { name } }
}
"""
ROOT_FIELDS = """
{
  query: __type(name: "Query") { fields { name } }
  mutation: __type(name: "Mutation") { fields { name } }
}
"""


@pytest.fixture(scope="module")
def shared_tenant(runtime: Runtime) -> Iterator[CreatedTenant]:
    """One tenant for the tests that only add objects with names of their own, or are refused."""
    with tenant_scope(runtime) as created:
        yield created


@pytest.fixture
def shared(app: Any, runtime: Runtime, shared_tenant: CreatedTenant) -> Iterator[GraphQLClient]:
    yield GraphQLClient(app, shared_tenant.token)
    drop_custom_objects(runtime, shared_tenant)


def _root_fields(gql: GraphQLClient) -> tuple[set[str], set[str]]:
    data = gql.data(ROOT_FIELDS)
    return {f["name"] for f in data["query"]["fields"]}, {f["name"] for f in data["mutation"]["fields"]}


def _object_names(gql: GraphQLClient) -> list[str]:
    return [o["name"] for o in gql.data(OBJECTS)["objects"]]


def _assert_refused(error: dict[str, Any], code: str, field: str, *mentions: str) -> None:
    assert error["extensions"]["code"] == code, error
    assert error["extensions"].get("field") == field, error
    for text in mentions:
        assert text in error["message"], (text, error["message"])


def _table_names(runtime: Runtime, tenant: CreatedTenant) -> set[str]:
    schema = tenant.tenant.schema_name
    return set(sa.inspect(runtime.db.tenant(schema)).get_table_names(schema=schema))


# --- creating ---------------------------------------------------------------------------------


def test_created_object_is_listed_with_labels_and_gets_its_generated_api(
    gql: GraphQLClient, shared: GraphQLClient
) -> None:
    # given a fresh tenant with only the standard objects
    assert _object_names(gql) == STANDARD_OBJECTS
    # when an object is created with English and Chinese labels
    created = gql.data(
        CREATE_OBJECT,
        {
            "input": {
                "name": "salesOrder",
                "pluralName": "salesOrders",
                "label": {"en": "Sales Order", "zh": "销售订单"},
                "pluralLabel": {"en": "Sales Orders", "zh": "销售订单"},
            }
        },
    )["createObject"]
    # then it is returned as a custom object with both labels
    assert created == {
        "name": "salesOrder",
        "pluralName": "salesOrders",
        "origin": "custom",
        "label": "Sales Order",
        "zh": "销售订单",
        "pluralLabel": "Sales Orders",
        "zhPlural": "销售订单",
        "labels": {"en": "Sales Order", "zh": "销售订单"},
        "pluralLabels": {"en": "Sales Orders", "zh": "销售订单"},
        "fields": [],
    }
    # and it is listed last among the objects, and readable by name with its zh label
    assert _object_names(gql) == [*STANDARD_OBJECTS, "salesOrder"]
    assert gql.data(OBJECT, {"name": "salesOrder"})["object"] == {
        "name": "salesOrder",
        "pluralName": "salesOrders",
        "label": "Sales Order",
        "zh": "销售订单",
        "fields": [],
    }
    # and its generated list query, single read and mutations work right away
    queries, mutations = _root_fields(gql)
    assert {"salesOrders", "salesOrder"} <= queries
    assert {"createSalesOrder", "createSalesOrders", "updateSalesOrder", "deleteSalesOrder"} <= mutations
    assert gql.data("{ salesOrders { totalCount edges { node { id } } } }")["salesOrders"] == {
        "totalCount": 0,
        "edges": [],
    }
    record = gql.data("mutation { createSalesOrder(data: {}) { id version } }")["createSalesOrder"]
    assert record["version"] == 1
    listed = gql.data("{ salesOrders { totalCount edges { node { id } } } }")["salesOrders"]
    assert listed == {"totalCount": 1, "edges": [{"node": {"id": record["id"]}}]}
    one = gql.data("query($id: ID!) { salesOrder(id: $id) { id } }", {"id": record["id"]})
    assert one == {"salesOrder": {"id": record["id"]}}
    # and another tenant sees none of it
    assert "salesOrder" not in _object_names(shared)
    assert "salesOrders" not in _root_fields(shared)[0]


def test_object_created_with_fields_in_one_call(shared: GraphQLClient) -> None:
    # given an object defined together with its fields
    created = shared.data(
        CREATE_OBJECT,
        {
            "input": {
                "name": "shipment",
                "pluralName": "shipments",
                "fields": [
                    {"name": "trackingCode", "type": "TEXT", "required": True, "maxLength": 40},
                    {"name": "weight", "type": "NUMBER", "scale": 3},
                    {"name": "account", "type": "LOOKUP", "target": "account"},
                ],
            }
        },
    )["createObject"]
    # then every field exists, in order
    assert created["fields"] == [
        {"name": "trackingCode", "type": "TEXT"},
        {"name": "weight", "type": "NUMBER"},
        {"name": "account", "type": "LOOKUP"},
    ]
    # and the generated API takes them at once, lookup included
    account = shared.data('mutation { createAccount(data: {name: "Globex"}) { id } }')["createAccount"]["id"]
    shipment = shared.data(
        'mutation($a: ID!) { createShipment(data: {trackingCode: "TR-1", weight: "2.5", account: $a}) '
        "{ trackingCode weight account { name } } }",
        {"a": account},
    )["createShipment"]
    assert shipment == {"trackingCode": "TR-1", "weight": "2.500", "account": {"name": "Globex"}}
    # and the target gains the reverse relation named after the plural
    data = shared.data(
        "query($a: ID!) { account(id: $a) { shipments { totalCount edges { node { trackingCode } } } } }",
        {"a": account},
    )
    assert data["account"]["shipments"] == {"totalCount": 1, "edges": [{"node": {"trackingCode": "TR-1"}}]}


def test_labels_default_from_names_and_fall_back_to_english(shared: GraphQLClient) -> None:
    # given an object created without labels
    created = shared.data(
        CREATE_OBJECT, {"input": {"name": "purchaseRequest", "pluralName": "purchaseRequests"}}
    )
    # then labels are made from the names, and a zh label falls back to English
    obj = created["createObject"]
    assert obj["labels"] == {"en": "Purchase request"}
    assert obj["pluralLabels"] == {"en": "Purchase requests"}
    assert obj["zh"] == "Purchase request"
    assert obj["zhPlural"] == "Purchase requests"


def test_object_with_invalid_field_in_create_is_refused_naming_the_field(shared: GraphQLClient) -> None:
    # given an object whose second field has an unknown type
    before = _object_names(shared)
    error = shared.error(
        CREATE_OBJECT,
        {
            "input": {
                "name": "brokenThing",
                "pluralName": "brokenThings",
                "fields": [{"name": "title", "type": "TEXT"}, {"name": "size", "type": "HUGE"}],
            }
        },
    )
    # then the refusal points at that field's type
    _assert_refused(error, "VALIDATION_ERROR", "fields.1.type", "HUGE", "unknown field type")
    # and nothing was created
    assert _object_names(shared) == before
    assert "brokenThings" not in _root_fields(shared)[0]


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "plural", "field", "mentions"),
    [
        ("Project", "projects", "name", ("'Project'", "must start with a lowercase letter")),
        ("my_project", "myProjects", "name", ("'my_project'", "only letters and digits")),
        ("p" * 64, "projects", "name", ("p" * 64, "longer than 63 characters")),
        ("", "projects", "name", ("object name is required",)),
        ("project", "Projects", "pluralName", ("'Projects'", "must start with a lowercase letter")),
        ("project", "", "pluralName", ("object plural name is required",)),
        ("project", "my_projects", "pluralName", ("'my_projects'", "only letters and digits")),
    ],
    ids=[
        "uppercase-start",
        "underscore",
        "too-long",
        "empty",
        "plural-uppercase",
        "plural-empty",
        "plural-underscore",
    ],
)
def test_invalid_object_names_are_refused(
    shared: GraphQLClient, name: str, plural: str, field: str, mentions: tuple[str, ...]
) -> None:
    # given a name that breaks the naming rules
    # when the object is created
    error = shared.error(CREATE_OBJECT, {"input": {"name": name, "pluralName": plural}})
    # then it is refused naming the input and the rule
    _assert_refused(error, "VALIDATION_ERROR", field, *mentions)


def test_a_name_as_long_as_a_table_name_may_be_is_accepted(shared: GraphQLClient) -> None:
    # given a name whose table name (its snake_case) has the maximum 60 characters
    name = "q" * 50 + "Rrrrrrrrr"
    assert len(name) == 59
    # when the object is created
    created = shared.data(CREATE_OBJECT, {"input": {"name": name, "pluralName": "qs"}})["createObject"]
    # then it exists and its generated query works
    assert created["name"] == name
    assert shared.data("{ qs { totalCount } }") == {"qs": {"totalCount": 0}}


@pytest.mark.parametrize("name", ["q" * 61, "a" + "Bc" * 30 + "X"], ids=["61-characters", "many-capitals"])
def test_a_name_whose_table_name_would_be_too_long_is_refused(shared: GraphQLClient, name: str) -> None:
    # given a name of at most 63 characters whose snake_case table name exceeds 60 characters
    assert len(name) <= 63
    # when the object is created
    error = shared.error(CREATE_OBJECT, {"input": {"name": name, "pluralName": "rs"}})
    # then it is refused as too long for the database
    _assert_refused(error, "VALIDATION_ERROR", "name", f"'{name}'", "too long")


@pytest.mark.parametrize(
    ("name", "plural", "field", "reason"),
    [
        ("select", "selects", "name", "reserved SQL keyword"),
        ("order", "orders", "name", "reserved SQL keyword"),
        ("project", "select", "pluralName", "reserved SQL keyword"),
        ("node", "nodeItems", "name", "reserved by the GraphQL API"),
        ("edgeThing", "edges", "pluralName", "reserved by the GraphQL API"),
        ("objectThing", "objects", "pluralName", "reserved by the GraphQL API"),
        ("createdAt", "createdAts", "name", "reserved for a system field"),
        ("owner", "owners", "name", "reserved for a system field"),
        ("version", "versions", "name", "reserved for a system field"),
    ],
)
def test_reserved_object_names_are_refused(
    shared: GraphQLClient, name: str, plural: str, field: str, reason: str
) -> None:
    # given a name reserved by SQL, by the GraphQL API or by the system fields
    # when the object is created
    error = shared.error(CREATE_OBJECT, {"input": {"name": name, "pluralName": plural}})
    # then it is refused naming the reserved word and why
    reserved = name if field == "name" else plural
    _assert_refused(error, "VALIDATION_ERROR", field, f"'{reserved}'", reason)


def test_plural_equal_to_name_is_refused(shared: GraphQLClient) -> None:
    # when the plural repeats the singular
    error = shared.error(CREATE_OBJECT, {"input": {"name": "sheep", "pluralName": "sheep"}})
    # then it is refused on pluralName
    _assert_refused(error, "VALIDATION_ERROR", "pluralName", "must differ from name 'sheep'")


def test_plural_differing_from_name_only_by_case_is_refused(shared: GraphQLClient) -> None:
    # when the plural differs from the singular only by case
    error = shared.error(CREATE_OBJECT, {"input": {"name": "moose", "pluralName": "mooSe"}})
    # then it is refused on pluralName
    _assert_refused(error, "VALIDATION_ERROR", "pluralName", "'mooSe'", "only by case")


@pytest.mark.parametrize(
    ("name", "plural", "field", "mentions"),
    [
        ("accounts", "accountItems", "name", ("'accounts'", "collides with object 'account'")),
        ("aCcount", "aCcountRecords", "name", ("'aCcount'", "collides with object 'account'")),
        ("client", "accounts", "pluralName", ("'accounts'", "collides with object 'account'")),
        ("client", "opportunitieS", "pluralName", ("'opportunitieS'", "collides with object 'opportunity'")),
        ("customer", "account", "pluralName", ("'account'", "collides with object 'account'")),
    ],
    ids=["name-is-a-plural", "name-case-folded", "plural-taken", "plural-case-folded", "plural-is-a-name"],
)
def test_names_colliding_with_existing_objects_after_case_folding_are_refused(
    shared: GraphQLClient, name: str, plural: str, field: str, mentions: tuple[str, ...]
) -> None:
    # given the standard objects (account/accounts, opportunity/opportunities, ...)
    before = _object_names(shared)
    # when a new object reuses one of their names, whatever the case
    error = shared.error(CREATE_OBJECT, {"input": {"name": name, "pluralName": plural}})
    # then it is refused naming the object it collides with
    _assert_refused(error, "VALIDATION_ERROR", field, *mentions)
    assert _object_names(shared) == before


@pytest.mark.parametrize("suffix", ["Connection", "Edge", "Filter", "CreateInput", "UpdateInput", "OrderBy"])
def test_names_that_would_generate_an_existing_graphql_type_are_refused(
    shared: GraphQLClient, suffix: str
) -> None:
    # given the standard object opportunity, which generates OpportunityConnection, OpportunityFilter, ...
    name = f"opportunity{suffix}"
    # when an object would itself be typed Opportunity<suffix>
    error = shared.error(CREATE_OBJECT, {"input": {"name": name, "pluralName": f"{name}Items"}})
    # then it is refused naming the GraphQL type and the object that owns it
    _assert_refused(
        error, "VALIDATION_ERROR", "name", f"'{name}'", f"GraphQL type Opportunity{suffix}", "'opportunity'"
    )


def test_object_whose_generated_types_are_taken_by_an_existing_object_is_refused(
    shared: GraphQLClient,
) -> None:
    # given an object whose own type name is GadgetFilter
    shared.data(CREATE_OBJECT, {"input": {"name": "gadgetFilter", "pluralName": "gadgetFilters"}})
    # when an object gadget (which would generate GadgetFilter) is created
    error = shared.error(CREATE_OBJECT, {"input": {"name": "gadget", "pluralName": "gadgets"}})
    # then it is refused naming the clashing type and the other object
    _assert_refused(error, "VALIDATION_ERROR", "name", "GadgetFilter", "'gadgetFilter'")
    assert "gadget" not in _object_names(shared)


@pytest.mark.parametrize(
    ("name", "type_"),
    [
        ("date", "Date"),
        ("decimal", "Decimal"),
        ("jSON", "JSON"),
        ("stringFilter", "StringFilter"),
        ("string", "String"),
        ("intFilter2", "IntFilter2"),
        ("objectDefinition", "ObjectDefinition"),
        ("label", "Label"),
        ("orderDirection", "OrderDirection"),
        ("createObjectInput", "CreateObjectInput"),
    ],
)
def test_names_generating_the_schemas_own_types_are_refused(
    shared: GraphQLClient, name: str, type_: str
) -> None:
    # given types every tenant schema has (scalars, operator inputs, metadata types and inputs)
    before = _object_names(shared)
    # when an object would generate one of them (its record type, or its <Type>Filter)
    error = shared.error(CREATE_OBJECT, {"input": {"name": name, "pluralName": f"{name}Items"}})
    # then it is refused naming the type, and the tenant's API still works
    _assert_refused(
        error, "VALIDATION_ERROR", "name", f"'{name}'", f"GraphQL type {type_}", "already defines"
    )
    assert _object_names(shared) == before


def test_name_generating_another_objects_lookup_filter_is_refused(shared: GraphQLClient) -> None:
    # given the standard account object, whose lookups are filtered through AccountLookupFilter
    # when an object accountLookup (whose own filter would be AccountLookupFilter) is created
    error = shared.error(CREATE_OBJECT, {"input": {"name": "accountLookup", "pluralName": "accountLookups"}})
    # then it is refused naming the clashing type, and filtering through lookups to account still works
    _assert_refused(error, "VALIDATION_ERROR", "name", "'accountLookup'", "AccountLookupFilter", "'account'")
    filtered = shared.data('{ accounts(filter: {parentAccount: {name: {eq: "x"}}}) { totalCount } }')
    assert filtered == {"accounts": {"totalCount": 0}}


# --- updating ---------------------------------------------------------------------------------


def test_update_object_renames_plural_and_merges_labels(shared: GraphQLClient) -> None:
    # given an object with an English label and a record
    shared.data(CREATE_OBJECT, {"input": {"name": "ticket", "pluralName": "tickets", "label": "Ticket"}})
    shared.data("mutation { createTicket(data: {}) { id } }")
    # when its plural is renamed and a Chinese label added
    updated = shared.data(
        UPDATE_OBJECT,
        {
            "input": {
                "name": "ticket",
                "pluralName": "supportTickets",
                "label": {"zh": "工单"},
                "pluralLabel": {"en": "Support Tickets"},
            }
        },
    )["updateObject"]
    # then the labels are merged and the plural changed
    assert updated == {
        "name": "ticket",
        "pluralName": "supportTickets",
        "label": "Ticket",
        "zh": "工单",
        "labels": {"en": "Ticket", "zh": "工单"},
        "pluralLabels": {"en": "Support Tickets"},
    }
    # and the generated list query follows the new plural, with the data kept
    queries, mutations = _root_fields(shared)
    assert "supportTickets" in queries and "tickets" not in queries
    assert "createSupportTickets" in mutations and "createTickets" not in mutations
    assert shared.data("{ supportTickets { totalCount } }") == {"supportTickets": {"totalCount": 1}}


def test_update_object_refuses_colliding_plural(shared: GraphQLClient) -> None:
    # given a custom object invoice/invoices
    shared.data(CREATE_OBJECT, {"input": {"name": "invoice", "pluralName": "invoices"}})
    # when its plural is renamed to another object's plural
    error = shared.error(UPDATE_OBJECT, {"input": {"name": "invoice", "pluralName": "contacts"}})
    # then it is refused on pluralName naming that object
    _assert_refused(error, "VALIDATION_ERROR", "pluralName", "'contacts'", "collides with object 'contact'")
    # when its plural is renamed to its own name
    error = shared.error(UPDATE_OBJECT, {"input": {"name": "invoice", "pluralName": "invoice"}})
    # then it is refused too
    _assert_refused(error, "VALIDATION_ERROR", "pluralName", "must differ from name 'invoice'")
    # and the plural is unchanged
    assert shared.data(OBJECT, {"name": "invoice"})["object"]["pluralName"] == "invoices"
    assert "invoices" in _root_fields(shared)[0]


def test_update_unknown_object_is_not_found(shared: GraphQLClient) -> None:
    error = shared.error(UPDATE_OBJECT, {"input": {"name": "nothingHere", "pluralName": "nothingsHere"}})
    _assert_refused(error, "NOT_FOUND", "name", "'nothingHere'")


def test_update_object_refuses_plural_colliding_with_a_field_of_a_looked_up_object(
    gql: GraphQLClient,
) -> None:
    # given an object invoice (plural bills) looking up account, and a field account.invoices
    gql.data(
        CREATE_OBJECT,
        {
            "input": {
                "name": "invoice",
                "pluralName": "bills",
                "fields": [{"name": "account", "type": "LOOKUP", "target": "account"}],
            }
        },
    )
    gql.data(CREATE_FIELD, {"input": {"object": "account", "name": "invoices", "type": "TEXT"}})
    # when invoice's plural is renamed to invoices (which renames the relation account.bills)
    error = gql.error(UPDATE_OBJECT, {"input": {"name": "invoice", "pluralName": "invoices"}})
    # then it is refused naming the field it would collide with, and the field stays usable
    _assert_refused(error, "VALIDATION_ERROR", "pluralName", "'invoices'", "account.invoices")
    assert gql.data(OBJECT, {"name": "invoice"})["object"]["pluralName"] == "bills"
    created = gql.data('mutation { createAccount(data: {name: "A", invoices: "net 30"}) { invoices } }')
    assert created == {"createAccount": {"invoices": "net 30"}}


# --- deleting ---------------------------------------------------------------------------------


def test_deleting_a_standard_object_is_forbidden(shared: GraphQLClient) -> None:
    # when a standard object is deleted
    error = shared.error(DELETE_OBJECT, {"input": {"name": "account", "confirm": True}})
    # then it is forbidden, and the object and its API remain
    _assert_refused(error, "FORBIDDEN", "name", "'account'", "standard object")
    assert "account" in _object_names(shared)
    assert "accounts" in _root_fields(shared)[0]


def test_deleting_an_unknown_object_is_not_found(shared: GraphQLClient) -> None:
    error = shared.error(DELETE_OBJECT, {"input": {"name": "ghost"}})
    _assert_refused(error, "NOT_FOUND", "name", "'ghost'")


def test_deleting_an_object_that_others_look_up_is_refused_naming_the_lookups(shared: GraphQLClient) -> None:
    # given a project looked up by task.project and milestone.project
    shared.data(CREATE_OBJECT, {"input": {"name": "project", "pluralName": "projects"}})
    for name, plural in (("task", "tasks"), ("milestone", "milestones")):
        shared.data(
            CREATE_OBJECT,
            {
                "input": {
                    "name": name,
                    "pluralName": plural,
                    "fields": [{"name": "project", "type": "LOOKUP", "target": "project"}],
                }
            },
        )
    # when the project object is deleted
    error = shared.error(DELETE_OBJECT, {"input": {"name": "project", "confirm": True}})
    # then it is refused naming both lookups
    _assert_refused(error, "VALIDATION_ERROR", "name", "'project'", "task.project", "milestone.project")
    assert "project" in _object_names(shared)


def test_deleting_an_object_that_looks_up_itself_works(shared: GraphQLClient) -> None:
    # given an object with a lookup to itself and two linked records
    shared.data(
        CREATE_OBJECT,
        {
            "input": {
                "name": "category",
                "pluralName": "categories",
                "fields": [{"name": "parent", "type": "LOOKUP", "target": "category"}],
            }
        },
    )
    root = shared.data("mutation { createCategory(data: {}) { id } }")["createCategory"]["id"]
    shared.data("mutation($p: ID!) { createCategory(data: {parent: $p}) { id } }", {"p": root})
    # when it is deleted with confirm
    deleted = shared.data(DELETE_OBJECT, {"input": {"name": "category", "confirm": True}})
    # then its own lookup does not block it
    assert deleted == {"deleteObject": {"name": "category", "pluralName": "categories"}}
    assert "category" not in _object_names(shared)


def test_deleting_an_empty_object_needs_no_confirm(
    runtime: Runtime, shared: GraphQLClient, shared_tenant: CreatedTenant
) -> None:
    # given an object without records
    shared.data(CREATE_OBJECT, {"input": {"name": "draft", "pluralName": "drafts"}})
    assert "draft" in _table_names(runtime, shared_tenant)
    # when it is deleted without confirm
    deleted = shared.data(DELETE_OBJECT, {"input": {"name": "draft"}})
    # then it is gone with its table
    assert deleted == {"deleteObject": {"name": "draft", "pluralName": "drafts"}}
    assert "draft" not in _table_names(runtime, shared_tenant)


def test_deleting_an_object_holding_records_needs_confirm(
    runtime: Runtime, gql: GraphQLClient, tenant: CreatedTenant
) -> None:
    # given an object holding two records, one of them in the recycle bin
    gql.data(
        CREATE_OBJECT,
        {
            "input": {
                "name": "expense",
                "pluralName": "expenses",
                "fields": [{"name": "amount", "type": "CURRENCY"}],
            }
        },
    )
    first = gql.data('mutation { createExpense(data: {amount: "12.50"}) { id } }')["createExpense"]["id"]
    gql.data('mutation { createExpense(data: {amount: "3"}) { id } }')
    gql.data("mutation($id: ID!) { deleteExpense(id: $id) { id } }", {"id": first})
    assert "expense" in _table_names(runtime, tenant)
    # when it is deleted without confirm
    error = gql.error(DELETE_OBJECT, {"input": {"name": "expense"}})
    # then it is refused as unsafe, counting the records, and nothing changed
    _assert_refused(error, "UNSAFE_CHANGE", "confirm", "'expense'", "holds 2 records", "confirm: true")
    assert error["extensions"]["records"] == 2
    assert gql.data("{ expenses { totalCount } }") == {"expenses": {"totalCount": 1}}
    # when it is deleted with confirm: true
    deleted = gql.data(DELETE_OBJECT, {"input": {"name": "expense", "confirm": True}})
    # then the object, its table and its generated API are gone
    assert deleted == {"deleteObject": {"name": "expense", "pluralName": "expenses"}}
    assert _object_names(gql) == STANDARD_OBJECTS
    assert "expense" not in _table_names(runtime, tenant)
    queries, mutations = _root_fields(gql)
    assert not {"expenses", "expense"} & queries
    assert not {"createExpense", "createExpenses", "updateExpense", "deleteExpense"} & mutations
    gone = gql.error("{ expenses { totalCount } }")
    assert gone["extensions"]["code"] == "VALIDATION_ERROR"
    assert "Cannot query field 'expenses'" in gone["message"]
    assert gql.data('{ __type(name: "Expense") { name } }') == {"__type": None}
    # and an object of the same name can be created again, empty
    gql.data(CREATE_OBJECT, {"input": {"name": "expense", "pluralName": "expenses"}})
    assert gql.data("{ expenses { totalCount } }") == {"expenses": {"totalCount": 0}}
