"""Record history (``recordHistory``), the recycle bin (``deletedRecords``, ``purgeDeletedRecords``)
and the audit log (``auditEvents``, administrators only)."""

from __future__ import annotations

from typing import Any

import graphene

from tessera.api.scalars import JSON, DateTime
from tessera.services import audit
from tessera.services.records import history, recycle
from tessera.storage.types import iso_datetime


class HistoryAction(graphene.Enum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"
    RESTORE = "RESTORE"


class HistoryUser(graphene.ObjectType):
    id = graphene.ID(required=True)
    email = graphene.String()
    name = graphene.String()


class HistoryEntry(graphene.ObjectType):
    """One change of one field (or a create, delete or restore of the record)."""

    action = graphene.Field(HistoryAction, required=True)
    field = graphene.String(description="The field; null for a create without values, a delete or a restore.")
    old_value = graphene.Field(JSON, name="oldValue")
    new_value = graphene.Field(JSON, name="newValue")
    user = graphene.Field(HistoryUser)
    at = DateTime(required=True)
    channel = graphene.String(required=True, description="api, ui, workflow, connector, import, plugin or cli.")

    @staticmethod
    def resolve_at(root: history.HistoryEntry, info: Any) -> str:
        return iso_datetime(root.at)


class DeletedRecord(graphene.ObjectType):
    """A record in the recycle bin."""

    id = graphene.ID(required=True)
    object = graphene.String(required=True)
    deleted_at = DateTime(required=True, name="deletedAt")
    deleted_by = graphene.ID(name="deletedBy", description="The user who deleted it.")
    values = graphene.Field(JSON, required=True, description="Its field values (those you may read).")

    @staticmethod
    def resolve_deleted_at(root: recycle.DeletedRecord, info: Any) -> str:
        return iso_datetime(root.deleted_at)


class AuditEvent(graphene.ObjectType):
    id = graphene.ID(required=True)
    kind = graphene.String(required=True, description=", ".join(audit.KINDS))
    target = graphene.String()
    user_id = graphene.ID(name="userId")
    address = graphene.String(description="Client address (logins).")
    details = graphene.Field(JSON)
    at = DateTime(required=True)

    @staticmethod
    def resolve_at(root: audit.AuditEvent, info: Any) -> str:
        return iso_datetime(root.at)


class AuditQuery(graphene.ObjectType):
    record_history = graphene.List(
        graphene.NonNull(HistoryEntry), required=True, name="recordHistory",
        object=graphene.String(required=True), id=graphene.ID(required=True),
        description="Every change of a record you may read, oldest first (fields hidden from you left out).",
    )
    deleted_records = graphene.List(
        graphene.NonNull(DeletedRecord), required=True, name="deletedRecords",
        object=graphene.String(required=True), first=graphene.Int(default_value=50),
        description="The recycle bin of an object: deleted records you may read, newest first.",
    )
    audit_events = graphene.List(
        graphene.NonNull(AuditEvent), required=True, name="auditEvents",
        kind=graphene.String(), first=graphene.Int(default_value=100),
        description="The audit log, newest first (administrators).",
    )

    @staticmethod
    def resolve_record_history(root: Any, info: Any, object: str, id: str) -> list[history.HistoryEntry]:
        ctx = info.context
        return history.record_history_of(ctx.rt, ctx.actor, ctx.model, object, id)

    @staticmethod
    def resolve_deleted_records(root: Any, info: Any, object: str, first: int) -> list[recycle.DeletedRecord]:
        ctx = info.context
        return recycle.deleted_records(ctx.rt, ctx.actor, ctx.model, object, first=first)

    @staticmethod
    def resolve_audit_events(root: Any, info: Any, first: int, kind: str | None = None) -> list[audit.AuditEvent]:
        ctx = info.context
        with ctx.rt.db.system.connect() as conn:
            return audit.list_events(conn, ctx.actor, kind=kind, first=first)


class AuditMutation(graphene.ObjectType):
    purge_deleted_records = graphene.Int(
        required=True, name="purgeDeletedRecords", object=graphene.String(required=True),
        ids=graphene.List(graphene.NonNull(graphene.ID), description="Only these (default: all of the object)."),
        description="Remove deleted records for good; returns how many (administrators).",
    )

    @staticmethod
    def resolve_purge_deleted_records(root: Any, info: Any, object: str, ids: list[str] | None = None) -> int:
        ctx = info.context
        ctx.end_read()
        return recycle.purge(ctx.rt, ctx.actor, ctx.model, object, ids)
