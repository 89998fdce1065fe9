"""The audit log: metadata changes (before/after per definition), security changes, logins and
logouts, failed logins, token events. Written in the transaction of what it records; read by
administrators."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.core.errors import Forbidden
from tessera.core.ids import new_id
from tessera.model.definitions import TenantMetadata
from tessera.model.exports import export_field, export_object, export_rule, export_workflow
from tessera.storage.system_tables import audit_events

KINDS = ("metadata", "security", "login", "login_failed", "logout", "token_created", "token_revoked", "purge", "export")
MAX_EVENTS = 500


def log_event(
    conn: sa.Connection, tenant_id: str, kind: str, *, target: str | None = None, user_id: str | None = None,
    address: str | None = None, details: dict[str, Any] | None = None,
) -> None:
    assert kind in KINDS, kind
    conn.execute(audit_events.insert().values(
        id=new_id(), tenant_id=tenant_id, kind=kind, target=target[:200] if target else target, user_id=user_id,
        address=address[:64] if address else address,
        details=details, at=utcnow(),
    ))


def metadata_changes(before: TenantMetadata, after: TenantMetadata) -> Iterator[tuple[str, dict[str, Any]]]:
    """(target, {"before": ..., "after": ...}) for each definition a change added, removed or altered."""
    def parts(meta: TenantMetadata) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for obj in meta.objects:
            header = export_object(obj)
            header.pop("fields")
            header.pop("validationRules", None)
            header.pop("workflows", None)
            found[f"object {obj.name}"] = header
            for field in obj.fields:
                found[f"field {obj.name}.{field.name}"] = export_field(field)
            for rule in obj.validation_rules:
                found[f"validation rule {obj.name}.{rule.name}"] = export_rule(rule)
            for workflow in obj.workflows:
                found[f"workflow {workflow.name}"] = {**export_workflow(workflow), "version": workflow.version}
        return found

    old, new = parts(before), parts(after)
    for target in [*old, *(t for t in new if t not in old)]:
        if old.get(target) != new.get(target):
            yield target, {"before": old.get(target), "after": new.get(target)}


@dataclass(frozen=True)
class AuditEvent:
    id: str
    kind: str
    target: str | None
    user_id: str | None
    address: str | None
    details: Any
    at: datetime


def list_events(conn: sa.Connection, actor: Any, *, kind: str | None = None, first: int | None = 100) -> list[AuditEvent]:
    """The newest events first; administrators only."""
    first = 100 if first is None else first
    if not actor.access.profile.is_admin:
        raise Forbidden("only administrators read the audit log")
    query = sa.select(audit_events).where(audit_events.c.tenant_id == actor.tenant.id)
    if kind:
        query = query.where(audit_events.c.kind == kind)
    rows = conn.execute(
        query.order_by(audit_events.c.at.desc(), audit_events.c.id).limit(max(1, min(first, MAX_EVENTS)))
    ).mappings().all()
    return [AuditEvent(r["id"], r["kind"], r["target"], r["user_id"], r["address"], r["details"], r["at"]) for r in rows]
