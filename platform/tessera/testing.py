"""Test helpers for Tessera and for plugin authors: a runtime on SQLite or PostgreSQL, tenants,
a GraphQL client and a SQL statement counter.

The backend comes from ``TESSERA_TEST_DATABASE_URL`` (unset: SQLite in a temporary directory).
When it is set, an unreachable database fails the tests; it never skips them.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from sqlalchemy import event

from tessera.app import create_app
from tessera.core.config import Config
from tessera.core.errors import InUse, ValidationError
from tessera.jobs.transport import EmbeddedTransport
from tessera.model.registry import load_metadata
from tessera.services.metadata import delete_field, delete_object
from tessera.services.runtime import Actor, Runtime
from tessera.services.tenants import CreatedTenant, create_tenant, drop_tenant
from tessera.storage import migrations

TEST_DATABASE_URL = "TESSERA_TEST_DATABASE_URL"
TEST_REDIS_URL = "TESSERA_TEST_REDIS_URL"


def config_for_tests(data_dir: Path, *, prefix: str | None = None) -> Config:
    """A configuration for one test session: PostgreSQL with its own schema prefix, or SQLite.

    Connectors and webhooks may call private networks: tests serve their feeds and receivers on loopback.
    """
    url = os.environ.get(TEST_DATABASE_URL)
    prefix = prefix or f"tt{uuid.uuid4().hex[:8]}_"
    if url:
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.OperationalError as exc:
            raise RuntimeError(f"{TEST_DATABASE_URL} is set but the database is unreachable: {exc}") from exc
        finally:
            engine.dispose()
        return Config(data_dir=data_dir, database_url=url, redis_url=os.environ.get(TEST_REDIS_URL),
                      secret_key="test-secret", schema_prefix=prefix, allow_private_networks=True)
    return Config(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'tessera.db'}", redis_url=None,
                  secret_key="test-secret", schema_prefix="", allow_private_networks=True)


def migrated_runtime(config: Config) -> Runtime:
    """A runtime whose background jobs run in-process right after each commit (even when the
    configuration names Redis: tests of the rq path build their own transport)."""
    rt = Runtime(config)
    migrations.upgrade(rt.db)
    rt.transport = EmbeddedTransport(rt)
    return rt


def drop_test_schemas(config: Config) -> None:
    """Remove every PostgreSQL schema this test session created (its prefix)."""
    if config.is_sqlite:
        return
    engine = sa.create_engine(config.database_url)
    try:
        with engine.begin() as conn:
            names = conn.execute(
                sa.text("SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE :p"),
                {"p": config.schema_prefix.replace("_", "\\_") + "%"},
            ).scalars().all()
            for name in names:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        engine.dispose()


def new_tenant(rt: Runtime, slug: str | None = None, email: str = "admin@example.com") -> CreatedTenant:
    return create_tenant(rt, slug or f"t{uuid.uuid4().hex[:10]}", email)


@contextmanager
def tenant_scope(rt: Runtime, slug: str | None = None) -> Iterator[CreatedTenant]:
    created = new_tenant(rt, slug)
    try:
        yield created
    finally:
        drop_tenant(rt, created.tenant.slug)


def drop_custom_objects(rt: Runtime, created: CreatedTenant, keep: frozenset[str] = frozenset()) -> None:
    """Delete every non-standard object of a tenant (except ``keep``), looked-up ones last.

    Lets a module share one tenant while each test starts from the standard objects. When no object
    can go (a lookup one way, a formula reading a rollup the other way), the derived fields of the
    remaining objects are dropped first, as an admin would.
    """
    ref = rt.tenant(created.tenant.slug)
    actor = Actor(ref, created.admin_user_id)
    with rt.db.system.connect() as conn:
        pending = [
            o.name for o in load_metadata(conn, ref).objects if o.origin != "standard" and o.name not in keep
        ][::-1]
    while pending:
        left = []
        for name in pending:
            try:
                delete_object(rt, actor, name, confirm=True)
            except (ValidationError, InUse):  # still looked up or read by an object deleted later
                left.append(name)
        if len(left) == len(pending) and not _drop_derived_fields(rt, actor, left):
            raise AssertionError(f"cannot delete {left}")
        pending = left


def _drop_derived_fields(rt: Runtime, actor: Actor, objects: list[str]) -> bool:
    """Delete the formula and rollup fields of ``objects`` that nothing else reads; True if any went."""
    with rt.db.system.connect() as conn:
        derived = [(o.name, f.name) for o in load_metadata(conn, actor.tenant).objects if o.name in objects
                   for f in o.fields if f.type in ("FORMULA", "ROLLUP")][::-1]
    dropped = False
    for obj, name in derived:
        try:
            delete_field(rt, actor, {"object": obj, "name": name, "confirm": True})
            dropped = True
        except (ValidationError, InUse):  # read by another derived field, dropped in a later round
            continue
    return dropped


@dataclass
class GraphQLClient:
    """Posts GraphQL documents to a Flask app as a given token."""

    app: Flask
    token: str | None
    last_status: int = 0

    def post(self, payload: Any, headers: dict[str, str] | None = None) -> Any:
        all_headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        all_headers.update(headers or {})
        response = self.app.test_client().post("/graphql", json=payload, headers=all_headers)
        self.last_status = response.status_code
        return response.get_json()

    def execute(self, query: str, variables: dict[str, Any] | None = None, **headers: str) -> dict[str, Any]:
        """The whole response (``data`` and ``errors``)."""
        return self.post({"query": query, "variables": variables or {}}, headers=headers or None)

    def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The ``data`` of a response that must have no errors."""
        result = self.execute(query, variables)
        assert not result.get("errors"), result.get("errors")
        return result["data"]

    def error(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The first error of a response that must fail."""
        result = self.execute(query, variables)
        assert result.get("errors"), f"expected an error, got {result}"
        return result["errors"][0]


@dataclass
class StatementCounter:
    """Counts SQL statements sent through an engine while active."""

    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def count_statements(engine: sa.Engine) -> Iterator[StatementCounter]:
    counter = StatementCounter()

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "SET ", "ROLLBACK", "COMMIT", "SAVEPOINT", "RELEASE")):
            counter.statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", before)


def make_app(rt: Runtime) -> Flask:
    return create_app(runtime=rt)


@contextmanager
def serve_wsgi(wsgi_app: Any) -> Iterator[str]:
    """Serve a WSGI app (a test's fake provider or receiver) on a loopback port, in a thread; yields
    its base URL (``http://127.0.0.1:<port>``) and stops it afterwards."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
