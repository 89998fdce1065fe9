"""Field history through ``recordHistory``: one row per tracked field on create, one per changed field on
update (plus the owner), delete and restore rows for every record a cascade touched, lookups cleared by
a delete and put back by the restore, fields left out (untracked, computed, hidden from the reader),
the channel of the write, and nothing written by a refused write.

Two properties are checked: folding a record's history gives back its current values, with exactly one
row per actual change; and deleting then restoring an account gives back every value and relation.

One tenant is built for the module (``crm``); the delete/restore tests build their own records.
``widget`` has a field of most types, an untracked field and a formula; ``memo`` is PRIVATE.
Users besides the administrator (each with ``standardUser``):

- ``viewer``: ``widgetNoPrice`` (widget: read/create/edit/delete; widget.price not readable)
- ``memoUser``: ``memoAccess`` (memo: read/create/edit/delete), so only their own memos
- ``outsider``: nothing on widget or memo
- ``widgetOnly``: only ``widgetFull`` (widget: read/create/edit/delete; nothing on account)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tessera.services.records import create_records, update_record
from tessera.services.runtime import Actor, Runtime
from tessera.storage.system_tables import record_history
from tessera.testing import GraphQLClient, tenant_scope

HISTORY = """
query($object: String!, $id: ID!) {
  recordHistory(object: $object, id: $id) { action field oldValue newValue user { id email name } at channel }
}
"""
CREATE_OBJECT = "mutation($input: CreateObjectInput!) { createObject(input: $input) { name } }"
CREATE_FIELD = "mutation($input: CreateFieldInput!) { createField(input: $input) { name trackHistory } }"
UPDATE_FIELD = "mutation($input: UpdateFieldInput!) { updateField(input: $input) { name trackHistory } }"
CREATE_RULE = "mutation($input: CreateValidationRuleInput!) { createValidationRule(input: $input) { name } }"
CREATE_SET = "mutation($input: PermissionSetInput!) { createPermissionSet(input: $input) { name } }"
CREATE_USER = "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }"
CREATE_TOKEN = "mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token } }"
SHARE = "mutation($input: ShareRecordInput!) { shareRecord(input: $input) { id } }"

WIDGET_SELECTION = "id label qty weight price due seenAt active color tags account { id } secret doubled owner { id }"
CREATE_WIDGET = f"mutation($data: WidgetCreateInput!) {{ createWidget(data: $data) {{ {WIDGET_SELECTION} }} }}"
CREATE_WIDGETS = "mutation($data: [WidgetCreateInput!]!) { createWidgets(data: $data) { id } }"
UPDATE_WIDGET = f"""
mutation($id: ID!, $data: WidgetUpdateInput!) {{ updateWidget(id: $id, data: $data) {{ {WIDGET_SELECTION} }} }}
"""
GET_WIDGET = f"query($id: ID!) {{ widget(id: $id) {{ {WIDGET_SELECTION} }} }}"

WIDGET_FIELDS: list[dict[str, Any]] = [
    {"name": "label", "type": "TEXT", "maxLength": 40},
    {"name": "qty", "type": "INTEGER"},
    {"name": "weight", "type": "NUMBER", "precision": 10, "scale": 2},
    {"name": "price", "type": "CURRENCY", "precision": 12, "scale": 2},
    {"name": "due", "type": "DATE"},
    {"name": "seenAt", "type": "DATETIME"},
    {"name": "active", "type": "BOOLEAN"},
    {"name": "color", "type": "PICKLIST", "options": [{"value": "red"}, {"value": "green"}, {"value": "blue"}]},
    {"name": "tags", "type": "MULTI_PICKLIST", "options": [{"value": "a"}, {"value": "b"}, {"value": "c"}]},
    {"name": "account", "type": "LOOKUP", "target": "account"},
    {"name": "secret", "type": "TEXT", "trackHistory": False},
    {"name": "note", "type": "TEXT"},
    {"name": "doubled", "type": "FORMULA", "resultType": "INTEGER", "expression": "qty * 2"},
]
TRACKED = ["label", "qty", "weight", "price", "due", "seenAt", "active", "color", "tags", "account"]
"""The widget fields the property test writes and expects in history, in definition order."""


@dataclass
class Crm:
    runtime: Runtime
    slug: str
    admin: GraphQLClient
    admin_id: str
    admin_email: str
    user_ids: dict[str, str] = field(default_factory=dict)
    clients: dict[str, GraphQLClient] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, user: str) -> GraphQLClient:
        return self.clients[user]

    def model(self) -> Any:
        ref = self.runtime.tenant(self.slug)
        with self.runtime.db.system.connect() as conn:
            return self.runtime.model(conn, ref)

    def history_rows(self, object_name: str) -> int:
        """Every history row of an object, read from the table (no API filtering)."""
        ref = self.runtime.tenant(self.slug)
        object_id = self.model().meta.object(object_name).id
        with self.runtime.read(ref) as conn:
            return conn.execute(
                sa.select(sa.func.count()).select_from(record_history).where(record_history.c.object_id == object_id)
            ).scalar_one()


@pytest.fixture(scope="module")
def crm(runtime: Runtime, app: Any) -> Iterator[Crm]:
    with tenant_scope(runtime) as created:
        admin = GraphQLClient(app, created.token)
        world = Crm(runtime, created.tenant.slug, admin, created.admin_user_id, "admin@example.com")
        admin.data(CREATE_OBJECT, {"input": {"name": "widget", "pluralName": "widgets", "fields": WIDGET_FIELDS}})
        admin.data(CREATE_OBJECT, {"input": {"name": "memo", "pluralName": "memos", "sharing": "PRIVATE",
                                             "fields": [{"name": "body", "type": "TEXT"}]}})
        full = {"read": True, "create": True, "edit": True, "delete": True}
        admin.data(CREATE_SET, {"input": {
            "name": "widgetNoPrice", "objectPermissions": [{"object": "widget", **full}],
            "fieldPermissions": [{"object": "widget", "field": "price", "read": False}],
        }})
        admin.data(CREATE_SET, {"input": {"name": "memoAccess", "objectPermissions": [{"object": "memo", **full}]}})
        admin.data(CREATE_SET, {"input": {"name": "widgetFull", "objectPermissions": [{"object": "widget", **full}]}})
        for name, sets in [("viewer", ["standardUser", "widgetNoPrice"]), ("memoUser", ["standardUser", "memoAccess"]),
                           ("outsider", ["standardUser"]), ("widgetOnly", ["widgetFull"])]:
            user_id = admin.data(CREATE_USER, {"input": {"email": f"{name.lower()}@example.com", "name": name,
                                                         "permissionSets": sets}})["createUser"]["id"]
            token = admin.data(CREATE_TOKEN, {"input": {"name": name, "user": user_id}})["createApiToken"]["token"]
            world.user_ids[name] = user_id
            world.clients[name] = GraphQLClient(app, token)
        for key in ("A1", "A2"):
            world.accounts[key] = admin.data("mutation($n: String!) { createAccount(data: {name: $n}) { id } }",
                                             {"n": key})["createAccount"]["id"]
        yield world


def _history(client: GraphQLClient, object_name: str, record_id: str) -> list[dict[str, Any]]:
    return client.data(HISTORY, {"object": object_name, "id": record_id})["recordHistory"]


def _changes(client: GraphQLClient, object_name: str, record_id: str) -> list[tuple[str, str | None, Any, Any]]:
    """(action, field, old, new) of each history row, oldest first."""
    return [(r["action"], r["field"], r["oldValue"], r["newValue"]) for r in _history(client, object_name, record_id)]


def _code(error: dict[str, Any]) -> str:
    return error["extensions"]["code"]


# --- create ------------------------------------------------------------------------------------
def test_create_writes_one_row_per_tracked_field_given_a_value_in_api_form(crm: Crm) -> None:
    # given a widget created with values for some fields, in inputs that are not the API's form
    created = crm.admin.data(CREATE_WIDGET, {"data": {
        "label": "first", "qty": 3, "price": "12.5", "due": "2025-02-03", "seenAt": "2025-03-04T05:06:07+02:00",
        "active": False, "tags": ["c", "a"], "account": crm.accounts["A1"], "secret": "hush", "color": None,
    }})["createWidget"]
    # then history holds one CREATE row per tracked field given a non-null value, in definition order,
    # as the API shows them; not the untracked field, nor the formula (which has a value), nor the null
    assert created["doubled"] == 6
    rows = _history(crm.admin, "widget", created["id"])
    assert [(r["action"], r["field"], r["oldValue"], r["newValue"]) for r in rows] == [
        ("CREATE", "label", None, "first"),
        ("CREATE", "qty", None, 3),
        ("CREATE", "price", None, "12.50"),
        ("CREATE", "due", None, "2025-02-03"),
        ("CREATE", "seenAt", None, "2025-03-04T03:06:07.000Z"),
        ("CREATE", "active", None, False),
        ("CREATE", "tags", None, ["a", "c"]),
        ("CREATE", "account", None, crm.accounts["A1"]),
    ]
    # and every row names the administrator, the api channel and one instant
    assert {r["channel"] for r in rows} == {"api"}
    assert all(r["user"] == {"id": crm.admin_id, "email": crm.admin_email, "name": "admin"} for r in rows)
    assert len({r["at"] for r in rows}) == 1


def test_create_without_tracked_values_writes_one_bare_row(crm: Crm) -> None:
    # given widgets created with no value at all, and with only the untracked field
    for data in ({}, {"secret": "only this"}):
        record_id = crm.admin.data(CREATE_WIDGET, {"data": data})["createWidget"]["id"]
        # then history holds a single CREATE row naming no field
        assert _changes(crm.admin, "widget", record_id) == [("CREATE", None, None, None)]


# --- update ------------------------------------------------------------------------------------
def test_update_writes_rows_only_for_fields_whose_api_value_changed(crm: Crm) -> None:
    # given a widget
    record_id = crm.admin.data(CREATE_WIDGET, {"data": {
        "label": "x", "weight": "1.5", "price": "10", "tags": ["a"], "due": "2025-01-01",
    }})["createWidget"]["id"]
    # when it is updated with the same values spelled differently, and a few real changes
    crm.admin.data(UPDATE_WIDGET, {"id": record_id, "data": {
        "label": "x", "weight": "1.50", "price": "10.00", "tags": ["a"],
        "due": "2025-01-02", "qty": 7, "color": "blue", "account": crm.accounts["A2"],
    }})
    # then only the real changes are recorded, old and new in the API's form
    assert _changes(crm.admin, "widget", record_id)[5:] == [
        ("UPDATE", "qty", None, 7),
        ("UPDATE", "due", "2025-01-01", "2025-01-02"),
        ("UPDATE", "color", None, "blue"),
        ("UPDATE", "account", None, crm.accounts["A2"]),
    ]
    # when it is updated with nothing that changes (the untracked field changes, which is not recorded)
    crm.admin.data(UPDATE_WIDGET, {"id": record_id, "data": {"label": "x", "weight": "1.500", "secret": "s"}})
    # then no row is added
    assert len(_changes(crm.admin, "widget", record_id)) == 9
    # when values are cleared
    crm.admin.data(UPDATE_WIDGET, {"id": record_id, "data": {"weight": None, "tags": None, "account": None}})
    assert _changes(crm.admin, "widget", record_id)[9:] == [
        ("UPDATE", "weight", "1.50", None),
        ("UPDATE", "tags", ["a"], None),
        ("UPDATE", "account", crm.accounts["A2"], None),
    ]


def test_an_owner_change_is_recorded_as_owner(crm: Crm) -> None:
    # given a widget the administrator owns
    record_id = crm.admin.data(CREATE_WIDGET, {"data": {"label": "owned"}})["createWidget"]["id"]
    # when its owner becomes the viewer, then stays the viewer, together with a field change
    crm.admin.data(UPDATE_WIDGET, {"id": record_id, "data": {"owner": crm.user_ids["viewer"]}})
    crm.admin.data(UPDATE_WIDGET, {"id": record_id, "data": {"owner": crm.user_ids["viewer"], "qty": 1}})
    # then one owner row records the change, with user ids
    assert _changes(crm.admin, "widget", record_id) == [
        ("CREATE", "label", None, "owned"),
        ("UPDATE", "owner", crm.admin_id, crm.user_ids["viewer"]),
        ("UPDATE", "qty", None, 1),
    ]


def test_fields_with_track_history_false_are_left_out_and_switching_it_takes_effect(crm: Crm) -> None:
    # given a widget whose note is tracked
    record_id = crm.admin.data(CREATE_WIDGET, {"data": {"note": "n1"}})["createWidget"]["id"]
    crm.admin.data(UPDATE_WIDGET, {"id": record_id, "data": {"note": "n2"}})
    try:
        # when note stops being tracked and changes
        assert crm.admin.data(UPDATE_FIELD, {"input": {"object": "widget", "name": "note", "trackHistory": False}})[
            "updateField"] == {"name": "note", "trackHistory": False}
        crm.admin.data(UPDATE_WIDGET, {"id": record_id, "data": {"note": "n3", "secret": "s1"}})
        # then that change is not recorded, and the rows written before stay
        assert _changes(crm.admin, "widget", record_id) == [
            ("CREATE", "note", None, "n1"), ("UPDATE", "note", "n1", "n2"),
        ]
        # when it is tracked again
        crm.admin.data(UPDATE_FIELD, {"input": {"object": "widget", "name": "note", "trackHistory": True}})
        crm.admin.data(UPDATE_WIDGET, {"id": record_id, "data": {"note": "n4"}})
        # then changes are recorded again (old value as stored, though its change to n3 was not recorded)
        assert _changes(crm.admin, "widget", record_id)[2:] == [("UPDATE", "note", "n3", "n4")]
    finally:
        crm.admin.data(UPDATE_FIELD, {"input": {"object": "widget", "name": "note", "trackHistory": True}})


def test_formula_and_rollup_fields_never_appear_even_when_asked_to_be_tracked(crm: Crm) -> None:
    # given an account formula and a rollup counting its contacts, both created asking for history
    formula = crm.admin.data(CREATE_FIELD, {"input": {
        "object": "account", "name": "shout", "type": "FORMULA", "resultType": "TEXT",
        "expression": 'UPPER(name) & "!"', "trackHistory": True,
    }})["createField"]
    rollup = crm.admin.data(CREATE_FIELD, {"input": {
        "object": "account", "name": "contactCount", "type": "ROLLUP", "childObject": "contact",
        "childField": "account", "function": "COUNT", "trackHistory": True,
    }})["createField"]
    # then they are not tracked
    assert formula == {"name": "shout", "trackHistory": False}
    assert rollup == {"name": "contactCount", "trackHistory": False}
    # when an account is created, renamed and gets contacts (so both computed values change)
    account = crm.admin.data('mutation { createAccount(data: {name: "calc"}) { id } }')["createAccount"]["id"]
    crm.admin.data('mutation($id: ID!) { updateAccount(id: $id, data: {name: "calc2"}) { id } }', {"id": account})
    for last in ("P", "Q"):
        crm.admin.data("mutation($a: ID!, $n: String!) { createContact(data: {lastName: $n, account: $a}) { id } }",
                       {"a": account, "n": last})
    shown = crm.admin.data("query($id: ID!) { account(id: $id) { shout contactCount } }", {"id": account})
    assert shown == {"account": {"shout": "CALC2!", "contactCount": 2}}
    # then the account's history shows only its stored fields (accountType has a default value)
    rows = _changes(crm.admin, "account", account)
    number = rows[1][3]
    assert number.startswith("ACC-")
    assert rows == [
        ("CREATE", "name", None, "calc"),
        ("CREATE", "accountNumber", None, number),
        ("CREATE", "accountType", None, "prospect"),
        ("UPDATE", "name", "calc", "calc2"),
    ]


# --- channel and transactions ------------------------------------------------------------------
def test_history_names_the_channel_of_the_write(crm: Crm) -> None:
    # given writes through the services as an import and as a workflow
    ref = crm.runtime.tenant(crm.slug)
    model = crm.model()
    record_id = create_records(crm.runtime, Actor(ref, crm.admin_id, "import"), model, "widget", [{"label": "imp"}])[0]
    update_record(crm.runtime, Actor(ref, crm.admin_id, "workflow"), model, "widget", record_id, {"qty": 2})
    # and one through GraphQL
    crm.admin.data(UPDATE_WIDGET, {"id": record_id, "data": {"qty": 3}})
    # then each row names its channel
    rows = _history(crm.admin, "widget", record_id)
    assert [(r["field"], r["channel"]) for r in rows] == [("label", "import"), ("qty", "workflow"), ("qty", "api")]


def test_a_write_refused_by_a_validation_rule_leaves_no_history(crm: Crm) -> None:
    # given a rule refusing the label "forbidden", and a widget
    crm.admin.data(CREATE_RULE, {"input": {"object": "widget", "name": "noForbidden",
                                           "expression": 'label = "forbidden"', "message": "not that label"}})
    record_id = crm.admin.data(CREATE_WIDGET, {"data": {"label": "fine"}})["createWidget"]["id"]
    before = crm.history_rows("widget")
    # when an update and a bulk create (one good row, one refused) break the rule
    refused = crm.admin.error(UPDATE_WIDGET, {"id": record_id, "data": {"label": "forbidden", "qty": 5}})
    refused_bulk = crm.admin.error(CREATE_WIDGETS, {"data": [{"label": "good"}, {"label": "forbidden"}]})
    # then both are refused, and not one history row was written
    assert refused["message"] == "not that label"
    assert _code(refused) == _code(refused_bulk) == "VALIDATION_ERROR"
    assert crm.history_rows("widget") == before
    assert _changes(crm.admin, "widget", record_id) == [("CREATE", "label", None, "fine")]


# --- who sees what -------------------------------------------------------------------------------
def test_rows_of_fields_hidden_from_the_reader_are_left_out(crm: Crm) -> None:
    # given a widget whose price and qty changed
    record_id = crm.admin.data(CREATE_WIDGET, {"data": {"label": "p", "price": "1"}})["createWidget"]["id"]
    crm.admin.data(UPDATE_WIDGET, {"id": record_id, "data": {"price": "2", "qty": 1}})
    # then the administrator sees every row, and the viewer (who cannot read price) all but price's
    assert _changes(crm.admin, "widget", record_id) == [
        ("CREATE", "label", None, "p"), ("CREATE", "price", None, "1.00"),
        ("UPDATE", "qty", None, 1), ("UPDATE", "price", "1.00", "2.00"),
    ]
    assert _changes(crm["viewer"], "widget", record_id) == [("CREATE", "label", None, "p"), ("UPDATE", "qty", None, 1)]


def test_rows_of_lookups_to_objects_the_reader_cannot_read_are_left_out(crm: Crm) -> None:
    # given a widget whose account lookup was set, then changed
    record_id = crm.admin.data(CREATE_WIDGET, {"data": {"label": "l", "account": crm.accounts["A1"]}})[
        "createWidget"]["id"]
    crm.admin.data(UPDATE_WIDGET, {"id": record_id, "data": {"account": crm.accounts["A2"], "qty": 2}})
    # then someone who may read widgets but not accounts sees neither account row
    assert _changes(crm["widgetOnly"], "widget", record_id) == [
        ("CREATE", "label", None, "l"), ("UPDATE", "qty", None, 2),
    ]
    assert len(_changes(crm.admin, "widget", record_id)) == 4


def test_records_out_of_reach_answer_not_found(crm: Crm) -> None:
    # given a PRIVATE memo of the administrator, and one of the memo user
    theirs = crm.admin.data('mutation { createMemo(data: {body: "admin"}) { id } }')["createMemo"]["id"]
    own = crm["memoUser"].data('mutation { createMemo(data: {body: "mine"}) { id } }')["createMemo"]["id"]
    # then the memo user reads their own memo's history but not the administrator's
    assert _changes(crm["memoUser"], "memo", own) == [("CREATE", "body", None, "mine")]
    hidden = crm["memoUser"].error(HISTORY, {"object": "memo", "id": theirs})
    assert (_code(hidden), hidden["extensions"].get("field")) == ("NOT_FOUND", "id")
    # and an unknown id is not found either; administrators (who may read the history of purged records)
    # get an empty history instead
    unknown = {"object": "memo", "id": "00000000-0000-4000-8000-000000000000"}
    assert _code(crm["memoUser"].error(HISTORY, unknown)) == "NOT_FOUND"
    assert _history(crm.admin, "memo", unknown["id"]) == []
    # and someone without access to memos gets NOT_FOUND for the object
    no_object = crm["outsider"].error(HISTORY, {"object": "memo", "id": own})
    assert (_code(no_object), no_object["extensions"].get("field")) == ("NOT_FOUND", "object")
    # when the administrator shares their memo with the memo user, they can read its history
    crm.admin.data(SHARE, {"input": {"object": "memo", "record": theirs, "user": crm.user_ids["memoUser"],
                                     "access": "READ"}})
    assert _changes(crm["memoUser"], "memo", theirs) == [("CREATE", "body", None, "admin")]


# --- delete and restore ---------------------------------------------------------------------------
def test_delete_and_restore_record_rows_for_cascades_and_cleared_lookups(crm: Crm) -> None:
    admin = crm.admin
    # given an account with a contact (cascade), a child account and a lead (set null)
    parent = admin.data('mutation { createAccount(data: {name: "Parent"}) { id } }')["createAccount"]["id"]
    child = admin.data("mutation($p: ID!) { createAccount(data: {name: \"Child\", parentAccount: $p}) { id } }",
                       {"p": parent})["createAccount"]["id"]
    contact = admin.data("mutation($a: ID!) { createContact(data: {lastName: \"C\", account: $a}) { id } }",
                         {"a": parent})["createContact"]["id"]
    lead = admin.data("mutation($a: ID!) { createLead(data: {lastName: \"L\", company: \"X\", convertedAccount: $a})"
                      " { id } }",
                      {"a": parent})["createLead"]["id"]
    history_before = {rid: len(_changes(admin, obj, rid)) for obj, rid in
                      [("account", parent), ("account", child), ("contact", contact), ("lead", lead)]}
    # when the account is deleted
    admin.data("mutation($id: ID!) { deleteAccount(id: $id) { id } }", {"id": parent})
    # then it and its contact get a DELETE row, and the child and lead an UPDATE row clearing the lookup
    def new_rows(obj: str, rid: str) -> list[tuple[str, str | None, Any, Any]]:
        return _changes(admin, obj, rid)[history_before[rid]:]

    assert new_rows("account", parent) == [("DELETE", None, None, None)]
    assert new_rows("contact", contact) == [("DELETE", None, None, None)]
    assert new_rows("account", child) == [("UPDATE", "parentAccount", parent, None)]
    assert new_rows("lead", lead) == [("UPDATE", "convertedAccount", parent, None)]
    # and every row of the delete shares one instant
    at = {r["at"] for obj, rid in [("account", parent), ("contact", contact), ("account", child), ("lead", lead)]
          for r in _history(admin, obj, rid)[history_before[rid]:]}
    assert len(at) == 1
    # when the lead is given another account meanwhile, and the account is restored
    admin.data("mutation($id: ID!, $a: ID!) { updateLead(id: $id, data: {convertedAccount: $a}) { id } }",
               {"id": lead, "a": crm.accounts["A1"]})
    admin.data("mutation($id: ID!) { restoreAccount(id: $id) { id } }", {"id": parent})
    # then the account and contact get RESTORE rows, the child's lookup is put back (with a row), and the
    # lead, whose lookup is no longer empty, keeps its new account
    assert new_rows("account", parent) == [("DELETE", None, None, None), ("RESTORE", None, None, None)]
    assert new_rows("contact", contact) == [("DELETE", None, None, None), ("RESTORE", None, None, None)]
    assert new_rows("account", child) == [("UPDATE", "parentAccount", parent, None),
                                          ("UPDATE", "parentAccount", None, parent)]
    assert new_rows("lead", lead) == [("UPDATE", "convertedAccount", parent, None),
                                      ("UPDATE", "convertedAccount", None, crm.accounts["A1"])]
    assert admin.data("query($id: ID!) { account(id: $id) { parentAccount { id } } }", {"id": child}) == {
        "account": {"parentAccount": {"id": parent}}}
    assert admin.data("query($id: ID!) { lead(id: $id) { convertedAccount { id } } }", {"id": lead}) == {
        "lead": {"convertedAccount": {"id": crm.accounts["A1"]}}}


def test_restore_does_not_relink_a_child_deleted_meanwhile(crm: Crm) -> None:
    admin = crm.admin
    # given a child account whose parent lookup was cleared by the parent's delete
    parent = admin.data('mutation { createAccount(data: {name: "P2"}) { id } }')["createAccount"]["id"]
    child = admin.data("mutation($p: ID!) { createAccount(data: {name: \"C2\", parentAccount: $p}) { id } }",
                       {"p": parent})["createAccount"]["id"]
    admin.data("mutation($id: ID!) { deleteAccount(id: $id) { id } }", {"id": parent})
    # when the child is deleted too, then the parent is restored
    admin.data("mutation($id: ID!) { deleteAccount(id: $id) { id } }", {"id": child})
    admin.data("mutation($id: ID!) { restoreAccount(id: $id) { id } }", {"id": parent})
    # then the deleted child is left alone: no new lookup, no new row
    assert _changes(admin, "account", child)[-2:] == [
        ("UPDATE", "parentAccount", parent, None), ("DELETE", None, None, None),
    ]
    deleted = admin.data('{ deletedRecords(object: "account") { id values } }')["deletedRecords"]
    assert [d["values"]["parentAccount"] for d in deleted if d["id"] == child] == [None]


# --- property: history reconstructs the record, one row per change --------------------------------
TEXTS = st.sampled_from(["alpha", "beta", "", "Zoë 中文"])
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "label": st.none() | TEXTS,
    "qty": st.none() | st.integers(-2, 2),
    "weight": st.none() | st.sampled_from(["0.00", "1.50", "-2.25"]),
    "price": st.none() | st.sampled_from(["0.00", "9.99", "1000000.01"]),
    "due": st.none() | st.sampled_from(["2024-02-29", "2025-12-31"]),
    "seenAt": st.none() | st.sampled_from(["2025-03-04T05:06:07.000Z", "2025-03-04T05:06:08.000Z"]),
    "active": st.none() | st.booleans(),
    "color": st.none() | st.sampled_from(["red", "green", "blue"]),
    "tags": st.none() | st.sampled_from([[], ["a"], ["b", "c"], ["a", "b", "c"]]),
    "account": st.none() | st.sampled_from(["A1", "A2"]),
    "secret": st.none() | TEXTS,
    "owner": st.sampled_from(["admin", "viewer"]),
}
"""Values per widget field, already in the API's form (so they read back unchanged); lookups and owners
as keys of the test's accounts and users."""


@st.composite
def widget_data(draw: st.DrawFn, *, with_owner: bool) -> dict[str, Any]:
    keys = [k for k in VALUES if with_owner or k != "owner"]
    chosen = draw(st.lists(st.sampled_from(keys), unique=True, min_size=1, max_size=6))
    return {key: draw(VALUES[key]) for key in chosen}


@settings(max_examples=20, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(initial=widget_data(with_owner=False),
       updates=st.lists(widget_data(with_owner=True), min_size=1, max_size=6))
def test_history_shows_every_change_exactly_once(crm: Crm, initial: dict[str, Any],
                                                 updates: list[dict[str, Any]]) -> None:
    def api(data: dict[str, Any]) -> dict[str, Any]:
        ids = {**crm.accounts, "admin": crm.admin_id, "viewer": crm.user_ids["viewer"]}
        return {k: (ids[v] if k in ("account", "owner") and v is not None else v) for k, v in data.items()}

    # given a widget created with some values and updated several times
    record_id = crm.admin.data(CREATE_WIDGET, {"data": api(initial)})["createWidget"]["id"]
    expected = {name: None for name in TRACKED} | {"owner": crm.admin_id}
    expected.update({k: v for k, v in api(initial).items() if k in expected})
    created_fields = [name for name in TRACKED if expected[name] is not None]
    changes: Counter[str] = Counter()
    for update in updates:
        for key, value in api(update).items():
            if key in expected and expected[key] != value:
                changes[key] += 1
                expected[key] = value
        crm.admin.data(UPDATE_WIDGET, {"id": record_id, "data": api(update)})
    rows = _history(crm.admin, "widget", record_id)
    # then it starts with one CREATE row per field given a value (a bare one when none was)
    creates = [r for r in rows if r["action"] == "CREATE"]
    assert rows[:len(creates)] == creates
    assert [r["field"] for r in creates] == (created_fields or [None])
    # and folding the rows in order, each UPDATE's old value is the value before it ...
    folded: dict[str, Any] = {name: None for name in TRACKED} | {"owner": crm.admin_id}
    for row in rows:
        if row["action"] == "CREATE" and row["field"] is not None:
            assert row["oldValue"] is None
            folded[row["field"]] = row["newValue"]
        elif row["action"] == "UPDATE":
            assert row["oldValue"] == folded[row["field"]] != row["newValue"], row
            folded[row["field"]] = row["newValue"]
    # ... and the fold gives the record's current values
    current = crm.admin.data(GET_WIDGET, {"id": record_id})["widget"]
    shown = {name: current[name] for name in TRACKED if name != "account"}
    shown |= {"account": current["account"] and current["account"]["id"], "owner": current["owner"]["id"]}
    assert folded == expected == shown
    # and there is exactly one UPDATE row per actual change (none for the untracked field or the formula)
    assert Counter(r["field"] for r in rows if r["action"] == "UPDATE") == changes
    assert {r["action"] for r in rows} <= {"CREATE", "UPDATE"}
    assert [r["at"] for r in rows] == sorted(r["at"] for r in rows)


# --- property: delete then restore gives everything back -------------------------------------------
def _field_names(gql: GraphQLClient, object_name: str) -> list[tuple[str, str]]:
    found = gql.data("query($n: String!) { object(name: $n) { fields { name type } } }", {"n": object_name})
    return [(f["name"], f["type"]) for f in found["object"]["fields"]]


def _snapshot(gql: GraphQLClient) -> dict[str, dict[str, dict[str, Any]]]:
    """Every live record of the standard objects: every field (lookups as ids), owner and creation."""
    snapshot = {}
    for obj, plural in [("account", "accounts"), ("contact", "contacts"), ("lead", "leads"),
                        ("opportunity", "opportunities"), ("activity", "activities")]:
        fields = " ".join(f"{name} {{ id }}" if kind == "LOOKUP" else name for name, kind in _field_names(gql, obj))
        node = f"id createdAt createdBy {{ id }} owner {{ id }} {fields}"
        query = f"{{ {plural}(first: 500) {{ edges {{ node {{ {node} }} }} }} }}"
        snapshot[obj] = {e["node"]["id"]: e["node"] for e in gql.data(query)[plural]["edges"]}
    return snapshot


def test_deleting_and_restoring_an_account_preserves_every_value_and_relation(gql: GraphQLClient) -> None:
    # given an account with every field set, a child account, contacts (cascade), activities on the account
    # (cascade) and on a contact alone (set null), an opportunity of a contact, and leads of both
    account = gql.data("""mutation { createAccount(data: {
        name: "Root", industry: "technology", accountType: "customer", website: "https://root.example",
        phone: "+1 555 0100",
        email: "info@root.example", employees: 250, annualRevenue: "1234567.89", rating: "hot", billingCountry: "CN",
        billingCity: "Shanghai", billingStreet: "1 Bund", lei: "5493001KJTIIGC8Y1R12", registrationNumber: "91310000",
        description: "the root" }) { id } }""")["createAccount"]["id"]
    other = gql.data('mutation { createAccount(data: {name: "Unrelated"}) { id } }')["createAccount"]["id"]
    child = gql.data("mutation($p: ID!) { createAccount(data: {name: \"Child\", parentAccount: $p}) { id } }",
                     {"p": account})["createAccount"]["id"]
    contacts = [gql.data("""mutation($a: ID!, $n: String!) { createContact(data: {
        firstName: "Ann", lastName: $n, email: "ann@root.example", account: $a, decisionRole: "champion",
        birthdate: "1990-05-06", doNotCall: true, wechat: "ann_w" }) { id } }""", {"a": account, "n": name})[
        "createContact"]["id"] for name in ("One", "Two")]
    gql.data("""mutation($a: ID!) { createActivity(data: {subject: "Visit", activityType: "visit", account: $a,
        dueAt: "2026-01-02T03:04:05Z", durationMinutes: 30, notes: "n"}) { id } }""", {"a": account})
    gql.data("""mutation($c: ID!) {
        createActivity(data: {subject: "Call", activityType: "call", contact: $c}) { id } }""", {"c": contacts[0]})
    opportunity = gql.data("""mutation($a: ID!, $c: ID!) { createOpportunity(data: {name: "Deal", account: $a,
        contact: $c, amount: "5000.00", probability: "60", closeDate: "2026-09-30",
        products: ["crmSuite", "analytics"]})
        { id } }""", {"a": account, "c": contacts[1]})["createOpportunity"]["id"]
    gql.data("""mutation($a: ID!, $c: ID!) { createLead(data: {lastName: "Lee", company: "Root", convertedAccount: $a,
        convertedContact: $c}) { id } }""", {"a": account, "c": contacts[0]})
    gql.data("mutation($a: ID!) { createLead(data: {lastName: \"Far\", company: \"Else\", convertedAccount: $a})"
             " { id } }",
             {"a": other})
    # the opportunity's account is RESTRICT: the delete is refused while it points at the account
    refused = gql.error("mutation($id: ID!) { deleteAccount(id: $id) { id } }", {"id": account})
    assert _code(refused) == "VALIDATION_ERROR"
    assert refused["extensions"]["blockedBy"] == "opportunity.account"
    gql.data("mutation($id: ID!) { updateOpportunity(id: $id, data: {account: null}) { id } }", {"id": opportunity})
    before = _snapshot(gql)
    assert [len(before[o]) for o in before] == [3, 2, 2, 1, 2]
    # when the account is deleted
    gql.data("mutation($id: ID!) { deleteAccount(id: $id) { id } }", {"id": account})
    # then it, its contacts and its activity are gone, and the lookups to them are empty
    during = _snapshot(gql)
    assert [len(during[o]) for o in during] == [2, 0, 2, 1, 1]
    assert during["account"][child]["parentAccount"] is None
    assert during["opportunity"][opportunity]["contact"] is None
    assert [(lead["convertedAccount"], lead["convertedContact"]) for lead in during["lead"].values()
            if lead["company"] == "Root"] == [(None, None)]
    assert [a["contact"] for a in during["activity"].values()] == [None]
    # when it is restored
    gql.data("mutation($id: ID!) { restoreAccount(id: $id) { id } }", {"id": account})
    # then every record, value and relation is as before
    assert _snapshot(gql) == before


def test_restoring_an_account_relinks_its_activity_to_its_contact(gql: GraphQLClient) -> None:
    # given an activity on an account (cascade) and on one of its contacts (set null)
    account = gql.data('mutation { createAccount(data: {name: "Acme"}) { id } }')["createAccount"]["id"]
    contact = gql.data("mutation($a: ID!) { createContact(data: {lastName: \"K\", account: $a}) { id } }",
                       {"a": account})["createContact"]["id"]
    activity = gql.data("mutation($a: ID!, $c: ID!) { createActivity(data: {subject: \"T\", account: $a, contact: $c})"
                        " { id } }", {"a": account, "c": contact})["createActivity"]["id"]
    # when the account is deleted (taking the contact and the activity with it) and restored
    gql.data("mutation($id: ID!) { deleteAccount(id: $id) { id } }", {"id": account})
    gql.data("mutation($id: ID!) { restoreAccount(id: $id) { id } }", {"id": account})
    # then the activity is back with both its lookups
    assert gql.data("query($id: ID!) { activity(id: $id) { account { id } contact { id } } }", {"id": activity}) == {
        "activity": {"account": {"id": account}, "contact": {"id": contact}}}
