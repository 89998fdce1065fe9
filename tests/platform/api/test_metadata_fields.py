"""Fields through the metadata API: createField, updateField and deleteField for every field type, their
options, type changes that keep or check the data, and the names a field may not take."""

from __future__ import annotations

import json
import random
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from tessera.services.metadata import create_object
from tessera.services.runtime import Actor, Runtime
from tessera.services.tenants import CreatedTenant
from tessera.testing import GraphQLClient, drop_custom_objects, tenant_scope

CREATE_OBJECT = """
mutation($input: CreateObjectInput!) { createObject(input: $input) { name fields { name type } } }
"""
CREATE_FIELD = """
mutation($input: CreateFieldInput!) {
  createField(input: $input) {
    name type graphqlType required unique indexed readOnly defaultValue options origin position
    label zhLabel: label(locale: "zh") helpText zhHelp: helpText(locale: "zh")
    maxLength precision scale target onDelete format
    picklistOptions { value label zh: label(locale: "zh") color active }
  }
}
"""
UPDATE_FIELD = """
mutation($input: UpdateFieldInput!) {
  updateField(input: $input) {
    name type options required unique indexed readOnly defaultValue maxLength onDelete
  }
}
"""
DELETE_FIELD = """
mutation($input: DeleteFieldInput!) { deleteField(input: $input) { name type } }
"""
FIELD = """
query($object: String!, $name: String!) {
  object(name: $object) { field(name: $name) { name type options unique required defaultValue } }
}
"""
FIELD_NAMES = "query($object: String!) { object(name: $object) { fields { name } } }"


@pytest.fixture(scope="module")
def shared_tenant(runtime: Runtime) -> Iterator[CreatedTenant]:
    """One tenant for the tests that each work on objects of their own."""
    with tenant_scope(runtime) as created:
        yield created


@dataclass
class AdminClient(GraphQLClient):
    """The GraphQL client of the shared tenant, which also sets up objects through the service (set-up
    through the service costs the test one schema build less than through the API)."""

    runtime: Runtime | None = None
    created: CreatedTenant | None = None

    def define(self, name: str, fields: list[dict[str, Any]]) -> None:
        assert self.runtime is not None and self.created is not None
        actor = Actor(self.created.tenant, self.created.admin_user_id)
        create_object(self.runtime, actor, {"name": name, "pluralName": f"{name}s", "fields": fields})


@pytest.fixture
def shared(app: Any, runtime: Runtime, shared_tenant: CreatedTenant) -> Iterator[AdminClient]:
    yield AdminClient(app, shared_tenant.token, runtime=runtime, created=shared_tenant)
    drop_custom_objects(runtime, shared_tenant, keep=MODULE_OBJECTS)


def _type(name: str) -> str:
    return name[0].upper() + name[1:]


def _object(gql: GraphQLClient, name: str, *fields: dict[str, Any]) -> None:
    if isinstance(gql, AdminClient):
        gql.define(name, list(fields))
    else:
        gql.data(CREATE_OBJECT, {"input": {"name": name, "pluralName": f"{name}s", "fields": list(fields)}})


def _create(gql: GraphQLClient, obj: str, data: dict[str, Any], selection: str = "id") -> dict[str, Any]:
    document = (
        f"mutation($data: {_type(obj)}CreateInput!) {{ create{_type(obj)}(data: $data) {{ {selection} }} }}"
    )
    return gql.data(document, {"data": data})[f"create{_type(obj)}"]


def _rows(gql: GraphQLClient, obj: str, selection: str) -> list[dict[str, Any]]:
    order = "[{createdAt: AscNullsLast}, {id: AscNullsLast}]"
    document = f"{{ {obj}s(orderBy: {order}) {{ edges {{ node {{ {selection} }} }} }} }}"
    return [edge["node"] for edge in gql.data(document)[f"{obj}s"]["edges"]]


def _field(gql: GraphQLClient, obj: str, name: str) -> dict[str, Any] | None:
    return gql.data(FIELD, {"object": obj, "name": name})["object"]["field"]


def _assert_refused(error: dict[str, Any], code: str, field: str | None, *mentions: str) -> None:
    assert error["extensions"]["code"] == code, error
    assert error["extensions"].get("field") == field, error
    for text in mentions:
        assert text in error["message"], (text, error["message"])


def _columns(runtime: Runtime, tenant: CreatedTenant, table: str) -> dict[str, str]:
    schema = tenant.tenant.schema_name
    inspector = sa.inspect(runtime.db.tenant(schema))
    return {c["name"]: str(c["type"]) for c in inspector.get_columns(table, schema=schema)}


# --- every type -------------------------------------------------------------------------------

ROUND_TRIPS = [
    # (type, options, written value, value read back, graphqlType)
    ("TEXT", {"maxLength": 20}, "héllo 世界", "héllo 世界", "String"),
    ("LONG_TEXT", {}, "line\n" * 2000, "line\n" * 2000, "String"),
    ("INTEGER", {"min": -100}, -42, -42, "Int"),
    ("NUMBER", {"precision": 10, "scale": 3}, "3.5", "3.500", "Decimal"),
    ("CURRENCY", {}, "1234.5", "1234.50", "Decimal"),
    ("PERCENT", {}, "12.5", "12.5000", "Decimal"),
    ("BOOLEAN", {}, False, False, "Boolean"),
    ("DATE", {}, "2024-02-29", "2024-02-29", "Date"),
    ("DATETIME", {}, "2026-02-03T10:20:30.123456+02:00", "2026-02-03T08:20:30.123Z", "DateTime"),
    ("EMAIL", {}, "Ann.Lee@Example.COM", "ann.lee@example.com", "String"),
    ("PHONE", {}, "+86 10 1234-5678", "+86 10 1234-5678", "String"),
    ("URL", {}, "https://example.com/a?b=c", "https://example.com/a?b=c", "String"),
    ("PICKLIST", {"options": [{"value": "low"}, {"value": "high"}]}, "high", "high", "String"),
    (
        "MULTI_PICKLIST",
        {"options": [{"value": "x"}, {"value": "y"}, {"value": "z"}]},
        ["z", "x", "z"],
        ["x", "z"],
        "[String!]",
    ),
    ("LOOKUP", {"target": "account"}, None, None, "Account"),
    ("AUTO_NUMBER", {"format": "S-{0000}", "startAt": 7}, None, None, "String"),
    ("JSON", {}, {"k": [1, 2.5, {"n": None}], "s": "ü"}, {"k": [1, 2.5, {"n": None}], "s": "ü"}, "JSON"),
]
MODULE_OBJECTS = frozenset({"sampler", "defaultProbe"})


def _sample_field(field_type: str) -> str:
    return "f" + "".join(part.capitalize() for part in field_type.split("_"))


@pytest.fixture(scope="module")
def sampler(app: Any, shared_tenant: CreatedTenant) -> dict[str, dict[str, Any]]:
    """An object with one field of every type, each added by its own createField (batched in two requests
    of aliased mutations, so the module builds few schemas)."""
    gql = GraphQLClient(app, shared_tenant.token)
    _object(gql, "sampler")
    created: dict[str, dict[str, Any]] = {}
    for chunk in (ROUND_TRIPS[:9], ROUND_TRIPS[9:]):
        aliases = [f"c{i}: createField(input: $i{i}) {{ ...def }}" for i in range(len(chunk))]
        params = ", ".join(f"$i{i}: CreateFieldInput!" for i in range(len(chunk)))
        document = (
            f"mutation({params}) {{ {' '.join(aliases)} }} fragment def on FieldDefinition "
            "{ name type graphqlType origin readOnly options }"
        )
        variables = {
            f"i{i}": {"object": "sampler", "name": _sample_field(field_type), "type": field_type, **options}
            for i, (field_type, options, *_rest) in enumerate(chunk)
        }
        data = gql.data(document, variables)
        created.update({field["type"]: field for field in data.values()})
    return created


@pytest.mark.parametrize(
    ("field_type", "options", "written", "expected", "graphql_type"),
    ROUND_TRIPS,
    ids=[case[0] for case in ROUND_TRIPS],
)
def test_every_field_type_round_trips_through_the_generated_api(
    shared: GraphQLClient,
    sampler: dict[str, dict[str, Any]],
    field_type: str,
    options: dict[str, Any],
    written: Any,
    expected: Any,
    graphql_type: str,
) -> None:
    # given a field of the type, created through createField
    name = _sample_field(field_type)
    field = sampler[field_type]
    assert (field["name"], field["type"], field["graphqlType"], field["origin"]) == (
        name,
        field_type,
        graphql_type,
        "custom",
    )
    assert field["readOnly"] is (field_type == "AUTO_NUMBER")
    selection = f"{name} {{ id name }}" if field_type == "LOOKUP" else name
    if field_type == "LOOKUP":
        written = shared.data('mutation { createAccount(data: {name: "Target"}) { id } }')["createAccount"][
            "id"
        ]
        expected = {"id": written, "name": "Target"}
    data = {} if field_type == "AUTO_NUMBER" else {name: written}
    # when a value is written through the generated create mutation
    record = _create(shared, "sampler", data, f"id {selection}")
    # then it comes back in its API form from the mutation, the single read and the list
    if field_type == "AUTO_NUMBER":
        assert re.fullmatch(r"S-\d{4}", record[name]) and int(record[name][2:]) >= 7, record
        expected = record[name]
    assert record[name] == expected
    one = shared.data(f"query($id: ID!) {{ sampler(id: $id) {{ {selection} }} }}", {"id": record["id"]})
    assert one["sampler"][name] == expected
    listed = shared.data(
        f"query($id: ID!) {{ samplers(filter: {{id: {{eq: $id}}}}) "
        f"{{ edges {{ node {{ {selection} }} }} }} }}",
        {"id": record["id"]},
    )
    assert listed["samplers"]["edges"] == [{"node": {name: expected}}]


def test_decimal_values_beyond_scale_or_precision_are_refused_naming_the_field(shared: GraphQLClient) -> None:
    # given a NUMBER(6, 2) field
    _object(shared, "measure", {"name": "size", "type": "NUMBER", "precision": 6, "scale": 2})
    # when a value has three decimals, or five digits before the point
    too_fine = shared.error('mutation { createMeasure(data: {size: "1.234"}) { id } }')
    too_big = shared.error('mutation { createMeasure(data: {size: "12345"}) { id } }')
    # then each is refused naming the field and the rule
    _assert_refused(too_fine, "VALIDATION_ERROR", "size", "more than 2 decimal places")
    _assert_refused(too_big, "VALIDATION_ERROR", "size", "more than 4 digits before the decimal point")
    assert _rows(shared, "measure", "size") == []


def test_field_definition_reports_its_options_labels_and_help_text(shared: GraphQLClient) -> None:
    # given an object
    _object(shared, "survey")
    # when a picklist field is created with labels, help text and colored options
    field = shared.data(
        CREATE_FIELD,
        {
            "input": {
                "object": "survey",
                "name": "mood",
                "type": "PICKLIST",
                "label": {"en": "Mood", "zh": "心情"},
                "helpText": {"en": "How the customer felt", "zh": "客户的感受"},
                "indexed": True,
                "options": [
                    {"value": "happy", "label": {"en": "Happy", "zh": "开心"}, "color": "#43a047"},
                    {"value": "sad", "label": "Sad", "active": False},
                ],
            }
        },
    )["createField"]
    # then the definition returns every setting, in both languages
    assert field["label"] == "Mood" and field["zhLabel"] == "心情"
    assert field["helpText"] == "How the customer felt" and field["zhHelp"] == "客户的感受"
    assert (field["required"], field["unique"], field["indexed"], field["readOnly"]) == (
        False,
        False,
        True,
        False,
    )
    assert field["picklistOptions"] == [
        {"value": "happy", "label": "Happy", "zh": "开心", "color": "#43a047", "active": True},
        {"value": "sad", "label": "Sad", "zh": "Sad", "color": None, "active": False},
    ]
    # and an inactive option cannot be chosen
    refused = shared.error('mutation { createSurvey(data: {mood: "sad"}) { id } }')
    _assert_refused(refused, "VALIDATION_ERROR", "mood", "'sad' is not one of happy")


def test_picklist_needs_options_and_option_values_are_unique(shared: GraphQLClient) -> None:
    # given an object
    _object(shared, "poll")
    # when a picklist has no options, or the same value twice
    missing = shared.error(CREATE_FIELD, {"input": {"object": "poll", "name": "choice", "type": "PICKLIST"}})
    twice = shared.error(
        CREATE_FIELD,
        {
            "input": {
                "object": "poll",
                "name": "choice",
                "type": "PICKLIST",
                "options": [{"value": "a"}, {"value": "a"}],
            }
        },
    )
    # then both are refused naming the options
    _assert_refused(missing, "VALIDATION_ERROR", "options", "option 'options'")
    _assert_refused(twice, "VALIDATION_ERROR", "options", "option value 'a' appears twice")
    assert _field(shared, "poll", "choice") is None


def test_option_of_another_type_is_refused(shared: GraphQLClient) -> None:
    # given an object
    _object(shared, "memo")
    # when a TEXT field is given a decimal option
    error = shared.error(
        CREATE_FIELD, {"input": {"object": "memo", "name": "body", "type": "TEXT", "scale": 2}}
    )
    # then the option is named as not applying
    _assert_refused(error, "VALIDATION_ERROR", "scale", "option 'scale' does not apply to TEXT fields")


# --- required, unique, default, read-only -----------------------------------------------------


def test_required_field_is_enforced_on_create_and_update(shared: GraphQLClient) -> None:
    # given an object with a required field
    _object(shared, "permit")
    field = shared.data(
        CREATE_FIELD, {"input": {"object": "permit", "name": "code", "type": "TEXT", "required": True}}
    )
    assert field["createField"]["required"] is True
    # when a record is created without it
    missing = shared.error("mutation { createPermit(data: {}) { id } }")
    # then it is refused naming the field
    assert missing["extensions"]["code"] == "VALIDATION_ERROR"
    assert "code" in missing["message"] and "required" in missing["message"]
    # when a record with it is emptied
    permit = shared.data('mutation { createPermit(data: {code: "P-1"}) { id } }')["createPermit"]["id"]
    emptied = shared.error(
        "mutation($id: ID!) { updatePermit(id: $id, data: {code: null}) { id } }", {"id": permit}
    )
    # then it is refused naming the field, and the value stays
    _assert_refused(emptied, "VALIDATION_ERROR", "code", "code is required")
    assert _rows(shared, "permit", "code") == [{"code": "P-1"}]


def test_unique_field_refuses_duplicates_naming_the_field(shared: GraphQLClient) -> None:
    # given a unique field holding "A-1"
    _object(shared, "badge")
    shared.data(
        CREATE_FIELD, {"input": {"object": "badge", "name": "serial", "type": "TEXT", "unique": True}}
    )
    first = _create(shared, "badge", {"serial": "A-1"})["id"]
    # when another record takes the same value
    error = shared.error('mutation { createBadge(data: {serial: "A-1"}) { id } }')
    # then it is refused naming the field, the value and the record that holds it
    _assert_refused(error, "VALIDATION_ERROR", "serial", "serial: value 'A-1' is already used by", first)
    # and two records of one call cannot share a value either
    bulk = shared.error('mutation { createBadges(data: [{serial: "B"}, {serial: "B"}]) { id } }')
    assert bulk["extensions"]["code"] == "VALIDATION_ERROR" and bulk["extensions"]["field"] == "serial"
    assert "value 'B' is already used by record 0 of this call" in bulk["message"]
    assert _rows(shared, "badge", "serial") == [{"serial": "A-1"}]


def test_making_a_field_unique_over_duplicate_data_is_unsafe(
    runtime: Runtime, shared: GraphQLClient, shared_tenant: CreatedTenant
) -> None:
    # given a field whose records hold a duplicate
    _object(shared, "sticker", {"name": "label", "type": "TEXT"})
    for value in ("dup", "dup", "solo"):
        _create(shared, "sticker", {"label": value})
    # when it is made unique
    error = shared.error(UPDATE_FIELD, {"input": {"object": "sticker", "name": "label", "unique": True}})
    # then the change is refused as unsafe naming the field, and the definition is unchanged
    _assert_refused(error, "UNSAFE_CHANGE", "unique", "sticker.label", "duplicate values")
    assert _field(shared, "sticker", "label")["unique"] is False
    schema = shared_tenant.tenant.schema_name
    indexes = sa.inspect(runtime.db.tenant(schema)).get_indexes("sticker", schema=schema)
    assert not any(index["unique"] for index in indexes)
    # when the duplicate is resolved, making it unique works and is enforced
    ids = [row["id"] for row in _rows(shared, "sticker", "id label") if row["label"] == "dup"]
    shared.data(
        'mutation($id: ID!) { updateSticker(id: $id, data: {label: "other"}) { id } }', {"id": ids[1]}
    )
    assert (
        shared.data(UPDATE_FIELD, {"input": {"object": "sticker", "name": "label", "unique": True}})[
            "updateField"
        ]["unique"]
        is True
    )
    indexes = sa.inspect(runtime.db.tenant(schema)).get_indexes("sticker", schema=schema)
    assert [(i["column_names"], i["unique"]) for i in indexes if i["unique"]] == [(["label"], True)]
    refused = shared.error('mutation { createSticker(data: {label: "solo"}) { id } }')
    _assert_refused(refused, "VALIDATION_ERROR", "label", "'solo' is already used")


def test_default_value_is_applied_on_create_unless_a_value_is_given(shared: GraphQLClient) -> None:
    # given fields with defaults of several types
    _object(
        shared,
        "order1",
        {
            "name": "status",
            "type": "PICKLIST",
            "options": [{"value": "open"}, {"value": "closed"}],
            "defaultValue": "open",
        },
        {"name": "quantity", "type": "INTEGER", "defaultValue": 1},
        {"name": "rush", "type": "BOOLEAN", "defaultValue": False},
        {"name": "price", "type": "CURRENCY", "defaultValue": "9.9"},
        {"name": "due", "type": "DATE", "defaultValue": "2026-12-31"},
        {
            "name": "tags",
            "type": "MULTI_PICKLIST",
            "options": [{"value": "a"}, {"value": "b"}],
            "defaultValue": ["b", "a"],
        },
    )
    # then the definitions hold the defaults in API form
    assert _field(shared, "order1", "price")["defaultValue"] == "9.90"
    assert _field(shared, "order1", "tags")["defaultValue"] == ["a", "b"]
    # when a record is created with none of them, and one with its own values
    selection = "status quantity rush price due tags"
    defaulted = _create(shared, "order1", {}, selection)
    given = _create(
        shared, "order1", {"status": "closed", "quantity": 5, "rush": True, "tags": []}, selection
    )
    # then the defaults fill what was not given
    assert defaulted == {
        "status": "open",
        "quantity": 1,
        "rush": False,
        "price": "9.90",
        "due": "2026-12-31",
        "tags": ["a", "b"],
    }
    assert given == {
        "status": "closed",
        "quantity": 5,
        "rush": True,
        "price": "9.90",
        "due": "2026-12-31",
        "tags": [],
    }


@pytest.fixture(scope="module")
def default_probe(app: Any, shared_tenant: CreatedTenant) -> str:
    _object(GraphQLClient(app, shared_tenant.token), "defaultProbe")
    return "defaultProbe"


@pytest.mark.parametrize(
    ("spec", "field", "mentions"),
    [
        (
            {"type": "PICKLIST", "options": [{"value": "open"}], "defaultValue": "nope"},
            "defaultValue",
            ("defaultValue", "'nope' is not one of open"),
        ),
        (
            {"type": "INTEGER", "defaultValue": "many"},
            "defaultValue",
            ("defaultValue", "not a valid integer"),
        ),
        ({"type": "DATE", "defaultValue": "someday"}, "defaultValue", ("defaultValue", "not a valid date")),
        (
            {"type": "TEXT", "maxLength": 3, "defaultValue": "toolong"},
            "defaultValue",
            ("defaultValue", "length"),
        ),
        (
            {"type": "LOOKUP", "target": "account", "defaultValue": "x"},
            "defaultValue",
            ("LOOKUP fields cannot have a default value",),
        ),
        ({"type": "LONG_TEXT", "unique": True}, "unique", ("LONG_TEXT fields cannot be unique",)),
    ],
    ids=["picklist", "integer", "date", "text-length", "lookup", "unique-long-text"],
)
def test_invalid_defaults_and_flags_are_refused(
    shared: GraphQLClient, default_probe: str, spec: dict[str, Any], field: str, mentions: tuple[str, ...]
) -> None:
    # given an object
    obj = default_probe
    # when a field with an invalid default or flag is created
    error = shared.error(CREATE_FIELD, {"input": {"object": obj, "name": "probe", **spec}})
    # then it is refused naming the setting
    _assert_refused(error, "VALIDATION_ERROR", field, *mentions)
    assert _field(shared, obj, "probe") is None


def test_invalid_default_is_refused_on_update_too(shared: GraphQLClient) -> None:
    # given an integer field with a valid default
    _object(shared, "counter", {"name": "step", "type": "INTEGER", "defaultValue": 1})
    # when its default is changed to a text
    error = shared.error(
        UPDATE_FIELD, {"input": {"object": "counter", "name": "step", "defaultValue": "two"}}
    )
    # then it is refused and the old default stays
    _assert_refused(error, "VALIDATION_ERROR", "defaultValue", "not a valid integer")
    assert _field(shared, "counter", "step")["defaultValue"] == 1


def test_read_only_field_cannot_be_written(shared: GraphQLClient) -> None:
    # given a read-only field
    _object(shared, "ledger", {"name": "note", "type": "TEXT"})
    created = shared.data(
        CREATE_FIELD, {"input": {"object": "ledger", "name": "checksum", "type": "TEXT", "readOnly": True}}
    )
    assert created["createField"]["readOnly"] is True
    # when a record is created or updated with a value for it
    on_create = shared.error('mutation { createLedger(data: {note: "n", checksum: "x"}) { id } }')
    record = _create(shared, "ledger", {"note": "n"}, "id checksum")
    on_update = shared.error(
        'mutation($id: ID!) { updateLedger(id: $id, data: {checksum: "x"}) { id } }', {"id": record["id"]}
    )
    # then both writes are refused naming the field, and it still reads (empty)
    for error in (on_create, on_update):
        assert error["extensions"]["code"] == "VALIDATION_ERROR"
        assert "'checksum'" in error["message"]
    assert record["checksum"] is None
    assert _rows(shared, "ledger", "note checksum") == [{"note": "n", "checksum": None}]


def test_read_only_field_sent_through_variables_is_a_validation_error(shared: GraphQLClient) -> None:
    # given a read-only field
    _object(
        shared,
        "journal",
        {"name": "note", "type": "TEXT"},
        {"name": "checksum", "type": "TEXT", "readOnly": True},
    )
    # when a record is created with a value for it through variables
    error = shared.error(
        "mutation($data: JournalCreateInput!) { createJournal(data: $data) { id } }",
        {"data": {"note": "n", "checksum": "x"}},
    )
    # then it is refused as invalid input naming the field
    assert error["extensions"]["code"] == "VALIDATION_ERROR", error
    assert "checksum" in error["message"]
    assert _rows(shared, "journal", "note") == []


# --- lookups ----------------------------------------------------------------------------------


def test_lookup_to_an_unknown_object_is_refused(shared: GraphQLClient) -> None:
    # given an object
    _object(shared, "pointer")
    # when a lookup targets an object that does not exist
    error = shared.error(
        CREATE_FIELD, {"input": {"object": "pointer", "name": "ref", "type": "LOOKUP", "target": "nowhere"}}
    )
    # then it is refused naming the target
    _assert_refused(error, "VALIDATION_ERROR", "target", "no object 'nowhere'")
    assert _field(shared, "pointer", "ref") is None


def test_field_on_an_unknown_object_is_not_found(shared: GraphQLClient) -> None:
    error = shared.error(CREATE_FIELD, {"input": {"object": "nowhere", "name": "x", "type": "TEXT"}})
    _assert_refused(error, "NOT_FOUND", "object", "no object 'nowhere'")


def test_lookup_on_delete_rules(shared: GraphQLClient) -> None:
    # given three lookups to account with each on-delete rule, and an account behind each
    _object(shared, "visit")
    for name, rule in (("soft", None), ("chain", "CASCADE"), ("guard", "RESTRICT")):
        spec = {"object": "visit", "name": name, "type": "LOOKUP", "target": "account"}
        field = shared.data(CREATE_FIELD, {"input": {**spec, **({"onDelete": rule} if rule else {})}})[
            "createField"
        ]
        assert field["onDelete"] == (rule or "SET_NULL")
    accounts = {
        name: shared.data(f'mutation {{ createAccount(data: {{name: "{name}"}}) {{ id }} }}')[
            "createAccount"
        ]["id"]
        for name in ("soft", "chain", "guard")
    }
    visits = {name: _create(shared, "visit", {name: accounts[name]})["id"] for name in accounts}
    delete_account = "mutation($id: ID!) { deleteAccount(id: $id) { id } }"
    # when the account behind a SET_NULL lookup is deleted, the visit stays with an empty lookup
    shared.data(delete_account, {"id": accounts["soft"]})
    read = "query($id: ID!) { visit(id: $id) { soft { id } chain { id } } }"
    assert shared.data(read, {"id": visits["soft"]}) == {"visit": {"soft": None, "chain": None}}
    # when the account behind a CASCADE lookup is deleted, the visit goes with it
    shared.data(delete_account, {"id": accounts["chain"]})
    assert shared.data(read, {"id": visits["chain"]}) == {"visit": None}
    # when the account behind a RESTRICT lookup is deleted, the delete is refused naming the lookup
    error = shared.error(delete_account, {"id": accounts["guard"]})
    _assert_refused(error, "VALIDATION_ERROR", "id", "visit.guard", "restrict")
    assert error["extensions"]["blockedBy"] == "visit.guard"
    # when the rule is changed to CASCADE, the delete goes through and takes the visit along
    updated = shared.data(
        UPDATE_FIELD, {"input": {"object": "visit", "name": "guard", "onDelete": "CASCADE"}}
    )
    assert updated["updateField"]["onDelete"] == "CASCADE"
    shared.data(delete_account, {"id": accounts["guard"]})
    assert shared.data("{ visits { totalCount } }") == {"visits": {"totalCount": 1}}


def test_lookup_target_and_type_cannot_change(shared: GraphQLClient) -> None:
    # given a lookup to account
    _object(shared, "referral", {"name": "source", "type": "LOOKUP", "target": "account"})
    # when its target or its type is changed
    retarget = shared.error(
        UPDATE_FIELD, {"input": {"object": "referral", "name": "source", "target": "contact"}}
    )
    retype = shared.error(UPDATE_FIELD, {"input": {"object": "referral", "name": "source", "type": "TEXT"}})
    # then both are refused as unsafe
    for error in (retarget, retype):
        _assert_refused(error, "UNSAFE_CHANGE", "target", "lookup's type and target cannot change")
    assert _field(shared, "referral", "source")["type"] == "LOOKUP"


# --- auto numbers -----------------------------------------------------------------------------


def test_auto_number_added_to_existing_records_numbers_them_oldest_first(shared: GraphQLClient) -> None:
    # given three records created one after the other
    _object(shared, "claim", {"name": "title", "type": "TEXT"})
    ids = [_create(shared, "claim", {"title": title})["id"] for title in ("first", "second", "third")]
    # when an auto-number field is added
    field = shared.data(
        CREATE_FIELD,
        {
            "input": {
                "object": "claim",
                "name": "claimNumber",
                "type": "AUTO_NUMBER",
                "format": "CLM-{0000}",
                "startAt": 100,
            }
        },
    )["createField"]
    # then it is read-only, and the existing records are numbered oldest first in the format
    assert field["readOnly"] is True and field["format"] == "CLM-{0000}"
    numbers = {row["id"]: row["claimNumber"] for row in _rows(shared, "claim", "id claimNumber")}
    assert [numbers[i] for i in ids] == ["CLM-0100", "CLM-0101", "CLM-0102"]
    # and the next record continues the sequence
    assert _create(shared, "claim", {"title": "fourth"}, "claimNumber") == {"claimNumber": "CLM-0103"}


def test_re_created_auto_number_field_starts_from_its_own_start(shared: GraphQLClient) -> None:
    # given an auto-number field that numbered two records, deleted with its data
    _object(shared, "coupon", {"name": "code", "type": "TEXT"})
    for code in ("a", "b"):
        _create(shared, "coupon", {"code": code})
    spec = {"object": "coupon", "name": "serial", "type": "AUTO_NUMBER", "format": "C{000}", "startAt": 1}
    shared.data(CREATE_FIELD, {"input": spec})
    assert [row["serial"] for row in _rows(shared, "coupon", "serial")] == ["C001", "C002"]
    shared.data(DELETE_FIELD, {"input": {"object": "coupon", "name": "serial", "confirm": True}})
    # when a new auto-number field of the same name is added, starting at 1
    shared.data(CREATE_FIELD, {"input": spec})
    # then the records are numbered from 1 again
    assert [row["serial"] for row in _rows(shared, "coupon", "serial")] == ["C001", "C002"]


# --- type and option changes ------------------------------------------------------------------

SAFE_CHANGES = {
    # field: (spec, written value, change, value read back, column type after: PostgreSQL, SQLite)
    "textToLong": (
        {"type": "TEXT", "maxLength": 10},
        "ten chars!",
        {"type": "LONG_TEXT"},
        "ten chars!",
        ("TEXT", "TEXT"),
    ),
    "integerToNumber": (
        {"type": "INTEGER"},
        1234567,
        {"type": "NUMBER"},
        "1234567.00",
        ("NUMERIC(18, 2)", "FLOAT"),
    ),
    "widerPrecision": (
        {"type": "NUMBER", "precision": 6, "scale": 2},
        "1234.56",
        {"precision": 12, "scale": 4},
        "1234.5600",
        ("NUMERIC(12, 4)", "FLOAT"),
    ),
    "widerMaxLength": (
        {"type": "TEXT", "maxLength": 5},
        "12345",
        {"maxLength": 50},
        "12345",
        ("VARCHAR(50)", "VARCHAR(50)"),
    ),
    "moreOptions": (
        {"type": "PICKLIST", "options": [{"value": "a"}, {"value": "b"}]},
        "b",
        {"options": [{"value": "a"}, {"value": "b"}, {"value": "c"}]},
        "b",
        ("VARCHAR(100)", "VARCHAR(100)"),
    ),
    "emailToText": (
        {"type": "EMAIL"},
        "x@y.io",
        {"type": "TEXT"},
        "x@y.io",
        ("VARCHAR(255)", "VARCHAR(255)"),
    ),
}


def _update_fields(gql: GraphQLClient, obj: str, changes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Apply several updateField mutations in one request (one schema build), each its own change."""
    params = ", ".join(f"$u{i}: UpdateFieldInput!" for i in range(len(changes)))
    aliases = " ".join(f"{name}: updateField(input: $u{i}) {{ type }}" for i, name in enumerate(changes))
    variables = {
        f"u{i}": {"object": obj, "name": name, **change} for i, (name, change) in enumerate(changes.items())
    }
    return gql.data(f"mutation({params}) {{ {aliases} }}", variables)


def test_safe_changes_keep_the_data(
    runtime: Runtime, shared: GraphQLClient, shared_tenant: CreatedTenant, backend: str
) -> None:
    # given fields holding a value each
    _object(shared, "safe", *[{"name": name, **case[0]} for name, case in SAFE_CHANGES.items()])
    record = _create(shared, "safe", {name: case[1] for name, case in SAFE_CHANGES.items()})["id"]
    # when each one's type or options change safely
    updated = _update_fields(shared, "safe", {name: case[2] for name, case in SAFE_CHANGES.items()})
    # then the definitions changed and the values are kept, in the new types' form
    assert {name: value["type"] for name, value in updated.items()} == {
        name: case[2].get("type", case[0]["type"]) for name, case in SAFE_CHANGES.items()
    }
    [row] = _rows(shared, "safe", "id " + " ".join(SAFE_CHANGES))
    assert row == {"id": record, **{name: case[3] for name, case in SAFE_CHANGES.items()}}
    columns = _columns(runtime, shared_tenant, "safe")
    column = 0 if backend == "postgresql" else 1
    assert {name: columns[_snake(name)] for name in SAFE_CHANGES} == {
        name: case[4][column] for name, case in SAFE_CHANGES.items()
    }
    # and new values the new definitions allow are accepted
    widened = {"moreOptions": "c", "widerMaxLength": "x" * 50}
    assert _create(shared, "safe", widened, "moreOptions widerMaxLength") == widened


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def test_checked_conversion_works_when_every_value_converts(shared: GraphQLClient) -> None:
    # given a TEXT field whose values all read as whole numbers
    _object(shared, "meter", {"name": "reading", "type": "TEXT"})
    ids = [_create(shared, "meter", {"reading": value})["id"] for value in ("12", "-3", "4.0")]
    empty = _create(shared, "meter", {})["id"]
    # when it becomes an INTEGER
    updated = shared.data(UPDATE_FIELD, {"input": {"object": "meter", "name": "reading", "type": "INTEGER"}})
    # then every value is converted, and empty stays empty
    assert updated["updateField"]["type"] == "INTEGER"
    values = {row["id"]: row["reading"] for row in _rows(shared, "meter", "id reading")}
    assert values == {ids[0]: 12, ids[1]: -3, ids[2]: 4, empty: None}
    # and the field now filters and sorts as a number
    data = shared.data(
        "{ meters(filter: {reading: {gt: 3}}, orderBy: [{reading: DescNullsLast}]) "
        "{ edges { node { reading } } } }"
    )
    assert [e["node"]["reading"] for e in data["meters"]["edges"]] == [12, 4]


def test_checked_conversion_is_refused_when_some_values_do_not_convert(
    runtime: Runtime, shared: GraphQLClient, shared_tenant: CreatedTenant
) -> None:
    # given a TEXT field where two of four values are not whole numbers
    _object(shared, "gauge", {"name": "reading", "type": "TEXT", "maxLength": 40})
    values = ["12", "twelve", "7", "1.5"]
    ids = [_create(shared, "gauge", {"reading": value})["id"] for value in values]
    before_columns = _columns(runtime, shared_tenant, "gauge")
    # when it is changed to INTEGER
    error = shared.error(UPDATE_FIELD, {"input": {"object": "gauge", "name": "reading", "type": "INTEGER"}})
    # then the change is refused as unsafe, counting the bad values and naming example records
    _assert_refused(error, "UNSAFE_CHANGE", "type", "gauge.reading", "2 of 4 records", "INTEGER")
    assert error["extensions"]["records"] == 2
    assert sorted(error["extensions"]["examples"]) == sorted([ids[1], ids[3]])
    # and the data, the definition and the column are unchanged
    assert _rows(shared, "gauge", "id reading") == [
        {"id": i, "reading": v} for i, v in zip(ids, values, strict=True)
    ]
    field = _field(shared, "gauge", "reading")
    assert (field["type"], field["options"]) == ("TEXT", {"maxLength": 40})
    assert _columns(runtime, shared_tenant, "gauge") == before_columns


CONVERSIONS = {
    # field: (spec, written value, change, value read back)
    "dateToDatetime": ({"type": "DATE"}, "2026-03-04", {"type": "DATETIME"}, "2026-03-04T00:00:00.000Z"),
    "datetimeToDate": ({"type": "DATETIME"}, "2026-03-04T00:00:00Z", {"type": "DATE"}, "2026-03-04"),
    "numberToInteger": ({"type": "NUMBER"}, "2.00", {"type": "INTEGER"}, 2),
    "integerToText": ({"type": "INTEGER"}, 42, {"type": "TEXT"}, "42"),
    "booleanToText": ({"type": "BOOLEAN"}, True, {"type": "TEXT"}, "true"),
    "textToBoolean": ({"type": "TEXT"}, "FALSE", {"type": "BOOLEAN"}, False),
    "narrowerScale": ({"type": "CURRENCY"}, "1.50", {"scale": 1}, "1.5"),
    "picklistToMulti": (
        {"type": "PICKLIST", "options": [{"value": "a"}]},
        "a",
        {"type": "MULTI_PICKLIST", "options": [{"value": "a"}]},
        ["a"],
    ),
    "textToEmail": ({"type": "TEXT"}, "Ann@Example.com", {"type": "EMAIL"}, "ann@example.com"),
}


def test_checked_conversions_convert_each_value(shared: GraphQLClient) -> None:
    # given fields holding values that fit their new types
    _object(shared, "convert", *[{"name": name, **case[0]} for name, case in CONVERSIONS.items()])
    record = _create(shared, "convert", {name: case[1] for name, case in CONVERSIONS.items()})["id"]
    # when each one's type (or scale) changes
    updated = _update_fields(shared, "convert", {name: case[2] for name, case in CONVERSIONS.items()})
    assert {name: value["type"] for name, value in updated.items()} == {
        name: case[2].get("type", case[0]["type"]) for name, case in CONVERSIONS.items()
    }
    # then every value is converted to its new type's API form
    [row] = _rows(shared, "convert", "id " + " ".join(CONVERSIONS))
    assert row == {"id": record, **{name: case[3] for name, case in CONVERSIONS.items()}}


@pytest.mark.parametrize(
    ("spec", "written", "change"),
    [
        ({"type": "DATETIME"}, "2026-03-04T10:00:00Z", {"type": "DATE"}),
        ({"type": "NUMBER"}, "2.50", {"type": "INTEGER"}),
        ({"type": "CURRENCY"}, "1.55", {"scale": 1}),
        ({"type": "INTEGER"}, 7000, {"type": "CURRENCY", "precision": 5, "scale": 2}),
        ({"type": "TEXT"}, "maybe", {"type": "BOOLEAN"}),
        ({"type": "TEXT"}, "c", {"type": "PICKLIST", "options": [{"value": "a"}]}),
    ],
    ids=["time-of-day", "fraction", "narrower-scale", "too-many-digits", "not-boolean", "not-an-option"],
)
def test_checked_conversions_refuse_values_that_would_change(
    shared: GraphQLClient, spec: dict[str, Any], written: Any, change: dict[str, Any]
) -> None:
    # given a field holding a value the new definition cannot hold as it is
    _object(shared, "noConvert", {"name": "value1", **spec})
    record = _create(shared, "noConvert", {"value1": written}, "id value1")
    # when the type (or the scale) changes
    error = shared.error(UPDATE_FIELD, {"input": {"object": "noConvert", "name": "value1", **change}})
    # then it is refused naming the record, and the value and definition stay
    assert error["extensions"]["code"] == "UNSAFE_CHANGE"
    assert error["extensions"]["records"] == 1 and error["extensions"]["examples"] == [record["id"]]
    assert "noConvert.value1" in error["message"]
    assert _rows(shared, "noConvert", "id value1") == [record]
    assert _field(shared, "noConvert", "value1")["type"] == spec["type"]


def test_json_field_converted_to_text_holds_json_text(shared: GraphQLClient) -> None:
    # given a JSON field holding an object
    _object(shared, "payload", {"name": "body", "type": "JSON"})
    _create(shared, "payload", {"body": {"a": 1, "b": [True, None]}})
    # when it becomes a LONG_TEXT field
    shared.data(UPDATE_FIELD, {"input": {"object": "payload", "name": "body", "type": "LONG_TEXT"}})
    # then the text is the JSON of the value
    [row] = _rows(shared, "payload", "body")
    assert json.loads(row["body"]) == {"a": 1, "b": [True, None]}


def test_narrowing_max_length_below_the_data_is_refused(shared: GraphQLClient) -> None:
    # given a TEXT field holding values of 2, 5 and 9 characters
    _object(shared, "slogan", {"name": "text1", "type": "TEXT", "maxLength": 30})
    ids = [_create(shared, "slogan", {"text1": value})["id"] for value in ("ab", "abcde", "abcdefghi")]
    # when its maxLength is narrowed below the longest value
    error = shared.error(UPDATE_FIELD, {"input": {"object": "slogan", "name": "text1", "maxLength": 4}})
    # then it is refused counting the values that do not fit
    _assert_refused(error, "UNSAFE_CHANGE", "options", "slogan.text1", "2 of 3 records")
    assert error["extensions"]["records"] == 2
    assert sorted(error["extensions"]["examples"]) == sorted(ids[1:])
    assert _field(shared, "slogan", "text1")["options"] == {"maxLength": 30}
    # when it is narrowed to what the data still fits, it works and the limit applies
    assert (
        shared.data(UPDATE_FIELD, {"input": {"object": "slogan", "name": "text1", "maxLength": 9}})[
            "updateField"
        ]["maxLength"]
        == 9
    )
    too_long = shared.error('mutation { createSlogan(data: {text1: "abcdefghij"}) { id } }')
    _assert_refused(too_long, "VALIDATION_ERROR", "text1", "longer than maximum length 9")
    assert [row["text1"] for row in _rows(shared, "slogan", "text1")] == ["ab", "abcde", "abcdefghi"]


def test_removing_a_picklist_option_in_use_is_refused(shared: GraphQLClient) -> None:
    # given a picklist with options a, b, c where a record holds b
    options = [{"value": "a"}, {"value": "b"}, {"value": "c"}]
    _object(shared, "ballot", {"name": "choice", "type": "PICKLIST", "options": options})
    holder = _create(shared, "ballot", {"choice": "b"})["id"]
    # when option b is removed
    error = shared.error(
        UPDATE_FIELD, {"input": {"object": "ballot", "name": "choice", "options": [options[0], options[2]]}}
    )
    # then it is refused naming the record that holds it, and the options are unchanged
    _assert_refused(error, "UNSAFE_CHANGE", "options", "ballot.choice", "1 of 1 records")
    assert error["extensions"]["examples"] == [holder]
    assert [o["value"] for o in _field(shared, "ballot", "choice")["options"]["options"]] == ["a", "b", "c"]
    # when the unused option c is removed, it works and the data stays
    shared.data(UPDATE_FIELD, {"input": {"object": "ballot", "name": "choice", "options": options[:2]}})
    assert [o["value"] for o in _field(shared, "ballot", "choice")["options"]["options"]] == ["a", "b"]
    assert _rows(shared, "ballot", "choice") == [{"choice": "b"}]


def test_update_of_an_unknown_field_is_refused(shared: GraphQLClient) -> None:
    _object(shared, "vessel")
    error = shared.error(UPDATE_FIELD, {"input": {"object": "vessel", "name": "mast", "required": True}})
    _assert_refused(error, "VALIDATION_ERROR", "name", "object 'vessel' has no field 'mast'")


# --- deleting ---------------------------------------------------------------------------------


def test_deleting_a_field_with_data_needs_confirm(
    runtime: Runtime, shared: GraphQLClient, shared_tenant: CreatedTenant
) -> None:
    # given a field with a value in one of two records
    _object(shared, "parcel", {"name": "weight", "type": "NUMBER"}, {"name": "note", "type": "TEXT"})
    _create(shared, "parcel", {"weight": "1.5"})
    _create(shared, "parcel", {"note": "empty weight"})
    # when it is deleted without confirm
    error = shared.error(DELETE_FIELD, {"input": {"object": "parcel", "name": "weight"}})
    # then it is refused as unsafe counting the records with a value, and nothing changed
    _assert_refused(error, "UNSAFE_CHANGE", "confirm", "parcel.weight", "1 records", "confirm: true")
    assert error["extensions"]["records"] == 1
    assert [row["weight"] for row in _rows(shared, "parcel", "weight")] == ["1.50", None]
    # when it is deleted with confirm
    deleted = shared.data(DELETE_FIELD, {"input": {"object": "parcel", "name": "weight", "confirm": True}})
    # then the definition, the column and the API field are gone, and the rest stays
    assert deleted == {"deleteField": {"name": "weight", "type": "NUMBER"}}
    assert shared.data(FIELD_NAMES, {"object": "parcel"})["object"]["fields"] == [{"name": "note"}]
    assert "weight" not in _columns(runtime, shared_tenant, "parcel")
    gone = shared.error("{ parcels { edges { node { weight } } } }")
    assert "Cannot query field 'weight'" in gone["message"]
    assert [row["note"] for row in _rows(shared, "parcel", "note")] == [None, "empty weight"]


def test_deleting_an_empty_field_needs_no_confirm(shared: GraphQLClient) -> None:
    # given a field no record has a value for
    _object(shared, "crate", {"name": "size", "type": "TEXT"}, {"name": "color", "type": "TEXT"})
    _create(shared, "crate", {"color": "red"})
    # when it is deleted without confirm
    deleted = shared.data(DELETE_FIELD, {"input": {"object": "crate", "name": "size"}})
    # then it is gone
    assert deleted["deleteField"]["name"] == "size"
    assert _field(shared, "crate", "size") is None


def test_custom_field_on_a_standard_object_works_and_can_be_deleted(shared: GraphQLClient) -> None:
    # given a custom field added to the standard account object
    field = shared.data(
        CREATE_FIELD,
        {
            "input": {
                "object": "account",
                "name": "tier",
                "type": "PICKLIST",
                "label": {"en": "Tier", "zh": "等级"},
                "options": [{"value": "gold"}, {"value": "silver"}],
            }
        },
    )["createField"]
    assert (field["origin"], field["zhLabel"]) == ("custom", "等级")
    # when accounts are written and read with it
    account = shared.data('mutation { createAccount(data: {name: "Tiered", tier: "gold"}) { id tier } }')
    assert account["createAccount"]["tier"] == "gold"
    # then, unlike the standard fields, it can be deleted (with its data, given confirm)
    error = shared.error(DELETE_FIELD, {"input": {"object": "account", "name": "tier"}})
    _assert_refused(error, "UNSAFE_CHANGE", "confirm", "account.tier")
    shared.data(DELETE_FIELD, {"input": {"object": "account", "name": "tier", "confirm": True}})
    assert _field(shared, "account", "tier") is None
    assert shared.data(
        "query($id: ID!) { account(id: $id) { name } }", {"id": account["createAccount"]["id"]}
    ) == {"account": {"name": "Tiered"}}


@pytest.mark.parametrize(("obj", "name"), [("account", "name"), ("opportunity", "amount")])
def test_deleting_a_standard_field_is_forbidden(shared: GraphQLClient, obj: str, name: str) -> None:
    # when a field of the standard package is deleted
    error = shared.error(DELETE_FIELD, {"input": {"object": obj, "name": name, "confirm": True}})
    # then it is forbidden, and the field remains
    _assert_refused(error, "FORBIDDEN", "name", f"'{obj}.{name}'", "standard field")
    assert _field(shared, obj, name) is not None


def test_deleting_an_unknown_field_is_refused(shared: GraphQLClient) -> None:
    error = shared.error(DELETE_FIELD, {"input": {"object": "account", "name": "nothing"}})
    _assert_refused(error, "VALIDATION_ERROR", "name", "object 'account' has no field 'nothing'")


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("id", "reserved for a system field"),
        ("createdAt", "reserved for a system field"),
        ("updatedBy", "reserved for a system field"),
        ("owner", "reserved for a system field"),
        ("ownerId", "reserved for a system field"),
        ("version", "reserved for a system field"),
        ("deletedAt", "reserved for a system field"),
        ("select", "reserved SQL keyword"),
        ("order", "reserved SQL keyword"),
        ("node", "reserved by the GraphQL API"),
        ("and", "reserved SQL keyword"),
        ("Name", "must start with a lowercase letter"),
        ("first_name", "only letters and digits"),
        ("n" * 64, "longer than 63 characters"),
    ],
)
def test_reserved_and_invalid_field_names_are_refused(shared: GraphQLClient, name: str, reason: str) -> None:
    # when a field of account takes a reserved or invalid name
    error = shared.error(CREATE_FIELD, {"input": {"object": "account", "name": name, "type": "TEXT"}})
    # then it is refused naming it and why
    _assert_refused(error, "VALIDATION_ERROR", "name", f"'{name}'", reason)


@pytest.mark.parametrize("name", ["name", "nAME", "industry", "parentACCOUNT"])
def test_field_names_colliding_with_existing_fields_after_case_folding_are_refused(
    shared: GraphQLClient, name: str
) -> None:
    # when a field of account repeats an existing field's name in any case
    error = shared.error(CREATE_FIELD, {"input": {"object": "account", "name": name, "type": "TEXT"}})
    # then it is refused naming the existing field
    _assert_refused(error, "VALIDATION_ERROR", "name", f"'{name}'", "collides with existing field 'account.")


def test_field_name_colliding_with_a_reverse_relation_is_refused(shared: GraphQLClient) -> None:
    # given account.opportunities, the relation from opportunity.account
    # when account gets a field named opportunities (or contacts)
    for name, source in (("opportunities", "opportunity.account"), ("contacts", "contact.account")):
        error = shared.error(CREATE_FIELD, {"input": {"object": "account", "name": name, "type": "TEXT"}})
        # then it is refused naming the relation and the lookup behind it
        _assert_refused(error, "VALIDATION_ERROR", "name", f"'account.{name}'", source)


def test_lookup_whose_reverse_relation_collides_with_a_field_is_refused(shared: GraphQLClient) -> None:
    # given an object note/notes, and the standard field activity.notes
    _object(shared, "note")
    # when note gets a lookup to activity (which would add the relation activity.notes)
    error = shared.error(
        CREATE_FIELD,
        {"input": {"object": "note", "name": "activity", "type": "LOOKUP", "target": "activity"}},
    )
    # then it is refused naming the relation it would add
    _assert_refused(error, "VALIDATION_ERROR", "name", "'activity.notes'", "collides")
    assert _field(shared, "note", "activity") is None


def test_second_lookup_to_the_same_target_gets_a_distinct_relation(shared: GraphQLClient) -> None:
    # given an object with two lookups to account
    _object(
        shared,
        "transfer",
        {"name": "sender", "type": "LOOKUP", "target": "account"},
        {"name": "receiver", "type": "LOOKUP", "target": "account"},
    )
    sender = shared.data('mutation { createAccount(data: {name: "S"}) { id } }')["createAccount"]["id"]
    receiver = shared.data('mutation { createAccount(data: {name: "R"}) { id } }')["createAccount"]["id"]
    _create(shared, "transfer", {"sender": sender, "receiver": receiver})
    # then account reads both relations under distinct names
    document = (
        "query($id: ID!) { account(id: $id) { transfers { totalCount } transfersByReceiver { totalCount } } }"
    )
    assert shared.data(document, {"id": sender})["account"] == {
        "transfers": {"totalCount": 1},
        "transfersByReceiver": {"totalCount": 0},
    }
    assert shared.data(document, {"id": receiver})["account"] == {
        "transfers": {"totalCount": 0},
        "transfersByReceiver": {"totalCount": 1},
    }


def test_long_indexed_and_unique_field_names_get_distinct_indexes(
    runtime: Runtime, shared: GraphQLClient, shared_tenant: CreatedTenant
) -> None:
    # given an object with an indexed and a unique field of long (valid, 56-character) names
    _object(shared, "longIndex")
    indexed = ["x" * 55 + "1", "x" * 55 + "2"]
    unique = ["y" * 55 + "1", "y" * 55 + "2"]
    for name in (indexed[0], unique[0]):
        flag = "indexed" if name in indexed else "unique"
        shared.data(
            CREATE_FIELD, {"input": {"object": "longIndex", "name": name, "type": "TEXT", flag: True}}
        )
    # when fields whose names differ only in their last character are added, indexed and unique
    for name in (indexed[1], unique[1]):
        flag = "indexed" if name in indexed else "unique"
        result = shared.execute(
            CREATE_FIELD, {"input": {"object": "longIndex", "name": name, "type": "TEXT", flag: True}}
        )
        # then they are created too
        assert not result.get("errors"), result.get("errors")
    assert [f["name"] for f in shared.data(FIELD_NAMES, {"object": "longIndex"})["object"]["fields"]] == [
        indexed[0],
        unique[0],
        indexed[1],
        unique[1],
    ]
    # with an index of their own each, within PostgreSQL's 63 characters
    schema = shared_tenant.tenant.schema_name
    indexes = sa.inspect(runtime.db.tenant(schema)).get_indexes("long_index", schema=schema)
    by_column = {index["column_names"][0]: index for index in indexes}
    assert set(by_column) == {*indexed, *unique}
    assert len({index["name"] for index in indexes}) == 4
    assert all(len(index["name"]) <= 63 for index in indexes)
    assert [bool(by_column[name]["unique"]) for name in (*indexed, *unique)] == [False, False, True, True]


@pytest.mark.parametrize(
    ("spec", "value"),
    [
        ({"type": "JSON", "indexed": True}, {"k": "v"}),
        ({"type": "MULTI_PICKLIST", "indexed": True, "options": [{"value": "a"}, {"value": "b"}]}, ["b"]),
    ],
    ids=["json", "multi-picklist"],
)
def test_indexed_flag_on_a_json_valued_field_is_honoured_or_refused(
    request: pytest.FixtureRequest, shared: GraphQLClient, backend: str, spec: dict[str, Any], value: Any
) -> None:
    # given an object
    _object(shared, "tagged")
    # when a JSON-valued field is created with indexed: true
    result = shared.execute(CREATE_FIELD, {"input": {"object": "tagged", "name": "meta", **spec}})
    # then it is either refused as invalid naming the flag, or created and usable
    if result.get("errors"):
        _assert_refused(result["errors"][0], "VALIDATION_ERROR", "indexed", spec["type"])
        assert _field(shared, "tagged", "meta") is None
    else:
        assert result["data"]["createField"]["indexed"] is True
        assert _create(shared, "tagged", {"meta": value}, "meta") == {"meta": value}


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "LONG_TEXT", "indexed": True},
        {"type": "TEXT", "maxLength": 10000, "unique": True},
        {"type": "TEXT", "maxLength": 10000, "indexed": True},
    ],
    ids=["indexed-long-text", "unique-text", "indexed-text"],
)
def test_long_values_of_an_indexed_text_field_are_stored_or_the_index_refused(
    request: pytest.FixtureRequest, shared: GraphQLClient, backend: str, spec: dict[str, Any]
) -> None:
    # given an object
    _object(shared, "essay")
    # when a long text field is created with an index
    result = shared.execute(CREATE_FIELD, {"input": {"object": "essay", "name": "body", **spec}})
    if result.get("errors"):
        # then it is either refused as invalid naming the flag
        flag = "unique" if spec.get("unique") else "indexed"
        _assert_refused(result["errors"][0], "VALIDATION_ERROR", flag)
        return
    # or a value as long as the field allows is stored and read back whole
    rng = random.Random(7)
    text = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(9000))
    assert _create(shared, "essay", {"body": text}, "body") == {"body": text}
    assert _rows(shared, "essay", "body") == [{"body": text}]


def test_field_names_whose_column_would_be_too_long_are_refused_and_the_longest_work(
    shared: GraphQLClient,
) -> None:
    # given an object
    _object(shared, "wideRow")
    # when a field's 62-character camelCase name would make a 92-character column
    too_long = "a" + "Bc" * 30 + "X"
    error = shared.error(CREATE_FIELD, {"input": {"object": "wideRow", "name": too_long, "type": "TEXT"}})
    # then it is refused naming it as too long for the database
    _assert_refused(error, "VALIDATION_ERROR", "name", f"'{too_long}'", "too long")
    # and fields at the limit work, a lookup (whose column ends in _id) included
    longest = "w" * 60
    lookup = "l" * 60
    shared.data(
        CREATE_FIELD, {"input": {"object": "wideRow", "name": longest, "type": "TEXT", "unique": True}}
    )
    shared.data(
        CREATE_FIELD, {"input": {"object": "wideRow", "name": lookup, "type": "LOOKUP", "target": "account"}}
    )
    account = shared.data('mutation { createAccount(data: {name: "Wide"}) { id } }')["createAccount"]["id"]
    record = _create(shared, "wideRow", {longest: "v", lookup: account}, f"{longest} {lookup} {{ name }}")
    assert record == {longest: "v", lookup: {"name": "Wide"}}
