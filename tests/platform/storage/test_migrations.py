"""System-table migrations: idempotent upgrade, and a clear refusal on an un-migrated or old database."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from tessera.app import create_app
from tessera.core.errors import SchemaOutdated
from tessera.services.runtime import Runtime
from tessera.storage import migrations
from tessera.testing import drop_test_schemas


@pytest.fixture
def fresh_runtime(runtime: Runtime, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A runtime on an empty database (its own SQLite file, or its own PostgreSQL schema prefix)."""
    config = runtime.config
    if config.is_sqlite:
        config = replace(config, data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'fresh.db'}")
    else:
        config = replace(config, schema_prefix=f"tm{uuid.uuid4().hex[:8]}_")
    rt = Runtime(config)
    try:
        yield rt
    finally:
        rt.close()
        drop_test_schemas(config)


def test_starting_on_an_unmigrated_database_says_what_to_do(fresh_runtime: Runtime) -> None:
    with pytest.raises(SchemaOutdated) as info:
        create_app(runtime=fresh_runtime)
    assert "tessera db upgrade" in info.value.message


def test_upgrade_is_idempotent_and_reaches_head(fresh_runtime: Runtime) -> None:
    migrations.upgrade(fresh_runtime.db)
    migrations.upgrade(fresh_runtime.db)
    assert migrations.current_revision(fresh_runtime.db) == migrations.head_revision(fresh_runtime.db)
    migrations.require_current(fresh_runtime.db)
    assert create_app(runtime=fresh_runtime).name == "tessera"


def test_starting_on_an_older_database_names_both_revisions(fresh_runtime: Runtime) -> None:
    migrations.upgrade(fresh_runtime.db)
    with fresh_runtime.db.system.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0000_older'"))
    with pytest.raises(SchemaOutdated) as info:
        migrations.require_current(fresh_runtime.db)
    assert "0000_older" in info.value.message
    assert str(migrations.head_revision(fresh_runtime.db)) in info.value.message


def test_upgrading_a_database_with_data_keeps_every_row(fresh_runtime: Runtime) -> None:
    # given a database at the first revision holding a tenant, a user with a token, an object and a field
    migrations.upgrade(fresh_runtime.db, "0001_system_tables")
    now = "2026-01-01 00:00:00+00:00"
    rows = {
        "tenants": "INSERT INTO tenants (id, slug, name, schema_name, metadata_version, created_at) "
                   "VALUES ('t1', 'acme', 'Acme', 't_acme', 3, :now)",
        "users": "INSERT INTO users (id, tenant_id, email, name, is_active, created_at) "
                 "VALUES ('u1', 't1', 'a@example.com', 'a', TRUE, :now)",
        "api_tokens": "INSERT INTO api_tokens (id, tenant_id, user_id, name, token_hash, created_at) "
                      "VALUES ('k1', 't1', 'u1', 'admin', 'hash', :now)",
        "object_defs": "INSERT INTO object_defs (id, tenant_id, name, plural_name, labels, plural_labels, origin, "
                       "table_name, created_at, updated_at) VALUES ('o1', 't1', 'deal', 'deals', '{}', '{}', "
                       "'custom', 'deal', :now, :now)",
        "field_defs": "INSERT INTO field_defs (id, tenant_id, object_id, name, column_name, type, labels, required, "
                      "is_unique, indexed, read_only, options, position, origin, created_at, updated_at) VALUES "
                      "('f1', 't1', 'o1', 'title', 'title', 'TEXT', '{}', FALSE, FALSE, FALSE, FALSE, '{}', 0, "
                      "'custom', :now, :now)",
    }
    with fresh_runtime.db.system.begin() as conn:
        for statement in rows.values():
            conn.execute(sa.text(statement), {"now": now})
    # when it is upgraded to the head revision (which rebuilds tables on SQLite)
    migrations.upgrade(fresh_runtime.db)
    # then every row is still there, and the new columns hold their defaults
    with fresh_runtime.db.system.connect() as conn:
        for table in rows:
            assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one() == 1, table
        user = conn.execute(sa.text("SELECT is_admin, role_id FROM users")).one()
        assert (bool(user.is_admin), user.role_id) == (True, None)  # every user was an administrator before
        assert conn.execute(sa.text("SELECT scope FROM api_tokens")).scalar_one() == "READ_WRITE"
        assert conn.execute(sa.text("SELECT sharing FROM object_defs")).scalar_one() == "PUBLIC_READ_WRITE"
        # and the tenant got the standard user set new tenants start with (its one object is custom)
        assert conn.execute(sa.text("SELECT name, origin FROM permission_sets")).one() == ("standardUser", "standard")
        assert conn.execute(sa.text("SELECT count(*) FROM object_permissions")).scalar_one() == 0


def test_migrations_build_exactly_the_declared_system_tables(fresh_runtime: Runtime) -> None:
    # Declarations (storage/system_tables.py) and migrations are written separately; they must agree.
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from tessera.storage.system_tables import metadata

    migrations.upgrade(fresh_runtime.db)
    with fresh_runtime.db.system.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        differences = [
            d for d in compare_metadata(context, metadata)
            if not (isinstance(d, tuple) and d[0] == "remove_table" and d[1].name == "alembic_version")
        ]
    assert differences == []
