"""Field history: every create, update, delete and restore of a record, field by field, with who,
when and through which channel (api, ui, workflow, connector, import, plugin).

The write path records history in the same transaction as the change, so history and data never
disagree. Rows written by one operation share a ``change_id``; a restore uses it to put back the
lookups its delete had cleared (on delete: set null).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.core.errors import NotFound
from tessera.core.ids import is_uuid, new_id
from tessera.model.access import Action
from tessera.model.definitions import FieldDef, ObjectDef
from tessera.model.field_types import registry
from tessera.model.registry import TenantModel
from tessera.services.runtime import Actor, Runtime
from tessera.storage.system_tables import record_history, users

CREATE, UPDATE, DELETE, RESTORE = "CREATE", "UPDATE", "DELETE", "RESTORE"
OWNER = "owner"
"""History names the owner change ``owner`` (the column is ``owner_id``)."""


def output_value(field: FieldDef, value: Any) -> Any:
    """A stored value as history keeps it: the API's JSON form."""
    if value is None:
        return None
    return registry().of(field).to_output(field, value)


class HistoryWriter:
    """Collects the history rows of one write operation and inserts them in one statement."""

    def __init__(self, conn: sa.Connection, actor: Actor) -> None:
        self.conn = conn
        self.actor = actor
        self.change_id = new_id()
        self.at = utcnow()
        self.rows: list[dict[str, Any]] = []

    def _add(self, obj: ObjectDef, record_id: str, action: str, field: str | None = None,
             old: Any = None, new: Any = None) -> None:
        self.rows.append({
            "id": new_id(), "tenant_id": self.actor.tenant.id, "object_id": obj.id, "record_id": record_id,
            "action": action, "field": field, "old_value": old, "new_value": new, "user_id": self.actor.user_id,
            "channel": self.actor.channel, "change_id": self.change_id, "at": self.at, "seq": len(self.rows),
        })

    def created(self, obj: ObjectDef, record_id: str, columns: Mapping[str, Any]) -> None:
        """One row per tracked field given a value (one bare row when none is)."""
        written = False
        for field in obj.stored_fields:
            value = columns.get(field.column_name)
            if field.track_history and value is not None:
                self._add(obj, record_id, CREATE, field.name, None, output_value(field, value))
                written = True
        if not written:
            self._add(obj, record_id, CREATE)

    def updated(self, obj: ObjectDef, record_id: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        """One row per tracked field whose value changed (as the API shows it)."""
        for field in obj.stored_fields:
            if not field.track_history or field.column_name not in new:
                continue
            before, after = output_value(field, old.get(field.column_name)), output_value(field, new[field.column_name])
            if before != after:
                self._add(obj, record_id, UPDATE, field.name, before, after)
        if "owner_id" in new and new["owner_id"] != old.get("owner_id"):
            self._add(obj, record_id, UPDATE, OWNER, old.get("owner_id"), new["owner_id"])

    def deleted(self, obj: ObjectDef, ids: Iterable[str]) -> None:
        for record_id in ids:
            self._add(obj, record_id, DELETE)

    def restored(self, obj: ObjectDef, ids: Iterable[str]) -> None:
        for record_id in ids:
            self._add(obj, record_id, RESTORE)

    def cleared(self, obj: ObjectDef, field: FieldDef, ids: Iterable[str], target_id: str) -> None:
        """Lookups set to null because their target ``target_id`` was deleted."""
        for record_id in ids:
            self._add(obj, record_id, UPDATE, field.name, target_id, None)

    def flush(self) -> None:
        if self.rows:
            self.conn.execute(record_history.insert(), self.rows)
            self.rows = []


def cleared_by_delete(conn: sa.Connection, obj: ObjectDef, record_id: str) -> list[tuple[str, str, str]]:
    """(object id, record id, field) of lookups the last delete of ``record_id`` set to null."""
    change_id = conn.execute(
        sa.select(record_history.c.change_id)
        .where(record_history.c.object_id == obj.id, record_history.c.record_id == record_id,
               record_history.c.action == DELETE)
        .order_by(record_history.c.at.desc(), record_history.c.seq.desc()).limit(1)
    ).scalar()
    if change_id is None:
        return []
    rows = conn.execute(
        sa.select(record_history.c.object_id, record_history.c.record_id, record_history.c.field,
                  record_history.c.old_value, record_history.c.new_value)
        .where(record_history.c.change_id == change_id, record_history.c.action == UPDATE)
    ).all()
    return [(o, r, f) for o, r, f, old, new in rows if old == record_id and new is None]


# --- reading ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HistoryEntry:
    action: str
    field: str | None
    old_value: Any
    new_value: Any
    user: dict[str, str] | None
    """``{id, email, name}`` of who made the change (None for the platform itself)."""
    at: datetime
    channel: str


def record_history_of(rt: Runtime, actor: Actor, model: TenantModel, object_name: str, record_id: str) -> list[HistoryEntry]:
    """The history of a record the caller can read (deleted or not), without fields hidden from them."""
    obj = model.meta.object(object_name)
    if obj is None or not actor.access.can(obj, Action.READ):
        raise NotFound(f"object: no object '{object_name}'", field="object")
    table = model.tables.table(obj.name)
    reach = actor.access.row_filter(obj, table)
    with rt.read(actor.tenant) as conn:
        reachable = is_uuid(record_id) and conn.execute(
            sa.select(table.c.id).where(table.c.id == record_id, *([reach] if reach is not None else []))
        ).first() is not None
        # A purged record keeps no row: its history is then for administrators only.
        if not reachable and not actor.access.profile.is_admin:
            raise NotFound(f"no {obj.name} with id {record_id}", field="id")
        rows = conn.execute(
            sa.select(record_history, users.c.email, users.c.name)
            .select_from(record_history.outerjoin(users, users.c.id == record_history.c.user_id))
            .where(record_history.c.object_id == obj.id, record_history.c.record_id == record_id)
            .order_by(record_history.c.at, record_history.c.seq)
        ).mappings().all()
    shown = {f.name for f in actor.access.profile.readable_fields(obj)}
    hidden = {f.name for f in obj.fields} - shown
    return [
        HistoryEntry(
            r["action"], r["field"], r["old_value"], r["new_value"],
            {"id": r["user_id"], "email": r["email"], "name": r["name"]} if r["user_id"] else None,
            r["at"], r["channel"],
        )
        for r in rows if r["field"] not in hidden
    ]
