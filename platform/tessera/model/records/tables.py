"""SQLAlchemy tables built from object definitions, one set per (tenant, metadata version)."""

from __future__ import annotations

import hashlib
from functools import cached_property

import sqlalchemy as sa

from tessera.model.definitions import FieldDef, ObjectDef, TenantMetadata
from tessera.model.field_types import registry
from tessera.storage.types import UTCDateTime

ON_DELETE_SQL = {"RESTRICT": "RESTRICT", "SET_NULL": "SET NULL", "CASCADE": "CASCADE"}


def system_columns() -> list[sa.Column]:
    return [
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=True),
        sa.Column("updated_by", sa.String(36), nullable=True),
        sa.Column("owner_id", sa.String(36), nullable=True, index=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
    ]


def field_column(
    field: FieldDef, schema: str, table_name: str, target_table: str | None = None
) -> sa.Column:
    """The column of one field; lookups carry their foreign key when ``target_table`` is given."""
    field_type = registry().of(field)
    args: list[object] = []
    if field.is_lookup and target_table is not None:
        args.append(
            sa.ForeignKey(
                f"{schema}.{target_table}.id",
                ondelete=ON_DELETE_SQL[field.opt("onDelete", "SET_NULL")],
                name=constraint_name("fk", table_name, field.column_name),
            )
        )
    # NOTE: required is enforced by the write path, not NOT NULL, so that adding a required
    # field to a table that holds rows never fails and old rows read as missing a value.
    return sa.Column(field.column_name, field_type.column_type(field), *args, nullable=True)


def constraint_name(prefix: str, table_name: str, column_name: str) -> str:
    """A name within PostgreSQL's 63 characters that stays unique: long ones end in a hash."""
    name = f"{prefix}_{table_name}_{column_name}"
    if len(name) <= 63:
        return name
    return f"{name[:54]}_{hashlib.sha1(name.encode()).hexdigest()[:8]}"


def index_name(table_name: str, column_name: str, unique: bool) -> str:
    return constraint_name("uq" if unique else "ix", table_name, column_name)


class RecordTables:
    """Tables for every object of one tenant metadata version.

    ``foreign_keys=False`` leaves lookups without database constraints: on SQLite, where a table
    rebuild (batch ALTER) drops and re-creates a table, a declared ``ON DELETE CASCADE`` would
    fire on the drop. Referential integrity is then kept by the write path alone.
    """

    def __init__(self, meta: TenantMetadata, *, foreign_keys: bool = True) -> None:
        self.meta = meta
        self.foreign_keys = foreign_keys
        self.sa_metadata = sa.MetaData()
        self._tables: dict[str, sa.Table] = {}
        for obj in meta.objects:
            self._tables[obj.name] = self._build(obj)

    def _build(self, obj: ObjectDef) -> sa.Table:
        schema = self.meta.schema_name
        columns = system_columns()
        for field in obj.stored_fields:
            target = None
            if self.foreign_keys and field.is_lookup and field.target:
                target = self.meta.object(field.target)
            columns.append(field_column(field, schema, obj.table_name, target.table_name if target else None))
        table = sa.Table(obj.table_name, self.sa_metadata, *columns, schema=schema)
        for field in obj.stored_fields:
            if field.unique:
                sa.Index(index_name(obj.table_name, field.column_name, True), table.c[field.column_name], unique=True)
            elif field.indexed or field.is_lookup:
                sa.Index(index_name(obj.table_name, field.column_name, False), table.c[field.column_name])
        return table

    def table(self, object_name: str) -> sa.Table:
        return self._tables[object_name]

    @cached_property
    def all(self) -> dict[str, sa.Table]:
        return dict(self._tables)
