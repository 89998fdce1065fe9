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
