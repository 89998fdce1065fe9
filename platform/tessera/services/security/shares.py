"""Manual record shares: giving a user or a role read or edit access to one record.

Whoever has full access to a record may share it: administrators, users with "modify all" on the
object, and the owner or those above the owner in the role hierarchy (Salesforce's rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.core.errors import Forbidden, NotFound, ValidationError
from tessera.core.ids import is_uuid, new_id
from tessera.model.access import Action
from tessera.model.definitions import ObjectDef
from tessera.model.registry import TenantModel
from tessera.services.audit import log_event
from tessera.services.runtime import Actor, Runtime
from tessera.storage.system_tables import record_shares, roles, users

ACCESS_LEVELS = ("READ", "EDIT")


@dataclass(frozen=True)
class Share:
    id: str
    object: str
    record_id: str
    user_id: str | None
    role: str | None
    access: str


def _full_access(conn: sa.Connection, model: TenantModel, actor: Actor, obj: ObjectDef, record_id: str) -> None:
    """Refuse unless ``actor`` has full access to the live record (NOT_FOUND when they cannot see it)."""
    table = model.tables.table(obj.name)
    reach = actor.access.row_filter(obj, table)
    row = conn.execute(
        sa.select(table.c.owner_id).where(table.c.id == record_id, table.c.deleted_at.is_(None),
                                          *([reach] if reach is not None else []))
    ).first() if is_uuid(record_id) else None
    if row is None or not actor.access.can(obj, Action.READ):
        raise NotFound(f"no {obj.name} with id {record_id}", field="record")
    full = actor.access.row_filter(obj, table, full=True)
    if full is None or row.owner_id in actor.access.visible_owner_ids:
        return
    raise Forbidden(f"only the owner of {obj.name} {record_id}, those above them, or administrators may share it",
                    field="record")


def _object(model: TenantModel, name: str) -> ObjectDef:
    obj = model.meta.object(name)
    if obj is None:
        raise NotFound(f"object: no object '{name}'", field="object")
    return obj


def share_record(rt: Runtime, actor: Actor, model: TenantModel, data: dict[str, Any]) -> Share:
    obj = _object(model, data.get("object") or "")
    record_id = data.get("record") or ""
    level = data.get("access") or "READ"
    if level not in ACCESS_LEVELS:
        raise ValidationError(f"access: one of {', '.join(ACCESS_LEVELS)}", field="access")
    if bool(data.get("user")) == bool(data.get("role")):
        raise ValidationError("share with either a user or a role", field="user")
    tenant_id = actor.tenant.id
    with rt.write(actor.tenant) as conn:
        _full_access(conn, model, actor, obj, record_id)
        user_id = role_id = None
        if data.get("user"):
            user_id = data["user"]
            if not is_uuid(user_id) or conn.execute(sa.select(users.c.id).where(
                    users.c.id == user_id, users.c.tenant_id == tenant_id)).first() is None:
                raise NotFound(f"user: no user with id {user_id}", field="user")
        else:
            role_id = conn.execute(sa.select(roles.c.id).where(
                roles.c.tenant_id == tenant_id, roles.c.name == data["role"])).scalar()
            if role_id is None:
                raise NotFound(f"role: no role '{data['role']}'", field="role")
        grantee = sa.and_(
            record_shares.c.object_id == obj.id, record_shares.c.record_id == record_id,
            record_shares.c.user_id.is_(None) if user_id is None else record_shares.c.user_id == user_id,
            record_shares.c.role_id.is_(None) if role_id is None else record_shares.c.role_id == role_id,
        )
        existing = conn.execute(sa.select(record_shares.c.id).where(grantee)).scalar()
        if existing is not None:
            conn.execute(record_shares.update().where(record_shares.c.id == existing).values(access=level))
            share_id = existing
        else:
            share_id = new_id()
            conn.execute(record_shares.insert().values(
                id=share_id, tenant_id=tenant_id, object_id=obj.id, record_id=record_id, user_id=user_id,
                role_id=role_id, access=level, created_by=actor.user_id, created_at=utcnow(),
            ))
        log_event(conn, tenant_id, "security", target=f"shareRecord {obj.name} {record_id}", user_id=actor.user_id,
                  details={"user": user_id, "role": data.get("role"), "access": level})
        return Share(share_id, obj.name, record_id, user_id, data.get("role"), level)


def unshare_record(rt: Runtime, actor: Actor, model: TenantModel, share_id: str) -> Share:
    with rt.write(actor.tenant) as conn:
        found = _shares(conn, model, actor.tenant.id, share_id=share_id)
        if not found:
            raise NotFound(f"no share with id {share_id}", field="id")
        share = found[0]
        _full_access(conn, model, actor, _object(model, share.object), share.record_id)
        conn.execute(record_shares.delete().where(record_shares.c.id == share_id))
        log_event(conn, actor.tenant.id, "security", target=f"unshareRecord {share.object} {share.record_id}",
                  user_id=actor.user_id, details={"user": share.user_id, "role": share.role, "access": share.access})
        return share


def record_shares_of(rt: Runtime, actor: Actor, model: TenantModel, object_name: str, record_id: str) -> list[Share]:
    obj = _object(model, object_name)
    with rt.read(actor.tenant) as conn:
        _full_access(conn, model, actor, obj, record_id)
        return _shares(conn, model, actor.tenant.id, object_id=obj.id, record_id=record_id)


def _shares(conn: sa.Connection, model: TenantModel, tenant_id: str, **where: str) -> list[Share]:
    names = {o.id: o.name for o in model.meta.objects}
    conditions = [record_shares.c.tenant_id == tenant_id]
    if "share_id" in where:
        conditions.append(record_shares.c.id == where["share_id"])
    if "object_id" in where:
        conditions += [record_shares.c.object_id == where["object_id"], record_shares.c.record_id == where["record_id"]]
    rows = conn.execute(
        sa.select(record_shares, roles.c.name.label("role_name"))
        .select_from(record_shares.outerjoin(roles, roles.c.id == record_shares.c.role_id))
        .where(*conditions).order_by(record_shares.c.created_at)
    ).mappings().all()
    return [Share(r["id"], names.get(r["object_id"], "?"), r["record_id"], r["user_id"], r["role_name"], r["access"])
            for r in rows]
