"""Approval requests as stored: loading them with their steps, and the history queries (a record's
requests, one's own, those awaiting one's decision)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tessera.core.errors import NotFound
from tessera.core.ids import is_uuid
from tessera.model.access import Action
from tessera.model.definitions import TenantMetadata
from tessera.model.registry import TenantModel
from tessera.services.automation.locks import PENDING
from tessera.services.runtime import Actor, Runtime
from tessera.storage.system_tables import approval_requests, approval_steps

MAX_LISTED = 200


@dataclass(frozen=True)
class ApprovalStep:
    id: str
    step: int
    approver_id: str | None
    decided_by: str | None
    decision: str
    comment: str | None
    created_at: datetime
    decided_at: datetime | None


@dataclass(frozen=True)
class ApprovalRequest:
    id: str
    process: str
    object_name: str
    record_id: str
    status: str
    step: int
    submitted_by: str | None
    submitted_at: datetime
    completed_at: datetime | None
    comment: str | None
    steps: tuple[ApprovalStep, ...]

    @property
    def current_approvers(self) -> list[str]:
        return sorted(s.approver_id for s in self.steps if s.decision == PENDING and s.approver_id)


# --- history -----------------------------------------------------------------------------------
def list_approval_requests(
    rt: Runtime, actor: Actor, *, object_name: str | None = None, record_id: str | None = None,
    status: str | None = None, first: int = 50,
) -> list[ApprovalRequest]:
    """Requests newest first. Administrators see all; others see a record's requests when they can read
    the record, and otherwise the requests they submitted or were asked to decide."""
    with rt.read(actor.tenant) as conn:
        model = rt.model(conn, actor.tenant)
        r, s = approval_requests, approval_steps
        where = [r.c.tenant_id == actor.tenant.id]
        if object_name:
            where.append(r.c.object_name == object_name)
        if status:
            where.append(r.c.status == status)
        if record_id:
            where.append(r.c.record_id == record_id)
        readable = record_id and object_name and readable_record(conn, model, actor, object_name, record_id)
        if not actor.access.profile.is_admin and not readable:
            asked = sa.select(s.c.request_id).where(s.c.tenant_id == actor.tenant.id, s.c.approver_id == actor.user_id)
            where.append(sa.or_(r.c.submitted_by == actor.user_id, r.c.id.in_(asked)))
        return load_requests(conn, model.meta, where, first)


def pending_approvals(rt: Runtime, actor: Actor, *, first: int = 50) -> list[ApprovalRequest]:
    """Requests awaiting the caller's decision, oldest first."""
    with rt.read(actor.tenant) as conn:
        model = rt.model(conn, actor.tenant)
        mine = sa.select(approval_steps.c.request_id).where(
            approval_steps.c.tenant_id == actor.tenant.id, approval_steps.c.approver_id == actor.user_id,
            approval_steps.c.decision == PENDING)
        return load_requests(conn, model.meta, [approval_requests.c.tenant_id == actor.tenant.id,
                                        approval_requests.c.status == PENDING,
                                        approval_requests.c.id.in_(mine)], first, oldest_first=True)


def load_requests(
    conn: sa.Connection, meta: TenantMetadata, where: list[Any], first: int, *, oldest_first: bool = False
) -> list[ApprovalRequest]:
    order = approval_requests.c.submitted_at.asc() if oldest_first else approval_requests.c.submitted_at.desc()
    rows = conn.execute(sa.select(approval_requests).where(*where).order_by(order, approval_requests.c.id)
                        .limit(max(1, min(first, MAX_LISTED)))).mappings().all()
    if not rows:
        return []
    steps: dict[str, list[ApprovalStep]] = {}
    for s in conn.execute(sa.select(approval_steps).where(approval_steps.c.request_id.in_([r["id"] for r in rows]))
                          .order_by(approval_steps.c.step, approval_steps.c.created_at, approval_steps.c.id)).mappings():
        steps.setdefault(s["request_id"], []).append(ApprovalStep(
            s["id"], s["step"], s["approver_id"], s["decided_by"], s["decision"], s["comment"], s["created_at"],
            s["decided_at"]))
    names = {p.id: p.name for o in meta.objects for p in o.approval_processes}
    return [ApprovalRequest(
        r["id"], names.get(r["process_id"], ""), r["object_name"], r["record_id"], r["status"], r["step"],
        r["submitted_by"], r["submitted_at"], r["completed_at"], r["comment"], tuple(steps.get(r["id"], ())),
    ) for r in rows]


def one_request(conn: sa.Connection, tenant_id: str, meta: TenantMetadata, request_id: str) -> ApprovalRequest:
    found = load_requests(conn, meta, [approval_requests.c.tenant_id == tenant_id, approval_requests.c.id == request_id], 1)
    if not found:
        raise NotFound(f"no approval request with id {request_id}", field="id")
    return found[0]




def readable_record(conn: sa.Connection, model: TenantModel, actor: Actor, object_name: str, record_id: str) -> bool:
    """The record exists, is not deleted, and ``actor`` may read it."""
    obj = model.meta.object(object_name)
    if obj is None or not is_uuid(record_id) or not actor.access.can(obj, Action.READ):
        return False
    table = model.tables.table(obj.name)
    reach = actor.access.row_filter(obj, table)
    return conn.execute(sa.select(table.c.id).where(
        table.c.id == record_id, table.c.deleted_at.is_(None), *([reach] if reach is not None else []))).first() is not None
