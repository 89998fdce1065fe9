"""Engines: one for the system tables, and the way to reach a tenant's data.

PostgreSQL: one engine; tenant tables are schema-qualified, system tables sit on the
``search_path``. SQLite: the system file is ``main`` and each tenant's own database file is
attached under the tenant's schema name, so one connection (and one transaction) spans both.
"""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

from tessera.core.config import Config


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


class Database:
    """Owns every engine of a process for one configuration."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._tenant_engines: dict[str, Engine] = {}
        self.system = self._make_engine(attach=None)

    @property
    def is_sqlite(self) -> bool:
        return self.config.is_sqlite

    def tenant_file(self, schema_name: str) -> Path:
        return self.config.data_dir / "tenants" / f"{schema_name}.db"

    def tenant(self, schema_name: str) -> Engine:
        """The engine whose connections can reach ``schema_name`` together with system tables."""
        if not self.is_sqlite:
            return self.system
        with self._lock:
            engine = self._tenant_engines.get(schema_name)
            if engine is None:
                engine = self._make_engine(attach=schema_name)
                self._tenant_engines[schema_name] = engine
            return engine

    def forget_tenant(self, schema_name: str) -> None:
        with self._lock:
            engine = self._tenant_engines.pop(schema_name, None)
        if engine is not None:
            engine.dispose()

    def dispose(self) -> None:
        with self._lock:
            engines = list(self._tenant_engines.values())
            self._tenant_engines.clear()
        for engine in engines:
            engine.dispose()
        self.system.dispose()

    def _make_engine(self, attach: str | None) -> Engine:
        url = make_url(self.config.database_url)
        if url.get_backend_name() == "sqlite":
            return self._sqlite_engine(url, attach)
        schema = self.config.system_schema
        return sa.create_engine(
            url,
            pool_pre_ping=True,
            connect_args={"options": f"-c search_path={schema},public"},
        )

    def _sqlite_engine(self, url: sa.URL, attach: str | None) -> Engine:
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        attach_path = None
        if attach is not None:
            attach_path = self.tenant_file(attach)
            attach_path.parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            # NOTE: pysqlite's own transaction handling skips BEGIN before DDL; turning it off and
            # emitting BEGIN ourselves makes DDL transactional, which metadata changes rely on.
            dbapi_conn.isolation_level = None
            # SQLite's own lower() folds ASCII only; filters use this one to match PostgreSQL's.
            dbapi_conn.create_function("tessera_lower", 1, _lower, deterministic=True)
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if attach_path is not None:
                cursor.execute(f"ATTACH DATABASE ? AS \"{attach}\"", (str(attach_path),))
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):  # type: ignore[no-untyped-def]
            conn.exec_driver_sql("BEGIN")

        return engine
