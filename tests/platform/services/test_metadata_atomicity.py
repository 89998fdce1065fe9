"""Every metadata change is all-or-nothing: when it fails half-way (after its definition rows were written
and part of its DDL ran), the definitions, the real tables, columns and indexes, the data and the tenant's
metadata version are exactly as before, and the next change works."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tessera.core.errors import ValidationError
from tessera.model.registry import load_metadata
from tessera.services.metadata import create_field, create_object, delete_field, delete_object, update_field
from tessera.services.packages import apply_package
from tessera.services.runtime import Actor, Runtime
from tessera.services.tenants import CreatedTenant
from tessera.storage.ddl import DDL
from tessera.storage.system_tables import field_defs, object_defs
from tessera.testing import GraphQLClient, tenant_scope

OBJECTS = "{ objects { name pluralName fields { name type } } }"


class InjectedFailure(Exception):
    """Raised by a sabotaged DDL step in the middle of a change."""


@pytest.fixture(scope="module")
def shared_tenant(runtime: Runtime) -> Iterator[CreatedTenant]:
    """One tenant; each test works on objects of its own names."""
    with tenant_scope(runtime) as created:
        yield created


@pytest.fixture
def actor(runtime: Runtime, shared_tenant: CreatedTenant) -> Actor:
    return Actor(runtime.tenant(shared_tenant.tenant.slug), shared_tenant.admin_user_id)


@pytest.fixture
def gql(app: Any, shared_tenant: CreatedTenant) -> GraphQLClient:
    return GraphQLClient(app, shared_tenant.token)


def _snapshot(runtime: Runtime, created: CreatedTenant) -> dict[str, Any]:
    """The tenant's definitions, metadata version and real tables (columns, indexes, foreign keys)."""
    ref = runtime.tenant(created.tenant.slug)
    with runtime.db.system.connect() as conn:
        objects = load_metadata(conn, ref).objects
    schema = ref.schema_name
    inspector = sa.inspect(runtime.db.tenant(schema))
    tables = {}
    for table in sorted(inspector.get_table_names(schema=schema)):
        tables[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"])
                for c in inspector.get_columns(table, schema=schema)
            ],
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table, schema=schema)
            ),
            "foreign_keys": sorted(
                (tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in inspector.get_foreign_keys(table, schema=schema)
            ),
        }
    return {"version": ref.metadata_version, "objects": objects, "tables": tables}


def _rows(runtime: Runtime, created: CreatedTenant, table: str) -> list[dict[str, Any]]:
    schema = created.tenant.schema_name
    engine = runtime.db.tenant(schema)
    reflected = sa.Table(table, sa.MetaData(), schema=schema, autoload_with=engine)
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(sa.select(reflected).order_by(reflected.c.id)).mappings()]


def _sabotage(
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    *,
    check: Callable[[DDL], None] | None = None,
    on_call: int = 1,
) -> list[int]:
    """Make ``DDL.<method>`` run for real and then fail (on its ``on_call``-th call); returns the call log."""
    original = getattr(DDL, method)
    calls: list[int] = []

    def failing(self: DDL, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        calls.append(1)
        if len(calls) == on_call:
            if check is not None:
                check(self)
            raise InjectedFailure(f"{method} failed")
        return result

    monkeypatch.setattr(DDL, method, failing)
    return calls


def _has_row(table: sa.Table, **where: str) -> Callable[[DDL], None]:
    """A check, run inside the change's transaction, that the definition row was already written."""

    def check(ddl: DDL) -> None:
        condition = sa.and_(*[table.c[k] == v for k, v in where.items()])
        assert (
            ddl.conn.execute(sa.select(sa.func.count()).select_from(table).where(condition)).scalar_one() == 1
        )

    return check


def test_create_object_failing_after_its_rows_and_table_leaves_nothing(
    runtime: Runtime,
    actor: Actor,
    shared_tenant: CreatedTenant,
    gql: GraphQLClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given the tenant as it is, and an index creation that fails after the object's row, table and field
    before = _snapshot(runtime, shared_tenant)
    api_before = gql.data(OBJECTS)
    calls = _sabotage(
        monkeypatch, "create_index", check=_has_row(object_defs, tenant_id=actor.tenant.id, name="warehouse")
    )
    # when an object with an indexed field is created
    with pytest.raises(InjectedFailure):
        create_object(
            runtime,
            actor,
            {
                "name": "warehouse",
                "pluralName": "warehouses",
                "fields": [
                    {"name": "city", "type": "TEXT"},
                    {"name": "code", "type": "TEXT", "indexed": True},
                ],
            },
        )
    # then the failure happened mid-way, and nothing of it remains: rows, table, version
    assert calls == [1]
    assert _snapshot(runtime, shared_tenant) == before
    assert "warehouse" not in before["tables"]
    assert gql.data(OBJECTS) == api_before
    # and the same change goes through afterwards, as one new version
    monkeypatch.undo()
    create_object(
        runtime,
        actor,
        {
            "name": "warehouse",
            "pluralName": "warehouses",
            "fields": [
                {"name": "city", "type": "TEXT"},
                {"name": "code", "type": "TEXT", "indexed": True},
            ],
        },
    )
    after = _snapshot(runtime, shared_tenant)
    assert after["version"] == before["version"] + 1
    assert [c[0] for c in after["tables"]["warehouse"]["columns"]][-2:] == ["city", "code"]
    assert gql.data("{ warehouses { totalCount } }") == {"warehouses": {"totalCount": 0}}


def test_create_object_whose_second_field_is_invalid_leaves_nothing(
    runtime: Runtime, shared_tenant: CreatedTenant, gql: GraphQLClient
) -> None:
    # given the tenant as it is
    before = _snapshot(runtime, shared_tenant)
    api_before = gql.data(OBJECTS)
    # when an object is created whose first field is fine and second field is a lookup to nowhere
    error = gql.error(
        "mutation($input: CreateObjectInput!) { createObject(input: $input) { name } }",
        {
            "input": {
                "name": "depot",
                "pluralName": "depots",
                "fields": [
                    {"name": "city", "type": "TEXT", "unique": True},
                    {"name": "owner2", "type": "LOOKUP", "target": "nowhere"},
                ],
            }
        },
    )
    # then it is refused naming the second field, and the table, the first field and the version are gone
    assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": "fields.1.target"}
    assert "nowhere" in error["message"]
    assert _snapshot(runtime, shared_tenant) == before
    assert gql.data(OBJECTS) == api_before


@pytest.mark.parametrize(
    ("method", "spec"),
    [
        ("add_column", {"name": "stockLevel", "type": "INTEGER"}),
        ("add_column", {"name": "region", "type": "LOOKUP", "target": "account"}),
        ("create_index", {"name": "serial", "type": "TEXT", "unique": True}),
    ],
    ids=["column", "lookup-column", "unique-index"],
)
def test_add_field_failing_leaves_no_column_and_no_definition(
    runtime: Runtime,
    actor: Actor,
    shared_tenant: CreatedTenant,
    gql: GraphQLClient,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    spec: dict[str, Any],
) -> None:
    # given an object holding a record
    obj = f"store{method.title().replace('_', '')}{spec['name'].title()}"
    create_object(
        runtime, actor, {"name": obj, "pluralName": f"{obj}s", "fields": [{"name": "title", "type": "TEXT"}]}
    )
    gql.data(f'mutation {{ create{obj[0].upper()}{obj[1:]}(data: {{title: "kept"}}) {{ id }} }}')
    before = _snapshot(runtime, shared_tenant)
    rows_before = _rows(runtime, shared_tenant, before["objects"][-1].table_name)
    # and a DDL step that fails after the field's row was written and its DDL ran
    calls = _sabotage(
        monkeypatch, method, check=_has_row(field_defs, tenant_id=actor.tenant.id, name=spec["name"])
    )
    # when the field is added
    with pytest.raises(InjectedFailure):
        create_field(runtime, actor, {"object": obj, **spec})
    # then definitions, columns, indexes, data and version are as before
    assert calls == [1]
    assert _snapshot(runtime, shared_tenant) == before
    assert _rows(runtime, shared_tenant, before["objects"][-1].table_name) == rows_before


def test_update_field_type_failing_after_the_column_changed_keeps_type_and_data(
    runtime: Runtime,
    actor: Actor,
    shared_tenant: CreatedTenant,
    gql: GraphQLClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a TEXT field whose values would all convert to INTEGER
    create_object(
        runtime,
        actor,
        {
            "name": "sensor",
            "pluralName": "sensors",
            "fields": [
                {"name": "reading", "type": "TEXT", "indexed": True},
            ],
        },
    )
    for value in ("1", "22", "333"):
        gql.data(f'mutation {{ createSensor(data: {{reading: "{value}"}}) {{ id }} }}')
    before = _snapshot(runtime, shared_tenant)
    rows_before = _rows(runtime, shared_tenant, "sensor")
    # and a column type change that runs and then fails
    calls = _sabotage(monkeypatch, "alter_column_type")
    # when the field becomes an INTEGER
    with pytest.raises(InjectedFailure):
        update_field(runtime, actor, {"object": "sensor", "name": "reading", "type": "INTEGER"})
    # then the definition, the column type, its index, the data and the version are as before
    assert calls == [1]
    assert _snapshot(runtime, shared_tenant) == before
    assert _rows(runtime, shared_tenant, "sensor") == rows_before
    readings = gql.data("{ sensors(orderBy: [{reading: AscNullsLast}]) { edges { node { reading } } } }")
    assert [e["node"]["reading"] for e in readings["sensors"]["edges"]] == ["1", "22", "333"]


def test_update_field_failing_on_its_new_index_keeps_the_old_definition(
    runtime: Runtime, actor: Actor, shared_tenant: CreatedTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a plain TEXT field
    create_object(
        runtime,
        actor,
        {"name": "locker", "pluralName": "lockers", "fields": [{"name": "tag", "type": "TEXT"}]},
    )
    before = _snapshot(runtime, shared_tenant)
    # and a unique index creation that fails after the definition row was rewritten
    _sabotage(monkeypatch, "create_index", check=lambda ddl: _assert_unique_in_transaction(ddl, actor, "tag"))
    # when it is made unique and longer
    with pytest.raises(InjectedFailure):
        update_field(runtime, actor, {"object": "locker", "name": "tag", "unique": True, "maxLength": 300})
    # then the definition is still plain, and the table unchanged
    assert _snapshot(runtime, shared_tenant) == before


def _assert_unique_in_transaction(ddl: DDL, actor: Actor, name: str) -> None:
    query = sa.select(field_defs.c.is_unique).where(
        field_defs.c.tenant_id == actor.tenant.id, field_defs.c.name == name
    )
    row = ddl.conn.execute(query).scalar_one()
    assert row is True


def test_delete_field_failing_after_the_column_was_dropped_keeps_column_and_data(
    runtime: Runtime,
    actor: Actor,
    shared_tenant: CreatedTenant,
    gql: GraphQLClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a field with data and a unique index on another field
    create_object(
        runtime,
        actor,
        {
            "name": "bin",
            "pluralName": "bins",
            "fields": [
                {"name": "label", "type": "TEXT", "unique": True},
                {"name": "capacity", "type": "INTEGER"},
            ],
        },
    )
    gql.data('mutation { createBins(data: [{label: "a", capacity: 3}, {label: "b", capacity: 5}]) { id } }')
    before = _snapshot(runtime, shared_tenant)
    rows_before = _rows(runtime, shared_tenant, "bin")

    def row_gone(ddl: DDL) -> None:
        query = sa.select(field_defs.c.id).where(
            field_defs.c.tenant_id == actor.tenant.id, field_defs.c.name == "capacity"
        )
        gone = ddl.conn.execute(query).first()
        assert gone is None

    calls = _sabotage(monkeypatch, "drop_column", check=row_gone)
    # when the field is deleted with confirm, and the drop fails after running
    with pytest.raises(InjectedFailure):
        delete_field(runtime, actor, {"object": "bin", "name": "capacity", "confirm": True})
    # then the definition, the column, the other field's unique index and the data are all there
    assert calls == [1]
    assert _snapshot(runtime, shared_tenant) == before
    assert _rows(runtime, shared_tenant, "bin") == rows_before
    assert ("uq_bin_label", ("label",), True) in before["tables"]["bin"]["indexes"]


def test_delete_object_failing_after_the_table_was_dropped_keeps_table_and_records(
    runtime: Runtime,
    actor: Actor,
    shared_tenant: CreatedTenant,
    gql: GraphQLClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given an object holding records
    create_object(
        runtime,
        actor,
        {"name": "pallet", "pluralName": "pallets", "fields": [{"name": "load", "type": "TEXT"}]},
    )
    gql.data('mutation { createPallets(data: [{load: "x"}, {load: "y"}]) { id } }')
    before = _snapshot(runtime, shared_tenant)
    rows_before = _rows(runtime, shared_tenant, "pallet")
    calls = _sabotage(monkeypatch, "drop_table")
    # when it is deleted with confirm, and the drop fails after running
    with pytest.raises(InjectedFailure):
        delete_object(runtime, actor, "pallet", confirm=True)
    # then the object, its table and its records are all there
    assert calls == [1]
    assert _snapshot(runtime, shared_tenant) == before
    assert _rows(runtime, shared_tenant, "pallet") == rows_before
    assert gql.data("{ pallets { totalCount } }") == {"pallets": {"totalCount": 2}}


PACKAGE = [
    {"name": "fleet", "pluralName": "fleets", "fields": [{"name": "title", "type": "TEXT", "indexed": True}]},
    {
        "name": "truck",
        "pluralName": "trucks",
        "fields": [
            {"name": "fleet", "type": "LOOKUP", "target": "fleet"},
            {"name": "plate", "type": "TEXT", "unique": True},
        ],
    },
    {
        "name": "driver",
        "pluralName": "drivers",
        "fields": [
            {"name": "truck", "type": "LOOKUP", "target": "truck"},
            {"name": "licence", "type": "TEXT"},
        ],
    },
]


def test_package_failing_on_its_last_objects_field_applies_nothing(
    runtime: Runtime, actor: Actor, shared_tenant: CreatedTenant, gql: GraphQLClient
) -> None:
    # given a package whose last object's last field is invalid
    package = [
        *PACKAGE[:2],
        {**PACKAGE[2], "fields": [*PACKAGE[2]["fields"], {"name": "age", "type": "AGE"}]},
    ]
    before = _snapshot(runtime, shared_tenant)
    api_before = gql.data(OBJECTS)
    # when it is applied
    with pytest.raises(ValidationError) as refused:
        apply_package(runtime, actor, package)
    # then it is refused naming the field, and none of its objects, tables or fields exist
    assert refused.value.message.startswith("driver.age: ")
    assert _snapshot(runtime, shared_tenant) == before
    assert gql.data(OBJECTS) == api_before
    # and the valid package applies afterwards
    counts = apply_package(runtime, actor, PACKAGE)
    assert counts == {"objectsCreated": 3, "objectsUpdated": 0, "fieldsCreated": 5, "fieldsUpdated": 0, "rulesCreated": 0, "rulesUpdated": 0, "workflowsCreated": 0, "workflowsUpdated": 0, "automationApplied": 0}
    assert _snapshot(runtime, shared_tenant)["version"] == before["version"] + 1


def test_package_whose_last_table_fails_applies_nothing(
    runtime: Runtime, actor: Actor, shared_tenant: CreatedTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a package of three objects, and a table creation that fails on the third one
    package = [
        {
            **spec,
            "name": f"x{spec['name']}",
            "pluralName": f"x{spec['pluralName']}",
            "fields": [f for f in spec["fields"] if f["type"] != "LOOKUP"],
        }
        for spec in PACKAGE
    ]
    before = _snapshot(runtime, shared_tenant)
    calls = _sabotage(
        monkeypatch,
        "create_table",
        on_call=3,
        check=_has_row(object_defs, tenant_id=actor.tenant.id, name="xdriver"),
    )
    # when it is applied
    with pytest.raises(InjectedFailure):
        apply_package(runtime, actor, package)
    # then the first two tables are gone again, with every definition
    assert len(calls) == 3
    assert _snapshot(runtime, shared_tenant) == before
    assert not {"xfleet", "xtruck", "xdriver"} & set(before["tables"])
