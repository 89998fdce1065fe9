"""Approval requests: submitting a record, approving or rejecting it step by step, recalling it, and
the history of each record's requests.

- A request starts PENDING at step 1 with one step row per approver of that step (a ROLE's active
  users, the USERS listed, or the submitter's manager for MANAGER_CHAIN). The first approver of a
  step to decide decides for it; the others' rows become SKIPPED. An administrator who is not an
  approver may decide too: their row is added with no approver.
- MANAGER_CHAIN with ``levels: N`` walks the **submitter's** manager chain one manager per step
  (inactive managers are passed over); a chain shorter than N ends the approval at its top.
- Outcome field updates (onSubmit, onApprove, onReject) go through a ``RecordWriter`` with system
  rights and channel ``approval``, so field history records who caused them and how.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.core.errors import Conflict, Forbidden, NotFound, ValidationError
from tessera.core.ids import is_uuid, new_id
from tessera.model.access import SYSTEM, Action
from tessera.model.definitions import ApprovalProcessDef, ObjectDef, TenantMetadata
from tessera.model.expressions import compile_sql
from tessera.model.registry import TenantModel
from tessera.services.automation.approval_history import (
    ApprovalRequest,
    one_request,
    readable_record,
)
from tessera.services.automation.dependents import entry_condition
from tessera.services.automation.locks import PENDING
from tessera.services.automation.notifications import notify
from tessera.services.records.write import RecordWriter
from tessera.services.runtime import Actor, Runtime
from tessera.storage.system_tables import approval_requests, approval_steps, roles, users

APPROVED, REJECTED, RECALLED, SKIPPED = "APPROVED", "REJECTED", "RECALLED", "SKIPPED"
STATUSES = (PENDING, APPROVED, REJECTED, RECALLED)
MAX_COMMENT = 4000


# --- submit ------------------------------------------------------------------------------------
def submit_for_approval(rt: Runtime, actor: Actor, data: Mapping[str, Any]) -> ApprovalRequest:
    """Submit a record the caller may edit: to ``process``, or to the first active process of its object
    whose entry condition holds. Refused when a request of the record is already pending."""
    record_id, comment = str(data.get("recordId") or ""), _comment(data.get("comment"))
    with rt.write(actor.tenant) as conn:
        model = rt.model(conn, actor.tenant)
        obj = _editable_record(conn, model, actor, str(data.get("object") or ""), record_id)
        pending = conn.execute(sa.select(approval_requests.c.id).where(
            approval_requests.c.tenant_id == actor.tenant.id, approval_requests.c.record_id == record_id,
            approval_requests.c.status == PENDING)).scalar()
        if pending is not None:
            raise Conflict(f"{obj.name} {record_id} already has a pending approval request ({pending})",
                           field="recordId", approvalRequest=pending)
        process = _process_for(conn, model, obj, record_id, data.get("process"))
        approvers = _approvers(conn, actor.tenant.id, process, actor.user_id, 1)
        if not approvers:
            raise ValidationError(f"process: approval process '{process.name}' finds no approver for you "
                                  f"({_who(process)})", field="process")
        request_id, now = new_id(), utcnow()
        try:
            with conn.begin_nested():
                conn.execute(approval_requests.insert().values(
                    id=request_id, tenant_id=actor.tenant.id, process_id=process.id, object_name=obj.name,
                    record_id=record_id, status=PENDING, step=1, submitted_by=actor.user_id, submitted_at=now,
                    completed_at=None, comment=comment,
                ))
        except sa.exc.IntegrityError:
            # another submission of the same record committed first
            raise Conflict(f"{obj.name} {record_id} already has a pending approval request", field="recordId") from None
        _open_step(conn, actor.tenant.id, request_id, 1, approvers, now)
        _apply(conn, rt, model, actor, obj, record_id, process.on_submit)
        _ask(conn, actor.tenant.id, model, obj, record_id, request_id, 1, approvers, comment)
        return one_request(conn, actor.tenant.id, model.meta, request_id)


def _process_for(
    conn: sa.Connection, model: TenantModel, obj: ObjectDef, record_id: str, name: Any
) -> ApprovalProcessDef:
    if name:
        process = next((p for p in obj.approval_processes if p.name == name), None)
        if process is None:
            raise NotFound(f"process: {obj.name} has no approval process '{name}'", field="process")
        if not process.active:
            raise ValidationError(f"process: approval process '{name}' is not active", field="process")
        if not _enters(conn, model, obj, record_id, process):
            raise ValidationError(f"process: {obj.name} {record_id} does not meet the entry condition of '{name}': "
                                  f"{process.entry_condition}", field="process")
        return process
    for process in obj.approval_processes:
        if process.active and _enters(conn, model, obj, record_id, process):
            return process
    raise ValidationError(f"process: no active approval process of {obj.name} applies to {obj.name} {record_id}",
                          field="process")


def _enters(conn: sa.Connection, model: TenantModel, obj: ObjectDef, record_id: str, process: ApprovalProcessDef) -> bool:
    if not process.entry_condition:
        return True
    checked = entry_condition(model.meta, obj, process.entry_condition)
    table = model.tables.table(obj.name)
    dialect = conn.dialect.name
    condition = compile_sql(checked, model.field_sql(dialect).resolver(obj.name, table), dialect=dialect)
    return bool(conn.execute(sa.select(condition).where(table.c.id == record_id)).scalar())


# --- decide ------------------------------------------------------------------------------------
def approve_request(rt: Runtime, actor: Actor, data: Mapping[str, Any]) -> ApprovalRequest:
    return _decide(rt, actor, data, APPROVED)


def reject_request(rt: Runtime, actor: Actor, data: Mapping[str, Any]) -> ApprovalRequest:
    return _decide(rt, actor, data, REJECTED)


def _decide(rt: Runtime, actor: Actor, data: Mapping[str, Any], decision: str) -> ApprovalRequest:
    """Record a current approver's (or an administrator's) decision on the request's current step."""
    comment = _comment(data.get("comment"))
    with rt.write(actor.tenant) as conn:
        model = rt.model(conn, actor.tenant)
        request = _pending(conn, actor.tenant.id, model.meta, str(data.get("id") or ""))
        mine = next((s for s in request.steps if s.decision == PENDING and s.approver_id == actor.user_id), None)
        if mine is None and not actor.access.profile.is_admin:
            raise Forbidden("only the request's current approvers (or an administrator) may decide it", field="id")
        now = utcnow()
        moved = conn.execute(approval_requests.update().where(
            approval_requests.c.id == request.id, approval_requests.c.status == PENDING,
            approval_requests.c.step == request.step).values(step=request.step))
        if moved.rowcount != 1:
            raise Conflict("the request was decided concurrently; reload it", field="id")
        if mine is not None:
            conn.execute(approval_steps.update().where(approval_steps.c.id == mine.id).values(
                decided_by=actor.user_id, decision=decision, comment=comment, decided_at=now))
        else:
            conn.execute(approval_steps.insert().values(
                id=new_id(), request_id=request.id, tenant_id=actor.tenant.id, step=request.step, approver_id=None,
                decided_by=actor.user_id, decision=decision, comment=comment, created_at=now, decided_at=now))
        conn.execute(approval_steps.update().where(
            approval_steps.c.request_id == request.id, approval_steps.c.decision == PENDING,
        ).values(decision=SKIPPED, decided_by=actor.user_id, decided_at=now))
        obj = model.meta.by_name[request.object_name]
        process = _process_of(model.meta, request)
        following = [] if decision == REJECTED else _approvers(
            conn, actor.tenant.id, process, request.submitted_by, request.step + 1)
        if following:
            conn.execute(approval_requests.update().where(approval_requests.c.id == request.id)
                         .values(step=request.step + 1))
            _open_step(conn, actor.tenant.id, request.id, request.step + 1, following, now)
            _ask(conn, actor.tenant.id, model, obj, request.record_id, request.id, request.step + 1,
                 following, request.comment)
        else:
            conn.execute(approval_requests.update().where(approval_requests.c.id == request.id)
                         .values(status=decision, completed_at=now))
            updates = process.on_approve if decision == APPROVED else process.on_reject
            _apply(conn, rt, model, actor, obj, request.record_id, updates)
            _tell_submitter(conn, actor.tenant.id, model, obj, request, decision, comment)
        return one_request(conn, actor.tenant.id, model.meta, request.id)


def recall_approval_request(rt: Runtime, actor: Actor, data: Mapping[str, Any]) -> ApprovalRequest:
    """The submitter (or an administrator) withdraws a pending request; the record is unlocked."""
    with rt.write(actor.tenant) as conn:
        model = rt.model(conn, actor.tenant)
        request = _pending(conn, actor.tenant.id, model.meta, str(data.get("id") or ""))
        if request.submitted_by != actor.user_id and not actor.access.profile.is_admin:
            raise Forbidden("only the submitter (or an administrator) may recall an approval request", field="id")
        now = utcnow()
        conn.execute(approval_requests.update().where(approval_requests.c.id == request.id)
                     .values(status=RECALLED, completed_at=now))
        conn.execute(approval_steps.update().where(
            approval_steps.c.request_id == request.id, approval_steps.c.decision == PENDING,
        ).values(decision=RECALLED, decided_by=actor.user_id, decided_at=now))
        return one_request(conn, actor.tenant.id, model.meta, request.id)


def _pending(conn: sa.Connection, tenant_id: str, meta: TenantMetadata, request_id: str) -> ApprovalRequest:
    if not is_uuid(request_id):
        raise NotFound(f"no approval request with id {request_id}", field="id")
    query = sa.select(approval_requests.c.id).where(approval_requests.c.id == request_id)
    if conn.dialect.name == "postgresql":
        conn.execute(query.with_for_update())  # one decision at a time per request
    request = one_request(conn, tenant_id, meta, request_id)
    if request.status != PENDING:
        raise Conflict(f"approval request {request_id} is {request.status}, not pending", field="id",
                       status=request.status)
    return request


def _process_of(meta: TenantMetadata, request: ApprovalRequest) -> ApprovalProcessDef:
    obj = meta.by_name[request.object_name]
    return next(p for p in obj.approval_processes if p.name == request.process)


# --- approvers ---------------------------------------------------------------------------------
def _approvers(
    conn: sa.Connection, tenant_id: str, process: ApprovalProcessDef, submitter: str | None, step: int
) -> list[str]:
    """The active users who decide ``step`` (none: the approval is complete)."""
    spec = process.approvers
    if spec["type"] == "MANAGER_CHAIN":
        if step > int(spec.get("levels") or 1) or submitter is None:
            return []
        current: str | None = submitter
        for _ in range(step):
            current = _active_manager(conn, tenant_id, current)
            if current is None:
                return []
        return [current] if current else []
    if step > 1:
        return []
    query = sa.select(users.c.id).where(users.c.tenant_id == tenant_id, users.c.is_active.is_(True))
    if spec["type"] == "ROLE":
        query = query.join(roles, roles.c.id == users.c.role_id).where(roles.c.name == spec.get("role"))
    else:
        query = query.where(users.c.id.in_(list(spec.get("users") or [])))
    return sorted(conn.execute(query).scalars())


def _active_manager(conn: sa.Connection, tenant_id: str, user_id: str | None) -> str | None:
    """The first active user up ``user_id``'s manager chain."""
    seen: set[str] = set()
    while user_id is not None and user_id not in seen:
        seen.add(user_id)
        manager = conn.execute(sa.select(users.c.manager_id).where(
            users.c.id == user_id, users.c.tenant_id == tenant_id)).scalar()
        if manager is None:
            return None
        active = conn.execute(sa.select(users.c.is_active).where(users.c.id == manager)).scalar()
        if active:
            return manager
        user_id = manager
    return None


def _who(process: ApprovalProcessDef) -> str:
    spec = process.approvers
    if spec["type"] == "ROLE":
        return f"no active user has role '{spec.get('role')}'"
    if spec["type"] == "USERS":
        return "none of its users is active"
    return "you have no active manager"


def _open_step(conn: sa.Connection, tenant_id: str, request_id: str, step: int, approvers: list[str], now: datetime) -> None:
    conn.execute(approval_steps.insert(), [
        dict(id=new_id(), request_id=request_id, tenant_id=tenant_id, step=step, approver_id=user_id,
             decided_by=None, decision=PENDING, comment=None, created_at=now, decided_at=None)
        for user_id in approvers
    ])


# --- records and notifications -----------------------------------------------------------------
def _editable_record(conn: sa.Connection, model: TenantModel, actor: Actor, object_name: str, record_id: str) -> ObjectDef:
    obj = model.meta.object(object_name)
    if obj is None or not actor.access.can(obj, Action.READ):
        raise NotFound(f"object: no object '{object_name}'", field="object")
    if not readable_record(conn, model, actor, obj.name, record_id):
        raise NotFound(f"recordId: no {obj.name} with id {record_id}", field="recordId")
    table = model.tables.table(obj.name)
    editable = actor.access.row_filter(obj, table, edit=True)
    if not actor.access.can(obj, Action.EDIT) or (editable is not None and not conn.execute(
            sa.select(table.c.id).where(table.c.id == record_id, editable)).first()):
        raise Forbidden(f"you may read {obj.name} {record_id} but not submit it for approval", field="recordId")
    return obj


def _apply(
    conn: sa.Connection, rt: Runtime, model: TenantModel, actor: Actor, obj: ObjectDef, record_id: str,
    updates: Mapping[str, Any],
) -> None:
    """An outcome's field updates, with system rights, recorded as the actor's through channel ``approval``."""
    if updates:
        writer = RecordWriter(conn, model, Actor(actor.tenant, actor.user_id, "approval", SYSTEM),
                              rt.config.limits, rt.plugins)
        writer.update(obj.name, record_id, dict(updates))


def _title(conn: sa.Connection, model: TenantModel, obj: ObjectDef, record_id: str) -> str:
    """How a notification names the record: its ``name`` field when it has one."""
    name_field = obj.field("name")
    if name_field is None or name_field.is_computed:
        return f"{obj.label()} {record_id}"
    table = model.tables.table(obj.name)
    name = conn.execute(sa.select(table.c[name_field.column_name]).where(table.c.id == record_id)).scalar()
    return f"{obj.label()} {name or record_id}"


def _ask(
    conn: sa.Connection, tenant_id: str, model: TenantModel, obj: ObjectDef, record_id: str, request_id: str,
    step: int, approvers: list[str], comment: str | None,
) -> None:
    notify(conn, tenant_id, approvers, title=f"Approval requested: {_title(conn, model, obj, record_id)}", body=comment,
           object_name=obj.name, record_id=record_id, source="approval", key=f"approval:{request_id}:step{step}")


def _tell_submitter(
    conn: sa.Connection, tenant_id: str, model: TenantModel, obj: ObjectDef, request: ApprovalRequest, decision: str, comment: str | None,
) -> None:
    if request.submitted_by:
        notify(conn, tenant_id, [request.submitted_by], body=comment, object_name=obj.name,
               title=f"{decision.capitalize()}: {_title(conn, model, obj, request.record_id)} ({request.process})",
               record_id=request.record_id, source="approval", key=f"approval:{request.id}:{decision}")


def _comment(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_COMMENT:
        raise ValidationError(f"comment: a text of at most {MAX_COMMENT} characters", field="comment")
    return value
