"""Approval process definitions: who approves an object's records, when a record may be submitted,
what changes on submit, approval and rejection, and whether the record is locked meanwhile.

Definitions are metadata (saved through ``run_change``); running requests is ``approvals.py``.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.core.errors import Conflict, InUse, NotFound, ValidationError
from tessera.core.ids import is_uuid, new_id
from tessera.model.definitions import ApprovalProcessDef, ObjectDef, TenantMetadata
from tessera.model.names import MAX_NAME_LENGTH, NAME_PATTERN
from tessera.model.schemas import load
from tessera.services.automation.dependents import (
    APPROVER_TYPES,
    approval_problems,
    first_problem,
    role_names,
)
from tessera.services.metadata.change import Change, run_change
from tessera.services.runtime import Actor, Runtime
from tessera.storage.system_tables import approval_processes, approval_requests, users

MAX_LEVELS = 10
MAX_USERS = 100
PROCESS_KEYS = ("name", "description", "active", "entryCondition", "approvers", "onSubmit", "onApprove",
                "onReject", "lockRecord")


class ApproversSchema(ma.Schema):
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(APPROVER_TYPES))
    role = ma.fields.String(load_default=None, allow_none=True)
    levels = ma.fields.Integer(load_default=None, allow_none=True, validate=ma.validate.Range(1, MAX_LEVELS))
    users = ma.fields.List(ma.fields.String(), load_default=None, allow_none=True)


class ProcessSchema(ma.Schema):
    name = ma.fields.String(required=True)
    description = ma.fields.String(load_default=None, allow_none=True)
    active = ma.fields.Boolean(load_default=True)
    entryCondition = ma.fields.String(load_default=None, allow_none=True)
    approvers = ma.fields.Nested(ApproversSchema, required=True)
    onSubmit = ma.fields.Dict(keys=ma.fields.String(), load_default=dict, allow_none=True)
    onApprove = ma.fields.Dict(keys=ma.fields.String(), load_default=dict, allow_none=True)
    onReject = ma.fields.Dict(keys=ma.fields.String(), load_default=dict, allow_none=True)
    lockRecord = ma.fields.Boolean(load_default=True)


def create_approval_process(rt: Runtime, actor: Actor, data: dict[str, Any], *, origin: str = "custom") -> ApprovalProcessDef:
    return run_change(rt, actor, lambda change: add_approval_process_in(change, data, origin=origin))


def update_approval_process(rt: Runtime, actor: Actor, data: dict[str, Any]) -> ApprovalProcessDef:
    """Change the keys given; ``approvers`` and the outcome updates replace the stored ones."""
    def step(change: Change) -> ApprovalProcessDef:
        obj = change.object(data.get("object") or "")
        old = _existing(obj, data.get("name"))
        merged = {**export_approval_process(old), **{k: v for k, v in data.items() if k != "object"}}
        return _save(change, obj, _build(change, obj, merged, origin=old.origin), old)

    return run_change(rt, actor, step)


def delete_approval_process(rt: Runtime, actor: Actor, data: dict[str, Any]) -> ApprovalProcessDef:
    """Delete a process no record was ever submitted to (otherwise deactivate it: history stays)."""
    def step(change: Change) -> ApprovalProcessDef:
        process = _existing(change.object(data.get("object") or ""), data.get("name"))
        used = change.conn.execute(
            sa.select(sa.func.count()).select_from(approval_requests).where(approval_requests.c.process_id == process.id)
        ).scalar_one()
        if used:
            raise InUse(f"approval process '{process.name}' has {used} requests in its history; "
                        "deactivate it instead (active: false)", field="name", requests=used)
        change.conn.execute(approval_processes.delete().where(approval_processes.c.id == process.id))
        return process

    return run_change(rt, actor, step)


def apply_approval_process(rt: Runtime, actor: Actor, data: dict[str, Any], *, origin: str = "custom") -> ApprovalProcessDef:
    """Create the process, or make the stored one exactly ``data`` (for metadata packages)."""
    return run_change(rt, actor, lambda change: apply_approval_process_in(change, data, origin=origin))


def apply_approval_process_in(change: Change, data: dict[str, Any], *, origin: str) -> ApprovalProcessDef:
    obj = change.object(data.get("object") or "")
    old = next((p for p in obj.approval_processes if p.name == data.get("name")), None)
    if old is None:
        return add_approval_process_in(change, data, origin=origin)
    new = _build(change, obj, {k: v for k, v in data.items() if k != "object"}, origin=old.origin)
    return old if export_approval_process(new) == export_approval_process(old) else _save(change, obj, new, old)


def add_approval_process_in(change: Change, data: dict[str, Any], *, origin: str) -> ApprovalProcessDef:
    obj = change.object(data.get("object") or "")
    process = _build(change, obj, {k: v for k, v in data.items() if k != "object"}, origin=origin)
    taken = find_process(change.meta, process.name)
    if taken is not None:
        raise Conflict(f"name: an approval process '{process.name}' already exists (on {taken.object_name})",
                       field="name")
    return _save(change, obj, process, None)


def find_process(meta: TenantMetadata, name: str) -> ApprovalProcessDef | None:
    return next((p for o in meta.objects for p in o.approval_processes if p.name == name), None)


def export_approval_process(process: ApprovalProcessDef) -> dict[str, Any]:
    """A process as packages and the API's input spell it."""
    data: dict[str, Any] = {
        "name": process.name, "active": process.active, "approvers": dict(process.approvers),
        "onSubmit": dict(process.on_submit), "onApprove": dict(process.on_approve),
        "onReject": dict(process.on_reject), "lockRecord": process.lock_record,
    }
    if process.entry_condition:
        data["entryCondition"] = process.entry_condition
    if process.description:
        data["description"] = process.description
    return data


def _build(change: Change, obj: ObjectDef, data: dict[str, Any], *, origin: str) -> ApprovalProcessDef:
    unknown = sorted(set(data) - set(PROCESS_KEYS))
    if unknown:
        raise ValidationError(f"{unknown[0]}: not a key of approval processes (they have {', '.join(PROCESS_KEYS)})",
                              field=unknown[0])
    loaded = load(ProcessSchema(), data)
    name = loaded["name"]
    if not NAME_PATTERN.match(name) or len(name) > MAX_NAME_LENGTH:
        raise ValidationError(f"name: approval process name '{name}' must be camelCase letters and digits, at most "
                              f"{MAX_NAME_LENGTH} characters", field="name")
    process = ApprovalProcessDef(
        name=name, object_name=obj.name, approvers=MappingProxyType(_approvers(change, loaded["approvers"])),
        on_submit=MappingProxyType(loaded["onSubmit"] or {}), on_approve=MappingProxyType(loaded["onApprove"] or {}),
        on_reject=MappingProxyType(loaded["onReject"] or {}), entry_condition=loaded["entryCondition"] or None,
        lock_record=loaded["lockRecord"], active=loaded["active"], description=loaded["description"], origin=origin,
    )
    first_problem(approval_problems(change.meta, obj, process, role_names(change.conn, change.tenant.id)))
    return process


def _approvers(change: Change, given: dict[str, Any]) -> dict[str, Any]:
    """The approvers as stored: only the keys their type uses."""
    kind = given["type"]
    extra = [k for k in ("role", "levels", "users") if given.get(k) is not None and k != _KEY[kind]]
    if extra:
        raise ValidationError(f"approvers.{extra[0]}: not used by {kind} approvers (they take {_KEY[kind]})",
                              field="approvers")
    if kind == "MANAGER_CHAIN":
        return {"type": kind, "levels": given.get("levels") or 1}
    if kind == "ROLE":
        if not given.get("role"):
            raise ValidationError("approvers.role: ROLE approvers need a role", field="approvers")
        return {"type": kind, "role": given["role"]}
    wanted = list(dict.fromkeys(given.get("users") or []))
    if not wanted or len(wanted) > MAX_USERS:
        raise ValidationError(f"approvers.users: USERS approvers need 1 to {MAX_USERS} user ids", field="approvers")
    found = set(change.conn.execute(sa.select(users.c.id).where(
        users.c.tenant_id == change.tenant.id, users.c.is_active.is_(True),
        users.c.id.in_([u for u in wanted if is_uuid(u)]),
    )).scalars())
    missing = [u for u in wanted if u not in found]
    if missing:
        raise ValidationError(f"approvers.users: no active user with id {missing[0]}", field="approvers")
    return {"type": kind, "users": wanted}


_KEY = {"ROLE": "role", "MANAGER_CHAIN": "levels", "USERS": "users"}


def _save(change: Change, obj: ObjectDef, process: ApprovalProcessDef, old: ApprovalProcessDef | None) -> ApprovalProcessDef:
    now = utcnow()
    row = {
        "name": process.name, "description": process.description, "active": process.active,
        "entry_condition": process.entry_condition, "approvers": dict(process.approvers),
        "on_submit": dict(process.on_submit), "on_approve": dict(process.on_approve),
        "on_reject": dict(process.on_reject), "lock_record": process.lock_record, "updated_at": now,
    }
    if old is None:
        change.conn.execute(approval_processes.insert().values(
            id=new_id(), tenant_id=change.tenant.id, object_id=obj.id, origin=process.origin, created_at=now, **row))
    else:
        change.conn.execute(approval_processes.update().where(approval_processes.c.id == old.id).values(**row))
    found = next(p for p in change.reload().by_name[obj.name].approval_processes if p.name == process.name)
    return found


def _existing(obj: ObjectDef, name: Any) -> ApprovalProcessDef:
    found = next((p for p in obj.approval_processes if p.name == name), None)
    if found is None:
        raise NotFound(f"name: {obj.name} has no approval process '{name}'", field="name")
    return found
