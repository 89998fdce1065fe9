"""The recycle bin: deleted records stay (hidden) until restored or purged.

``deleted_records`` lists what the caller could read; ``purge`` removes records for good
(administrators), and ``purge_expired`` removes those deleted longer ago than the tenant's
retention (default 30 days) — run by ``tessera records purge`` and, once jobs exist, on a schedule.
Field history of purged records is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.core.errors import Forbidden, LimitExceeded, NotFound
from tessera.model.access import Action
from tessera.model.definitions import ObjectDef
from tessera.model.registry import TenantModel
from tessera.services.audit import log_event
from tessera.services.records.history import HistoryWriter, output_value
from tessera.services.runtime import Actor, Runtime
from tessera.storage.system_tables import tenants

MAX_LISTED = 500
DEFAULT_LISTED = 50


@dataclass(frozen=True)
class DeletedRecord:
    id: str
    object: str
    deleted_at: datetime
    deleted_by: str | None
    values: dict[str, Any]
    """Readable field values, as the API shows them."""


def deleted_records(
    rt: Runtime, actor: Actor, model: TenantModel, object_name: str, *, first: int | None = 50
) -> list[DeletedRecord]:
    """Deleted records of an object the caller could read, most recently deleted first."""
    first = DEFAULT_LISTED if first is None else first
    if first > MAX_LISTED:
        raise LimitExceeded(f"first may be at most {MAX_LISTED}", field="first")
    obj = _object(model, actor, object_name)
    table = model.tables.table(obj.name)
    reach = actor.access.row_filter(obj, table)
    readable = {f.name for f in actor.access.profile.readable_fields(obj)}
    fields = [f for f in obj.stored_fields if f.name in readable]
    with rt.read(actor.tenant) as conn:
        rows = conn.execute(
            sa.select(table.c.id, table.c.deleted_at, table.c.updated_by, *[table.c[f.column_name] for f in fields])
            .where(table.c.deleted_at.is_not(None), *([reach] if reach is not None else []))
            .order_by(table.c.deleted_at.desc(), table.c.id).limit(max(first, 0))
        ).all()
    return [
        DeletedRecord(row[0], obj.name, row[1], row[2],
                      {f.name: output_value(f, row[3 + i]) for i, f in enumerate(fields)})
        for row in rows
    ]


def _object(model: TenantModel, actor: Actor, name: str) -> ObjectDef:
    obj = model.meta.object(name)
    if obj is None or not actor.access.can(obj, Action.READ):
        raise NotFound(f"object: no object '{name}'", field="object")
    return obj


def purge(rt: Runtime, actor: Actor, model: TenantModel, object_name: str, ids: Sequence[str] | None = None) -> int:
    """Remove deleted records of an object for good (all of them, or ``ids``); administrators only."""
    if not actor.access.profile.is_admin:
        raise Forbidden("only administrators empty the recycle bin")
    obj = _object(model, actor, object_name)
    table = model.tables.table(obj.name)
    with rt.write(actor.tenant) as conn:
        condition = table.c.deleted_at.is_not(None)
        if ids is not None:
            condition = sa.and_(condition, table.c.id.in_(list(ids)))
        count = _purge(conn, model, {obj.name: condition}, actor)
        log_event(conn, actor.tenant.id, "purge", target=f"object {obj.name}", user_id=actor.user_id,
                  details={"records": count})
    return count


def purge_expired(rt: Runtime, actor: Actor, *, now: datetime | None = None) -> int:
    """Remove every record deleted longer ago than the tenant's retention; returns how many."""
    with rt.db.system.connect() as conn:
        days = conn.execute(
            sa.select(tenants.c.recycle_retention_days).where(tenants.c.id == actor.tenant.id)
        ).scalar_one()
        model = rt.model(conn, actor.tenant)
    cutoff = (now or utcnow()) - timedelta(days=days)
    conditions = {
        obj.name: model.tables.table(obj.name).c.deleted_at < cutoff for obj in model.meta.objects
    }
    with rt.write(actor.tenant) as conn:
        count = _purge(conn, model, conditions, actor)
        if count:
            log_event(conn, actor.tenant.id, "purge", target="expired", user_id=actor.user_id,
                      details={"records": count, "deletedBefore": cutoff.isoformat()})
    return count


def _purge(
    conn: sa.Connection, model: TenantModel, conditions: dict[str, sa.ColumnElement[bool]], actor: Actor
) -> int:
    """Delete the matching rows of each object.

    What still looks up a purged record (deleted records left in the bin, above all) has that lookup
    emptied first, so it stays restorable and no foreign key holds up the deletes, in any order.
    """
    purged = {name: [row[0] for row in conn.execute(sa.select(model.tables.table(name).c.id).where(condition))]
              for name, condition in conditions.items()}
    history = HistoryWriter(conn, actor)
    gone = {(name, record_id) for name, ids in purged.items() for record_id in ids}
    for name, ids in purged.items():
        if not ids:
            continue
        for source, field in model.meta.referencing(name):
            table = model.tables.table(source.name)
            column = table.c[field.column_name]
            links = conn.execute(sa.select(table.c.id, column).where(column.in_(ids))).all()
            for child, target in links:
                if (source.name, child) not in gone:
                    history.cleared(source, field, [child], target)
            conn.execute(table.update().where(column.in_(ids)).values(
                {column.name: None, "version": table.c.version + 1}))
    history.flush()
    total = 0
    for name, ids in purged.items():
        if ids:
            table = model.tables.table(name)
            total += conn.execute(table.delete().where(table.c.id.in_(ids))).rowcount
    return total
