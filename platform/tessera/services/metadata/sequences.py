"""Counters for auto-number fields, kept in the ``sequences`` system table."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from tessera.model.definitions import FieldDef, ObjectDef
from tessera.model.field_types.builtin import AutoNumberType
from tessera.model.registry import TenantRef
from tessera.services.metadata.change import Change
from tessera.storage.system_tables import sequences

RENDER = AutoNumberType()


def sequence_name(obj: ObjectDef, field: FieldDef) -> str:
    return f"{obj.name}.{field.name}"


def take_numbers(conn: sa.Connection, tenant: TenantRef, obj: ObjectDef, field: FieldDef, count: int) -> list[str]:
    """Reserve ``count`` consecutive numbers (inside the caller's transaction) and render them."""
    name = sequence_name(obj, field)
    # NOTE: create-if-missing first, without failing when a concurrent transaction creates it too;
    # the UPDATE then queues behind the other writer's row lock and reads its committed value.
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        insert(sequences)
        .values(tenant_id=tenant.id, name=name, next_value=int(field.opt("startAt", 1)))
        .on_conflict_do_nothing(index_elements=[sequences.c.tenant_id, sequences.c.name])
    )
    after = conn.execute(
        sa.update(sequences)
        .where(sequences.c.tenant_id == tenant.id, sequences.c.name == name)
        .values(next_value=sequences.c.next_value + count)
        .returning(sequences.c.next_value)
    ).scalar_one()
    first = after - count
    return [RENDER.render(field, n) for n in range(first, first + count)]


def backfill_auto_number(change: Change, obj: ObjectDef, field: FieldDef) -> None:
    """Number the records that existed before the field, oldest first."""
    conn = change.conn
    table = change.tables().table(obj.name)
    ids = conn.execute(sa.select(table.c.id).order_by(table.c.created_at, table.c.id)).scalars().all()
    if not ids:
        return
    numbers = take_numbers(conn, change.tenant, obj, field, len(ids))
    target = sa.Table(table.name, sa.MetaData(), sa.Column("id", sa.String(36)), sa.Column(field.column_name, sa.String(64)), schema=table.schema)
    conn.execute(
        target.update().where(target.c.id == sa.bindparam("_id")).values({field.column_name: sa.bindparam("_n")}),
        [{"_id": i, "_n": n} for i, n in zip(ids, numbers, strict=True)],
    )


def drop_sequences(change: Change, obj: ObjectDef, field: FieldDef | None = None) -> None:
    """Forget the counters of a deleted auto-number field (or of every field of a deleted object)."""
    condition = sequences.c.tenant_id == change.tenant.id
    if field is not None:
        condition = sa.and_(condition, sequences.c.name == sequence_name(obj, field))
    else:
        condition = sa.and_(condition, sequences.c.name.startswith(f"{obj.name}.", autoescape=True))
    change.conn.execute(sequences.delete().where(condition))
