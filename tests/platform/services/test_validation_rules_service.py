"""Validation rules and default value expressions on the service write path
(tessera.services.records: create_records, update_record, and the sample data loader built on it),
default value expressions defined through the metadata services and the API, and YAML packages
carrying validation rules and default expressions (apply, export, re-apply)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from tessera.core.errors import ValidationError, ValidationErrors
from tessera.model.definitions import TenantMetadata
from tessera.model.registry import TenantModel, load_metadata
from tessera.services.demo import load_sample_data
from tessera.services.metadata import (
    create_field,
    create_object,
    create_validation_rule,
    delete_validation_rule,
    update_field,
    update_validation_rule,
)
from tessera.services.packages import apply_package, export_metadata, read_package
from tessera.services.records import create_records, update_record
from tessera.services.runtime import Actor, Runtime
from tessera.services.sample_data import standard_sample
from tessera.services.tenants import CreatedTenant
from tessera.testing import GraphQLClient, drop_custom_objects, tenant_scope

NO_CHANGE = {"objectsCreated": 0, "objectsUpdated": 0, "fieldsCreated": 0, "fieldsUpdated": 0, "rulesCreated": 0,
             "rulesUpdated": 0, "workflowsCreated": 0, "workflowsUpdated": 0, "automationApplied": 0}
NO_REOPEN = 'AND(ISPICKVAL(PRIORVALUE(stage), "closedWon"), NOT(ISPICKVAL(stage, "closedWon")))'
INPUT_FIELDS = "query($type: String!) { __type(name: $type) { inputFields { name type { kind } } } }"


@pytest.fixture(scope="module")
def shared_tenant(runtime: Runtime) -> Iterator[CreatedTenant]:
    """One tenant for the module; each test leaves it without custom objects and without rules."""
    with tenant_scope(runtime) as created:
        yield created


@pytest.fixture
def shared(runtime: Runtime, shared_tenant: CreatedTenant) -> Iterator[CreatedTenant]:
    yield shared_tenant
    actor = _actor(runtime, shared_tenant)
    for obj in _meta(runtime, shared_tenant).objects:
        for rule in obj.validation_rules if obj.origin == "standard" else ():
            delete_validation_rule(runtime, actor, {"object": obj.name, "name": rule.name})
    drop_custom_objects(runtime, shared_tenant)


def _actor(runtime: Runtime, created: CreatedTenant) -> Actor:
    return Actor(runtime.tenant(created.tenant.slug), created.admin_user_id)


def _meta(runtime: Runtime, created: CreatedTenant) -> TenantMetadata:
    ref = runtime.tenant(created.tenant.slug)
    with runtime.db.system.connect() as conn:
        return load_metadata(conn, ref)


def _model(runtime: Runtime, created: CreatedTenant) -> TenantModel:
    """The tenant's model at its current metadata version."""
    ref = runtime.tenant(created.tenant.slug)
    with runtime.read(ref) as conn:
        return runtime.model(conn, ref)


def _create(runtime: Runtime, created: CreatedTenant, obj: str, rows: list[dict[str, Any]], **kw: Any) -> list[str]:
    return create_records(runtime, _actor(runtime, created), _model(runtime, created), obj, rows, **kw)


def _update(runtime: Runtime, created: CreatedTenant, obj: str, record_id: str, data: dict[str, Any]) -> str:
    return update_record(runtime, _actor(runtime, created), _model(runtime, created), obj, record_id, data)


def _rule(runtime: Runtime, created: CreatedTenant, obj: str, name: str, expression: str, message: Any,
          **extra: Any) -> None:
    data = {"object": obj, "name": name, "expression": expression, "message": message, **extra}
    create_validation_rule(runtime, _actor(runtime, created), data)


def _rows(runtime: Runtime, created: CreatedTenant, obj: str, *columns: str, where: Any = None) -> list[tuple[Any, ...]]:
    """Stored values of the live records of ``obj`` (by column name), oldest first."""
    model = _model(runtime, created)
    table = model.tables.table(obj)
    query = sa.select(*(table.c[c] for c in columns)).where(table.c.deleted_at.is_(None))
    if where is not None:
        query = query.where(where(table))
    with runtime.read(runtime.tenant(created.tenant.slug)) as conn:
        return [tuple(row) for row in conn.execute(query.order_by(table.c.created_at, table.c.id))]


def _named(prefix: str) -> Any:
    return lambda table: table.c.name.startswith(prefix)


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _opportunity(name: str, **data: Any) -> dict[str, Any]:
    return {"name": name, "closeDate": "2026-06-30", **data}


def _gql(app: Any, created: CreatedTenant) -> GraphQLClient:
    return GraphQLClient(app, created.token)


# --- rules on the service write path ------------------------------------------------------------


def test_create_records_enforces_rules_naming_each_row(runtime: Runtime, shared: CreatedTenant) -> None:
    # given a rule refusing opportunities above 1000
    _rule(runtime, shared, "opportunity", "bigDeal", "amount > 1000", {"en": "Too big", "zh": "太大"}, field="amount")
    prefix = _unique("svc")
    rows = [_opportunity(f"{prefix}-{i}", amount=amount) for i, amount in enumerate(["10", "1000.01", "1000"])]
    # when three rows are created in one bulk call
    with pytest.raises(ValidationErrors) as refused:
        _create(runtime, shared, "opportunity", rows)
    # then row 1 is named with the rule's English message, field and name, and nothing is inserted
    assert refused.value.message == "data.1: Too big"
    assert refused.value.field == "amount"
    assert [(e.field, e.message, e.details) for e in refused.value.errors] == [
        ("amount", "data.1: Too big", {"rule": "bigDeal", "index": 1}),
    ]
    assert _rows(runtime, shared, "opportunity", "name", where=_named(prefix)) == []
    # and a single (non-bulk) create of the bad row is refused without a row index
    with pytest.raises(ValidationErrors) as single:
        _create(runtime, shared, "opportunity", [rows[1]], bulk=False)
    assert [(e.message, e.details) for e in single.value.errors] == [("Too big", {"rule": "bigDeal"})]
    # and the good rows go through
    ids = _create(runtime, shared, "opportunity", [rows[0], rows[2]])
    assert len(ids) == 2
    stored = _rows(runtime, shared, "opportunity", "name", "amount", where=_named(prefix))
    assert sorted((name, str(amount)) for name, amount in stored) == [
        (f"{prefix}-0", "10.00"), (f"{prefix}-2", "1000.00"),
    ]


def test_update_record_enforces_rules_against_prior_values(runtime: Runtime, shared: CreatedTenant) -> None:
    # given a won opportunity and the rule that a won deal stays won
    prefix = _unique("won")
    [record_id] = _create(runtime, shared, "opportunity", [_opportunity(prefix, stage="closedWon")])
    _rule(runtime, shared, "opportunity", "wonIsFinal", NO_REOPEN, "A won deal cannot be reopened", field="stage")
    # when it is moved back to proposal through the service
    with pytest.raises(ValidationError) as refused:
        _update(runtime, shared, "opportunity", record_id, {"stage": "proposal"})
    # then the update is refused with the rule's message, field and name, and the record is unchanged
    assert (refused.value.message, refused.value.field, refused.value.details) == (
        "A won deal cannot be reopened", "stage", {"rule": "wonIsFinal"},
    )
    assert _rows(runtime, shared, "opportunity", "stage", "version", where=_named(prefix)) == [("closedWon", 1)]
    # and an update keeping it won goes through
    _update(runtime, shared, "opportunity", record_id, {"nextStep": "Invoice"})
    assert _rows(runtime, shared, "opportunity", "stage", "next_step", "version", where=_named(prefix)) == [
        ("closedWon", "Invoice", 2),
    ]


def test_sample_data_goes_through_the_rules(runtime: Runtime, tenant: CreatedTenant) -> None:
    # given a rule refusing retail accounts, and the sample accounts it refuses (by position)
    actor = _actor(runtime, tenant)
    create_validation_rule(runtime, actor, {"object": "account", "name": "noRetail",
                                            "expression": 'ISPICKVAL(industry, "retail")', "message": "No retail"})
    retail = [i for i, a in enumerate(standard_sample(accounts=40)["account"]) if a.get("industry") == "retail"]
    assert retail
    # when the sample data is loaded
    with pytest.raises(ValidationErrors) as refused:
        load_sample_data(runtime, actor, accounts=40)
    # then the load is refused naming exactly the retail accounts, and nothing is inserted
    assert [(e.details["index"], e.details["rule"]) for e in refused.value.errors] == [(i, "noRetail") for i in retail]
    assert _rows(runtime, tenant, "account", "id") == []
    # and once the rule is inactive the same load goes through
    update_validation_rule(runtime, actor, {"object": "account", "name": "noRetail", "active": False})
    assert load_sample_data(runtime, actor, accounts=40)["account"] == 40
    assert len(_rows(runtime, tenant, "account", "id")) == 40


# --- default value expressions ------------------------------------------------------------------

TICKET_FIELDS = [
    {"name": "title", "type": "TEXT"},
    {"name": "dueOn", "type": "DATE", "defaultExpression": "ADDDAYS(TODAY(), 30)"},
    {"name": "reference", "type": "TEXT", "defaultExpression": '"T-" & TEXT(YEAR(TODAY()))'},
    {"name": "fee", "type": "CURRENCY", "precision": 10, "scale": 2, "defaultExpression": "7 / 2"},
    {"name": "seats", "type": "INTEGER", "defaultExpression": "6 * 7"},
    {"name": "urgent", "type": "BOOLEAN", "defaultExpression": "1 > 2"},
    {"name": "openedAt", "type": "DATETIME", "defaultExpression": "NOW()"},
]
TICKET_SELECTION = "title dueOn reference fee seats urgent openedAt"


def _ticket_object(runtime: Runtime, created: CreatedTenant) -> None:
    create_object(runtime, _actor(runtime, created), {"name": "ticket", "pluralName": "tickets",
                                                      "fields": TICKET_FIELDS})


def _ticket(gql: GraphQLClient, record_id: str) -> dict[str, Any]:
    return gql.data(f"query($id: ID!) {{ ticket(id: $id) {{ {TICKET_SELECTION} }} }}", {"id": record_id})["ticket"]


def test_default_expressions_fill_the_fields_left_out(app: Any, runtime: Runtime, shared: CreatedTenant) -> None:
    # given an object whose fields default to expressions
    _ticket_object(runtime, shared)
    # when a record is created with a title only (around now, UTC)
    before = datetime.now(UTC).replace(microsecond=0)
    first_day = before.date()
    [record_id] = _create(runtime, shared, "ticket", [{"title": "Printer"}])
    after = datetime.now(UTC)
    # then every other field holds its expression's value: TODAY() is the UTC date
    ticket = _ticket(_gql(app, shared), record_id)
    today = date.fromisoformat(ticket["dueOn"]) - timedelta(days=30)
    assert today in {first_day, after.date()}
    assert ticket["reference"] == f"T-{today.year}"
    assert (ticket["fee"], ticket["seats"], ticket["urgent"]) == ("3.50", 42, False)
    assert before <= datetime.fromisoformat(ticket["openedAt"]) <= after


def test_given_values_win_and_a_given_null_is_not_defaulted(app: Any, runtime: Runtime, shared: CreatedTenant) -> None:
    # given an object whose fields default to expressions
    _ticket_object(runtime, shared)
    # when a record is created with a date, a fee, and null for the reference and the seats
    data = {"title": "Given", "dueOn": "2030-01-31", "fee": "12", "reference": None, "seats": None}
    [record_id] = _create(runtime, shared, "ticket", [data])
    # then the given values are kept, including the nulls; the fields left out are defaulted
    ticket = _ticket(_gql(app, shared), record_id)
    assert {k: ticket[k] for k in ("dueOn", "fee", "reference", "seats", "urgent")} == {
        "dueOn": "2030-01-31", "fee": "12.00", "reference": None, "seats": None, "urgent": False,
    }
    # and an update does not default anything either
    _update(runtime, shared, "ticket", record_id, {"title": "Changed"})
    assert _ticket(_gql(app, shared), record_id)["reference"] is None


def test_rules_see_defaulted_values(runtime: Runtime, shared: CreatedTenant) -> None:
    # given an object with a defaulted reference and a rule that the reference must be set
    _ticket_object(runtime, shared)
    _rule(runtime, shared, "ticket", "needsReference", "ISBLANK(reference)", "Give a reference", field="reference")
    # when a ticket leaves the reference out, and another gives null
    _create(runtime, shared, "ticket", [{"title": "Defaulted"}])
    with pytest.raises(ValidationErrors) as refused:
        _create(runtime, shared, "ticket", [{"title": "Ok"}, {"title": "Null", "reference": None}])
    # then the defaulted one passes and the null one is refused
    assert [(e.field, e.message, e.details) for e in refused.value.errors] == [
        ("reference", "data.1: Give a reference", {"rule": "needsReference", "index": 1}),
    ]
    assert [t for (t,) in _rows(runtime, shared, "ticket", "title")] == ["Defaulted"]


def test_default_expression_through_the_api(app: Any, runtime: Runtime, shared: CreatedTenant) -> None:
    # given an object, and a required DATE field with a default expression added through the API
    create_object(runtime, _actor(runtime, shared), {"name": "visit", "pluralName": "visits", "fields": [
        {"name": "title", "type": "TEXT", "required": True}]})
    gql = _gql(app, shared)
    field = gql.data(
        """mutation { createField(input: {object: "visit", name: "visitOn", type: DATE, required: true,
                        defaultExpression: "ADDDAYS(TODAY(), 7)"}) { name required defaultValue defaultExpression } }"""
    )["createField"]
    # then the definition shows the expression
    assert field == {"name": "visitOn", "required": True, "defaultValue": None,
                     "defaultExpression": "ADDDAYS(TODAY(), 7)"}
    read = gql.data('{ object(name: "visit") { field(name: "visitOn") { defaultExpression } } }')
    assert read["object"]["field"] == {"defaultExpression": "ADDDAYS(TODAY(), 7)"}
    # and the create input requires the title (no default) but not the defaulted date
    kinds = {f["name"]: f["type"]["kind"] for f in gql.data(INPUT_FIELDS, {"type": "VisitCreateInput"})["__type"]["inputFields"]}
    assert (kinds["title"], kinds["visitOn"]) == ("NON_NULL", "SCALAR")
    # when a visit is created without a date, one with a date, and one with null
    first_day = datetime.now(UTC).date()
    defaulted = gql.data('mutation { createVisit(data: {title: "A"}) { visitOn } }')["createVisit"]
    last_day = datetime.now(UTC).date()
    given = gql.data('mutation { createVisit(data: {title: "B", visitOn: "2027-02-01"}) { visitOn } }')["createVisit"]
    null = gql.error('mutation { createVisit(data: {title: "C", visitOn: null}) { visitOn } }')
    # then the date is defaulted a week ahead, a given one is kept, and null is refused as required
    assert date.fromisoformat(defaulted["visitOn"]) in {first_day + timedelta(days=7), last_day + timedelta(days=7)}
    assert given == {"visitOn": "2027-02-01"}
    assert (null["extensions"]["code"], null["extensions"]["field"], null["message"]) == (
        "VALIDATION_ERROR", "visitOn", "visitOn is required",
    )
    # and through the API, a text default for a date and a default given both ways are refused
    mismatch = gql.error('mutation { createField(input: {object: "visit", name: "nextOn", type: DATE, '
                         'defaultExpression: "\\"soon\\""}) { name } }')
    both = gql.error('mutation { createField(input: {object: "visit", name: "nextOn", type: DATE, '
                     'defaultValue: "2027-01-01", defaultExpression: "TODAY()"}) { name } }')
    assert mismatch["extensions"] == {
        "code": "VALIDATION_ERROR", "field": "defaultExpression", "line": 1, "column": 1,
        "reason": "type mismatch: default values must give DATE, this gives TEXT", "kind": "type_mismatch",
    }
    assert (both["extensions"], both["message"]) == (
        {"code": "VALIDATION_ERROR", "field": "defaultExpression"},
        "give either defaultValue or defaultExpression, not both",
    )


def test_default_expression_changed_later_applies_to_new_records_only(
    app: Any, runtime: Runtime, shared: CreatedTenant
) -> None:
    # given an object with a plain TEXT field and a record without a value in it
    actor = _actor(runtime, shared)
    create_object(runtime, actor, {"name": "memo", "pluralName": "memos", "fields": [{"name": "tag", "type": "TEXT"}]})
    [old] = _create(runtime, shared, "memo", [{}])
    # when the field gets a default expression, then another, then none
    update_field(runtime, actor, {"object": "memo", "name": "tag", "defaultExpression": 'UPPER("first")'})
    [first] = _create(runtime, shared, "memo", [{}])
    update_field(runtime, actor, {"object": "memo", "name": "tag", "defaultExpression": '"second"'})
    [second] = _create(runtime, shared, "memo", [{}])
    update_field(runtime, actor, {"object": "memo", "name": "tag", "defaultExpression": None})
    [last] = _create(runtime, shared, "memo", [{}])
    # then each record holds the default of its time, and the older record is unchanged
    gql = _gql(app, shared)
    tags = [gql.data("query($id: ID!) { memo(id: $id) { tag } }", {"id": i})["memo"]["tag"] for i in (old, first, second, last)]
    assert tags == [None, "FIRST", "second", None]
    assert _meta(runtime, shared).by_name["memo"].fields_by_name["tag"].default_expression is None


@pytest.mark.parametrize(
    ("field", "message", "kind"),
    [
        ({"type": "DATE", "defaultExpression": '"2026-01-01"'},
         "defaultExpression: 1:1: type mismatch: default values must give DATE, this gives TEXT", "type_mismatch"),
        ({"type": "INTEGER", "defaultExpression": "7 / 2"},
         "defaultExpression: 1:3: type mismatch: default values must give INTEGER, this gives NUMBER", "type_mismatch"),
        ({"type": "TEXT", "defaultExpression": "title"},
         "defaultExpression: 1:1: default values cannot read fields ('title')", "unknown_field"),
        ({"type": "BOOLEAN", "defaultExpression": "ISNEW()"},
         "defaultExpression: 1:1: ISNEW is not allowed in default values (only in validation rules, workflow conditions, "
         "workflow actions)",
         "not_allowed"),
        ({"type": "NUMBER", "defaultExpression": "1 +"}, "defaultExpression: 1:4: unexpected end of expression", "syntax"),
    ],
    ids=["text-for-date", "number-for-integer", "reads-a-field", "isnew", "syntax"],
)
def test_invalid_default_expressions_are_refused(
    runtime: Runtime, shared: CreatedTenant, field: dict[str, Any], message: str, kind: str
) -> None:
    # given an object with a title
    actor = _actor(runtime, shared)
    create_object(runtime, actor, {"name": "gadget", "pluralName": "gadgets", "fields": [{"name": "title", "type": "TEXT"}]})
    # when a field with an invalid default expression is added
    with pytest.raises(ValidationError) as refused:
        create_field(runtime, actor, {"object": "gadget", "name": "extra", **field})
    # then it is refused on defaultExpression, positioned, and the field is not added
    assert (refused.value.field, refused.value.message, refused.value.details["kind"]) == (
        "defaultExpression", message, kind,
    )
    assert [f.name for f in _meta(runtime, shared).by_name["gadget"].fields] == ["title"]


def test_default_value_and_default_expression_together_are_refused(runtime: Runtime, shared: CreatedTenant) -> None:
    # given an object with a field defaulting to a value, and one defaulting to an expression
    actor = _actor(runtime, shared)
    create_object(runtime, actor, {"name": "widget", "pluralName": "widgets", "fields": [
        {"name": "size", "type": "INTEGER", "defaultValue": 3},
        {"name": "colour", "type": "TEXT", "defaultExpression": '"red"'},
    ]})
    # when a field is added with both, the first gets an expression, the second a value
    refusals = []
    for call, data in [
        (create_field, {"name": "dual", "type": "INTEGER", "defaultValue": 1, "defaultExpression": "2"}),
        (update_field, {"name": "size", "defaultExpression": "4"}),
        (update_field, {"name": "colour", "defaultValue": "blue"}),
    ]:
        with pytest.raises(ValidationError) as refused:
            call(runtime, actor, {"object": "widget", **data})
        refusals.append((refused.value.field, refused.value.message))
    # then each is refused on defaultExpression and the fields keep their defaults
    assert refusals == [("defaultExpression", "give either defaultValue or defaultExpression, not both")] * 3
    fields = _meta(runtime, shared).by_name["widget"].fields_by_name
    assert list(fields) == ["size", "colour"]
    assert (fields["size"].default_value, fields["size"].default_expression) == (3, None)
    assert (fields["colour"].default_value, fields["colour"].default_expression) == (None, '"red"')
    # and switching is allowed when the other default is cleared in the same update
    update_field(runtime, actor, {"object": "widget", "name": "size", "defaultValue": None, "defaultExpression": "2 + 2"})
    update_field(runtime, actor, {"object": "widget", "name": "colour", "defaultValue": "blue", "defaultExpression": None})
    fields = _meta(runtime, shared).by_name["widget"].fields_by_name
    assert (fields["size"].default_value, fields["size"].default_expression) == (None, "2 + 2")
    assert (fields["colour"].default_value, fields["colour"].default_expression) == ("blue", None)
    _create(runtime, shared, "widget", [{}])
    assert _rows(runtime, shared, "widget", "size", "colour") == [(4, "blue")]


def test_types_without_defaults_refuse_a_default_expression(runtime: Runtime, shared: CreatedTenant) -> None:
    # given an object
    actor = _actor(runtime, shared)
    create_object(runtime, actor, {"name": "crate", "pluralName": "crates"})
    # when a LOOKUP and an AUTO_NUMBER field are added with default expressions
    refusals = []
    for field in [{"name": "owner2", "type": "LOOKUP", "target": "account", "defaultExpression": '"x"'},
                  {"name": "code", "type": "AUTO_NUMBER", "format": "C-{000}", "defaultExpression": '"C-1"'}]:
        with pytest.raises(ValidationError) as refused:
            create_field(runtime, actor, {"object": "crate", **field})
        refusals.append((refused.value.field, refused.value.message))
    # then both are refused on defaultExpression
    assert refusals == [
        ("defaultExpression", "LOOKUP fields cannot have a default value"),
        ("defaultExpression", "AUTO_NUMBER fields cannot have a default value"),
    ]


def test_default_expression_giving_an_invalid_value_is_refused_at_write(runtime: Runtime, shared: CreatedTenant) -> None:
    # given defaults that type-check but break their field's settings: a text longer than the field,
    # a number above its maximum, and null for a required field
    actor = _actor(runtime, shared)
    create_object(runtime, actor, {"name": "badge", "pluralName": "badges", "fields": [
        {"name": "title", "type": "TEXT"},
        {"name": "code", "type": "TEXT", "maxLength": 3, "defaultExpression": '"ABCD"'},
        {"name": "level", "type": "INTEGER", "min": 1, "max": 5, "defaultExpression": "2 * 3"},
        {"name": "issuedOn", "type": "DATE", "required": True, "defaultExpression": "NULL"},
    ]})
    # when a record leaves them out
    with pytest.raises(ValidationErrors) as refused:
        _create(runtime, shared, "badge", [{"title": "x"}], bulk=False)
    # then each is refused on its field, saying that its default expression is at fault
    errors = {e.field: e.message for e in refused.value.errors}
    assert set(errors) == {"code", "level", "issuedOn"}
    for name in ("code", "level"):
        assert errors[name].startswith(f"{name}: its default value expression gives an invalid value ("), errors[name]
    assert errors["issuedOn"] == "issuedOn is required (its default value expression gives null)"
    assert _rows(runtime, shared, "badge", "title") == []
    # and giving the values explicitly works
    _create(runtime, shared, "badge", [{"title": "y", "code": "ABC", "level": 5, "issuedOn": "2026-01-02"}])
    assert _rows(runtime, shared, "badge", "code", "level") == [("ABC", 5)]


PHASE_OPTIONS = [{"value": "plan"}, {"value": "build"}]


def test_a_picklist_default_expression_gives_one_of_its_options(runtime: Runtime, shared: CreatedTenant) -> None:
    # given a picklist whose default is a text expression choosing an option
    actor = _actor(runtime, shared)
    create_object(runtime, actor, {"name": "stint", "pluralName": "stints", "fields": [
        {"name": "phase", "type": "PICKLIST", "options": PHASE_OPTIONS,
         "defaultExpression": 'IF(YEAR(TODAY()) > 2000, "build", "plan")'}]})
    # when a record leaves it out, it gets the option the expression gives
    _create(runtime, shared, "stint", [{}])
    assert _rows(runtime, shared, "stint", "phase") == [("build",)]
    # and an expression giving a text that is not an option is refused when a record is written
    update_field(runtime, actor, {"object": "stint", "name": "phase", "defaultExpression": '"bogus"'})
    with pytest.raises(ValidationErrors) as refused:
        _create(runtime, shared, "stint", [{}])
    error = refused.value.errors[0]
    assert error.field == "phase"
    assert error.message == (
        "data.0: phase: its default value expression gives an invalid value ('bogus' is not one of plan, build)"
    )
    # and a number is no picklist default at all: refused when saved
    with pytest.raises(ValidationError) as wrong_type:
        update_field(runtime, actor, {"object": "stint", "name": "phase", "defaultExpression": "42"})
    assert wrong_type.value.field == "defaultExpression"
    assert "default values must give TEXT, this gives INTEGER" in wrong_type.value.message


# --- packages -----------------------------------------------------------------------------------

CONTRACT = {
    "name": "contract",
    "pluralName": "contracts",
    "label": {"en": "Contract", "zh": "合同"},
    "fields": [
        {"name": "title", "type": "TEXT", "required": True},
        {"name": "total", "type": "CURRENCY", "precision": 12, "scale": 2},
        {"name": "startsOn", "type": "DATE", "defaultExpression": "TODAY()"},
        {"name": "endsOn", "type": "DATE", "defaultExpression": "ADDDAYS(TODAY(), 365)"},
        {"name": "monthly", "type": "FORMULA", "resultType": "CURRENCY", "expression": "total / 12"},
    ],
    "validationRules": [
        {"name": "endsAfterStart", "expression": "endsOn <= startsOn",
         "message": {"en": "A contract ends after it starts", "zh": "合同结束日期须晚于开始日期"}, "field": "endsOn"},
        {"name": "monthlyCap", "expression": "monthly > 1000", "message": "At most 1000 a month",
         "active": False, "description": {"en": "Finance approval limit"}},
    ],
}


def _contract(**changes: Any) -> dict[str, Any]:
    spec = yaml.safe_load(yaml.safe_dump(CONTRACT, allow_unicode=True))
    spec.update(changes)
    return spec


def test_package_with_rules_and_default_expressions_applies_exports_and_round_trips(
    runtime: Runtime, shared: CreatedTenant, tmp_path: Any
) -> None:
    # given a package with default expressions, a formula and two rules, one inactive
    actor = _actor(runtime, shared)
    # when it is applied
    counts = apply_package(runtime, actor, [_contract()])
    # then the object, its fields and its rules are created and counted
    assert counts == {**NO_CHANGE, "objectsCreated": 1, "fieldsCreated": 5, "rulesCreated": 2}
    contract = _meta(runtime, shared).by_name["contract"]
    assert contract.fields_by_name["endsOn"].default_expression == "ADDDAYS(TODAY(), 365)"
    assert [(r.name, r.active, r.field, r.origin, dict(r.message)) for r in contract.validation_rules] == [
        ("endsAfterStart", True, "endsOn", "custom",
         {"en": "A contract ends after it starts", "zh": "合同结束日期须晚于开始日期"}),
        ("monthlyCap", False, None, "custom", {"en": "At most 1000 a month"}),
    ]
    # and the records follow them: defaults apply, the active rule refuses, the inactive one does not
    _create(runtime, shared, "contract", [{"title": "Defaulted", "total": "24000"}])
    with pytest.raises(ValidationErrors) as refused:
        _create(runtime, shared, "contract", [{"title": "Backwards", "startsOn": "2026-05-01", "endsOn": "2026-04-30"}])
    assert [(e.message, e.details["rule"]) for e in refused.value.errors] == [
        ("data.0: A contract ends after it starts", "endsAfterStart"),
    ]
    [(starts, ends)] = _rows(runtime, shared, "contract", "starts_on", "ends_on")
    assert (ends - starts).days == 365
    # and the export holds the rules and expressions as the package spells them, messages as locale maps
    exported = export_metadata(_meta(runtime, shared))
    [spec] = [o for o in yaml.safe_load(exported)["objects"] if o["name"] == "contract"]
    assert spec["validationRules"] == [
        CONTRACT["validationRules"][0],
        {**CONTRACT["validationRules"][1], "message": {"en": "At most 1000 a month"}},
    ]
    assert {f["name"]: f.get("defaultExpression") for f in spec["fields"]} == {
        "title": None, "total": None, "startsOn": "TODAY()", "endsOn": "ADDDAYS(TODAY(), 365)", "monthly": None,
    }
    # and re-applying the package or its export changes nothing
    path = tmp_path / "export.yaml"
    path.write_text(exported, encoding="utf-8")
    assert apply_package(runtime, actor, [_contract()]) == NO_CHANGE
    assert apply_package(runtime, actor, read_package(path)) == NO_CHANGE
    # when the export is applied to a fresh tenant
    with tenant_scope(runtime) as fresh:
        fresh_counts = apply_package(runtime, _actor(runtime, fresh), read_package(path))
        # then the same definitions are created, the export is the same text, and re-applying is a no-op
        assert fresh_counts == counts
        assert export_metadata(_meta(runtime, fresh)) == exported
        assert apply_package(runtime, _actor(runtime, fresh), read_package(path)) == NO_CHANGE


def test_changed_rules_and_default_expressions_in_a_package_are_counted(
    runtime: Runtime, shared: CreatedTenant
) -> None:
    # given an applied package
    actor = _actor(runtime, shared)
    apply_package(runtime, actor, [_contract()])
    # when its next version changes one rule's message
    reworded = _contract()
    reworded["validationRules"][0]["message"] = {"en": "End after the start", "zh": "结束须晚于开始"}
    first = apply_package(runtime, actor, [reworded])
    # then one rule update is counted and the message changed
    assert first == {**NO_CHANGE, "rulesUpdated": 1}
    rule = _meta(runtime, shared).by_name["contract"].rule("endsAfterStart")
    assert rule is not None and dict(rule.message) == {"en": "End after the start", "zh": "结束须晚于开始"}
    assert apply_package(runtime, actor, [reworded]) == NO_CHANGE
    # when the next one activates the other rule, and changes a default expression
    activated = yaml.safe_load(yaml.safe_dump(reworded, allow_unicode=True))
    del activated["validationRules"][1]["active"]
    activated["fields"][3]["defaultExpression"] = "ADDDAYS(TODAY(), 30)"
    second = apply_package(runtime, actor, [activated])
    # then one rule and one field update are counted, and the rule is now enforced
    assert second == {**NO_CHANGE, "fieldsUpdated": 1, "rulesUpdated": 1}
    contract = _meta(runtime, shared).by_name["contract"]
    assert contract.fields_by_name["endsOn"].default_expression == "ADDDAYS(TODAY(), 30)"
    with pytest.raises(ValidationErrors) as refused:
        _create(runtime, shared, "contract", [{"title": "Big", "total": "12012"}])
    assert [(e.message, e.details["rule"]) for e in refused.value.errors] == [
        ("data.0: At most 1000 a month", "monthlyCap"),
    ]
    assert apply_package(runtime, actor, [activated]) == NO_CHANGE


def test_package_with_a_bad_rule_is_refused_naming_object_and_rule(runtime: Runtime, shared: CreatedTenant) -> None:
    # given a package whose second rule reads a field the object does not have
    broken = _contract()
    broken["validationRules"][1]["expression"] = "monthy > 1000"
    before = _meta(runtime, shared).objects
    # when it is applied
    with pytest.raises(ValidationError) as refused:
        apply_package(runtime, _actor(runtime, shared), [broken])
    # then the refusal names contract.monthlyCap and the problem, and nothing is applied
    assert refused.value.field == "expression"
    assert refused.value.message == "contract.monthlyCap: 1:1: unknown field 'monthy' on contract (did you mean 'monthly'?)"
    assert _meta(runtime, shared).objects == before


def test_package_with_a_bad_default_expression_is_refused(runtime: Runtime, shared: CreatedTenant) -> None:
    # given a package whose date field defaults to a text
    broken = _contract()
    broken["fields"][2]["defaultExpression"] = '"tomorrow"'
    before = _meta(runtime, shared).objects
    # when it is applied
    with pytest.raises(ValidationError) as refused:
        apply_package(runtime, _actor(runtime, shared), [broken])
    # then the refusal names contract.startsOn and defaultExpression, and nothing is applied
    assert refused.value.field == "defaultExpression"
    assert refused.value.message == (
        "contract.startsOn: defaultExpression: 1:1: type mismatch: default values must give DATE, this gives TEXT"
    )
    assert _meta(runtime, shared).objects == before
