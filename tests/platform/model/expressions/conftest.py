"""Fixtures for the expression language: a tenant with two custom objects and a few rows, on SQLite
always and also on PostgreSQL when TESSERA_TEST_DATABASE_URL is set.

``expr_world.check_case(source, expected, row)`` evaluates one expression in Python and in SQL against
the same stored row and asserts both give ``expected``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tessera.core.config import Config
from tessera.model.expressions import (
    CheckedExpression,
    Context,
    ExprType,
    RecordEnv,
    RecordResolver,
    check_for_object,
    compile_sql,
    evaluate,
)
from tessera.model.registry import TenantModel
from tessera.services.metadata import create_object
from tessera.services.records import create_records
from tessera.services.runtime import Actor, Runtime
from tessera.services.tenants import CreatedTenant
from tessera.storage.system_tables import users
from tessera.testing import (
    TEST_DATABASE_URL,
    config_for_tests,
    drop_test_schemas,
    migrated_runtime,
    new_tenant,
)

NOW = datetime(2024, 2, 29, 13, 45, 10, 123456, tzinfo=UTC)
"""A leap day, as what TODAY() and NOW() mean in these tests."""
BACKENDS = ["sqlite", *(["postgresql"] if os.environ.get(TEST_DATABASE_URL) else [])]
PG_SESSION_ZONE = "Pacific/Chatham"
"""PostgreSQL runs in an odd (+13:45) session time zone to prove UTC never depends on it."""
SAMPLE = "exprSample"
PARENT = "exprParent"

PARENT_OBJECT = {
    "name": PARENT, "pluralName": "exprParents",
    "fields": [
        {"name": "name", "type": "TEXT"},
        {"name": "tier", "type": "INTEGER"},
        {"name": "revenue", "type": "CURRENCY"},
        {"name": "founded", "type": "DATE"},
        {"name": "segment", "type": "PICKLIST", "options": [{"value": v} for v in ("smb", "mid", "ent")]},
        {"name": "manager", "type": "LOOKUP", "target": PARENT},
    ],
}
SAMPLE_OBJECT = {
    "name": SAMPLE, "pluralName": "exprSamples",
    "fields": [
        {"name": "title", "type": "TEXT"},
        {"name": "notes", "type": "LONG_TEXT"},
        {"name": "code", "type": "TEXT", "maxLength": 40},
        {"name": "qty", "type": "INTEGER"},
        {"name": "small", "type": "INTEGER"},
        {"name": "amount", "type": "CURRENCY"},
        {"name": "price", "type": "NUMBER", "precision": 18, "scale": 4},
        {"name": "rate", "type": "PERCENT"},
        {"name": "active", "type": "BOOLEAN"},
        {"name": "startDate", "type": "DATE"},
        {"name": "endDate", "type": "DATE"},
        {"name": "seenAt", "type": "DATETIME"},
        {"name": "doneAt", "type": "DATETIME"},
        {"name": "stage", "type": "PICKLIST", "options": [{"value": v} for v in ("new", "open", "won", "lost")]},
        {"name": "tags", "type": "MULTI_PICKLIST", "options": [{"value": v} for v in ("red", "green", "blue")]},
        {"name": "email", "type": "EMAIL"},
        {"name": "parent", "type": "LOOKUP", "target": PARENT},
    ],
}
PARENT_ROWS: dict[str, dict[str, Any]] = {
    "boss": {"name": "Boss", "tier": 1, "segment": "ent"},
    "acme": {"name": "Acme", "tier": 2, "revenue": "1000000.00", "founded": "1999-12-31", "segment": "ent"},
    "gone": {"name": "Gone", "tier": 3, "segment": "smb"},
}
SAMPLE_ROWS: dict[str, dict[str, Any]] = {
    "base": {
        "title": "Hello World", "notes": "  padded  ", "code": "AB-12", "qty": 42, "small": 3,
        "amount": "1234.56", "price": "0.2900", "rate": "12.5", "active": True,
        "startDate": "2024-01-31", "endDate": "2024-02-29",
        "seenAt": "2024-02-29T23:59:59.999999Z", "doneAt": "2023-12-31T00:00:00Z",
        "stage": "won", "tags": ["red", "blue"], "email": "a@example.com",
    },
    "blank": {},
    "edge": {
        "title": "", "notes": "ÄÖü é", "code": "-3.50", "qty": -7, "small": -1, "amount": "-0.01",
        "price": "-12.3456", "rate": "0", "active": False, "startDate": "2024-02-29", "endDate": "2023-03-01",
        "seenAt": "1999-12-31T23:59:59Z", "doneAt": "2000-01-01T00:00:00Z", "stage": "lost", "tags": [],
    },
    "orphan": {"title": "Orphan"},
}


@dataclass
class ExprWorld:
    """A tenant with ``exprParent`` and ``exprSample`` records, and one open connection to query them."""

    rt: Runtime
    created: CreatedTenant
    model: TenantModel
    conn: sa.Connection
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def dialect(self) -> str:
        return self.rt.dialect

    def check(self, source: str, context: Context = Context.FORMULA, expected: ExprType | None = None,
              object_name: str = SAMPLE) -> CheckedExpression:
        return check_for_object(source, self.model.meta, object_name, context, expected=expected)

    def values(self, row: str, object_name: str = SAMPLE) -> dict[str, Any]:
        loaded = record_values(self.conn, self.model, object_name, self.ids[row])
        assert loaded is not None
        return loaded

    def python(self, checked: CheckedExpression, row: str = "base", now: datetime = NOW) -> Any:
        return evaluate(checked, RecordEnv(self.values(row), now=now))

    def sql(self, checked: CheckedExpression, row: str = "base", now: datetime = NOW) -> Any:
        table = self.model.tables.table(SAMPLE)
        column = compile_sql(checked, RecordResolver(self.model.tables, SAMPLE), dialect=self.dialect, now=now)
        return self.scalar(sa.select(column).where(table.c.id == self.ids[row]))

    def scalar(self, statement: sa.Executable) -> Any:
        try:
            return self.conn.execute(statement).scalar_one()
        except sa.exc.DBAPIError:
            self.conn.rollback()
            raise

    def check_case(self, source: str, expected: Any, row: str = "base") -> None:
        """Given the row, when ``source`` runs in Python and in SQL, then both give ``expected``."""
        checked = self.check(source)
        in_python = self.python(checked, row)
        in_sql = self.sql(checked, row)
        assert same(in_python, expected, exact=True), f"Python: {source} on {row} = {in_python!r}, not {expected!r}"
        assert same(in_sql, expected, exact=False), (
            f"SQL ({self.dialect}): {source} on {row} = {in_sql!r}, not {expected!r}"
        )


def same(actual: Any, expected: Any, *, exact: bool) -> bool:
    """Equal values of the same Python type; SQL numbers may differ by 1e-9 (relative or absolute)."""
    if expected is None or actual is None:
        return actual is None and expected is None
    if type(actual) is not type(expected):
        return False
    if isinstance(expected, Decimal) and not exact:
        return abs(actual - expected) <= Decimal("1e-9") * max(Decimal(1), abs(expected))
    return bool(actual == expected)


def record_values(conn: sa.Connection, model: TenantModel, object_name: str, record_id: str | None,
                  hops: int = 3) -> dict[str, Any] | None:
    """A live record's values by API name, lookups nested (``{"id": ...}`` only once deleted)."""
    table = model.tables.table(object_name)
    row = conn.execute(
        sa.select(table).where(table.c.id == record_id, table.c.deleted_at.is_(None))
    ).mappings().first()
    if row is None:
        return None
    obj = model.meta.object(object_name)
    assert obj is not None
    values: dict[str, Any] = {"id": row["id"], "createdAt": row["created_at"], "updatedAt": row["updated_at"]}
    for name, column in (("owner", "owner_id"), ("createdBy", "created_by"), ("updatedBy", "updated_by")):
        values[name] = user_values(conn, row[column])
    for f in obj.fields:
        value = row[f.column_name]
        if f.is_lookup and value is not None:
            target = record_values(conn, model, f.target or "", value, hops - 1) if hops else None
            value = target or {"id": value}
        values[f.name] = value
    return values


def user_values(conn: sa.Connection, user_id: str | None) -> dict[str, Any] | None:
    if user_id is None:
        return None
    row = conn.execute(sa.select(users.c.id, users.c.name, users.c.email).where(users.c.id == user_id)).first()
    return {"id": user_id} if row is None else {"id": row.id, "name": row.name, "email": row.email}


def _config(backend: str, data_dir: Path) -> Config:
    if backend == "postgresql":
        return config_for_tests(data_dir)
    return Config(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'tessera.db'}", redis_url=None,
                  secret_key="test-secret")


@pytest.fixture(scope="session", params=BACKENDS)
def expr_runtime(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    config = _config(request.param, tmp_path_factory.mktemp(f"expr-{request.param}"))
    rt = migrated_runtime(config)
    try:
        yield rt
    finally:
        rt.close()
        drop_test_schemas(config)


@pytest.fixture(scope="session")
def expr_world(expr_runtime: Runtime) -> Iterator[ExprWorld]:
    rt = expr_runtime
    created = new_tenant(rt)
    actor = Actor(created.tenant, created.admin_user_id)
    create_object(rt, actor, PARENT_OBJECT)
    create_object(rt, actor, SAMPLE_OBJECT)
    tenant = rt.tenant(created.tenant.slug)
    actor = Actor(tenant, created.admin_user_id)
    with rt.read(tenant) as conn:
        model = rt.model(conn, tenant)
    ids: dict[str, str] = {}
    ids["boss"], ids["gone"] = create_records(rt, actor, model, PARENT, [PARENT_ROWS["boss"], PARENT_ROWS["gone"]])
    (ids["acme"],) = create_records(rt, actor, model, PARENT, [{**PARENT_ROWS["acme"], "manager": ids["boss"]}])
    rows = [{**SAMPLE_ROWS[k], "parent": ids[p]} if p else SAMPLE_ROWS[k]
            for k, p in (("base", "acme"), ("blank", None), ("edge", "boss"), ("orphan", "gone"))]
    ids["base"], ids["blank"], ids["edge"], ids["orphan"] = create_records(rt, actor, model, SAMPLE, rows)
    parents = model.tables.table(PARENT)
    with rt.write(tenant) as conn:
        # A lookup whose target sits in the recycle bin (the write path would have cleared it).
        conn.execute(parents.update().where(parents.c.id == ids["gone"]).values(deleted_at=NOW))
    engine = rt.db.tenant(tenant.schema_name)
    conn = engine.connect()
    if rt.dialect == "postgresql":
        conn.exec_driver_sql(f"SET TIME ZONE '{PG_SESSION_ZONE}'")
        conn.commit()
    try:
        yield ExprWorld(rt, created, model, conn, ids)
    finally:
        if rt.dialect == "postgresql":
            conn.rollback()
            conn.exec_driver_sql("RESET TIME ZONE")
            conn.commit()
        conn.close()


@pytest.fixture
def world(expr_world: ExprWorld) -> ExprWorld:
    return expr_world

