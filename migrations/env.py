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
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=database.is_sqlite,
            version_table_schema=database.config.system_schema,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
