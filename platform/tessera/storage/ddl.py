"""Runtime DDL for record tables, issued through Alembic's ``Operations`` inside a transaction.

SQLite cannot alter most of a column in place, so changes other than ADD COLUMN use Alembic's
batch mode (copy the table inside the same transaction). PostgreSQL runs each metadata
transaction with a short ``lock_timeout`` so a change waits briefly for readers, then retries,
instead of queueing every later reader behind it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy.engine import Engine

from tessera.core.errors import Conflict
from tessera.core.logging import log

T = TypeVar("T")
logger = logging.getLogger("tessera.ddl")


class DDL:
    """DDL operations on one connection (and so inside its transaction)."""

    def __init__(self, conn: sa.Connection, schema: str) -> None:
        self.conn = conn
        self.schema = schema
        self.sqlite = conn.dialect.name == "sqlite"
        self.ops = Operations(MigrationContext.configure(conn))

    def create_table(self, name: str, columns: Iterable[sa.Column]) -> None:
        self.ops.create_table(name, *columns, schema=self.schema)

    def drop_table(self, name: str) -> None:
        self.ops.drop_table(name, schema=self.schema)

    def add_column(self, table_name: str, column: sa.Column) -> None:
        if self.sqlite and column.foreign_keys:
            # NOTE: SQLite's ADD COLUMN cannot add a constraint Alembic can see; batch copies.
            with self.ops.batch_alter_table(table_name, schema=self.schema, recreate="always") as batch:
                batch.add_column(column)
            return
        self.ops.add_column(table_name, column, schema=self.schema)

    def drop_column(self, table_name: str, column_name: str) -> None:
        if self.sqlite:
            with self.ops.batch_alter_table(table_name, schema=self.schema, recreate="always") as batch:
                batch.drop_column(column_name)
            return
        self.ops.drop_column(table_name, column_name, schema=self.schema)

    def alter_column_type(self, table_name: str, column_name: str, new_type: Any, using: str | None = None) -> None:
        kwargs: dict[str, Any] = {"type_": new_type}
        if self.sqlite:
            with self.ops.batch_alter_table(table_name, schema=self.schema, recreate="always") as batch:
                batch.alter_column(column_name, **kwargs)
            return
        if using:
            kwargs["postgresql_using"] = using
        self.ops.alter_column(table_name, column_name, schema=self.schema, **kwargs)

    def create_index(self, name: str, table_name: str, columns: Iterable[str], unique: bool) -> None:
        self.ops.create_index(name, table_name, list(columns), unique=unique, schema=self.schema)

    def drop_index(self, name: str, table_name: str) -> None:
        self.ops.drop_index(name, table_name=table_name, schema=self.schema)


def _is_lock_timeout(exc: sa.exc.DBAPIError) -> bool:
    return getattr(getattr(exc, "orig", None), "sqlstate", None) == "55P03"


def in_metadata_transaction(
    engine: Engine, work: Callable[[sa.Connection], T], *, lock_timeout_ms: int, retries: int
) -> T:
    """Run ``work`` in one transaction; on PostgreSQL retry it when a DDL lock wait times out."""
    attempt = 0
    while True:
        attempt += 1
        try:
            with engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(lock_timeout_ms)}ms'")
                return work(conn)
        except sa.exc.OperationalError as exc:
            if not _is_lock_timeout(exc):
                raise
            if attempt > retries:
                raise Conflict(
                    "the table is busy with long-running queries; the metadata change was not applied, "
                    "try again"
                ) from exc
            log(logger, logging.WARNING, "ddl lock timeout, retrying", attempt=attempt)
            time.sleep(min(0.05 * 2**attempt, 2.0))
