"""Running and checking the Alembic migrations of the system tables."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from tessera.core.errors import SchemaOutdated
from tessera.storage.engines import Database


def _migrations_dir() -> Path:
    """``migrations/`` sits at the project root in a checkout and inside the package when installed."""
    here = Path(__file__).resolve()
    for candidate in (here.parents[3] / "migrations", here.parents[1] / "_migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise FileNotFoundError("cannot find the Alembic migrations directory")


def alembic_config(db: Database) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(_migrations_dir()))
    cfg.attributes["database"] = db
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    """Create the system schema if needed and migrate it to ``revision`` (idempotent)."""
    schema = db.config.system_schema
    if schema is not None:
        with db.system.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    command.upgrade(alembic_config(db), revision)


def current_revision(db: Database) -> str | None:
    with db.system.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(db: Database) -> str | None:
    return ScriptDirectory.from_config(alembic_config(db)).get_current_head()


def require_current(db: Database) -> None:
    """Refuse to run on a database that is un-migrated or older than this code."""
    try:
        current = current_revision(db)
    except sa.exc.OperationalError as exc:  # pragma: no cover - unreachable database
        raise SchemaOutdated(f"cannot reach the database: {exc.orig}") from exc
    head = head_revision(db)
    if current is None:
        raise SchemaOutdated("the database is not initialised: run `tessera db upgrade`")
    if current != head:
        raise SchemaOutdated(
            f"the database is at revision {current} but this Tessera expects {head}: "
            "run `tessera db upgrade`"
        )
