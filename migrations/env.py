"""Alembic environment for Tessera's system tables.

The ``Database`` is handed in by ``tessera.storage.migrations`` through ``config.attributes``;
there is no alembic.ini, so configuration lives in one place (``TESSERA_*`` variables).
"""

from __future__ import annotations

from alembic import context

from tessera.storage.system_tables import metadata as target_metadata

database = context.config.attributes["database"]


def run_migrations_online() -> None:
    with database.system.connect() as connection:
        raw = connection.connection.dbapi_connection if database.is_sqlite else None
        if raw is not None:
            # NOTE: batch mode rebuilds a SQLite table by copying it and dropping the original; with
            # foreign keys on, the drop would cascade-delete every row referencing it (all field
            # definitions when object_defs is rebuilt). The pragma only works outside a transaction.
            raw.execute("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=database.is_sqlite,
            version_table_schema=database.config.system_schema,
        )
        with context.begin_transaction():
            context.run_migrations()
            if raw is not None:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise RuntimeError(f"migration left rows with broken references: {broken[:5]}")
        connection.commit()
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=ON")


run_migrations_online()
