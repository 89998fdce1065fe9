"""Administering who may do what: roles, users, permission sets (object and field permissions).

Every change here is administrators' work, runs in one transaction and bumps the tenant's metadata
version (through ``run_change``), so every process reloads accesses and schemas on the next request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.core.errors import Conflict, Forbidden, InUse, NotFound, ValidationError
from tessera.core.i18n import normalise_label
from tessera.core.ids import is_uuid, new_id
from tessera.model.definitions import TenantMetadata
from tessera.model.names import MAX_NAME_LENGTH, NAME_PATTERN
from tessera.model.schemas import LabelField, humanise, load
from tessera.services.audit import log_event
from tessera.services.metadata.change import Change, run_change
from tessera.services.runtime import Actor, Runtime
from tessera.services.security.passwords import hash_password
from tessera.storage.system_tables import (
    field_permissions,
    object_permissions,
    permission_sets,
    roles,
    sessions,
    user_permission_sets,
    users,
)

EMAIL = ma.validate.Email(error="not a valid email address")
STANDARD_USER = "standardUser"
"""The permission set every tenant starts with: full use of the standard objects' records."""


def require_admin(actor: Actor, what: str = "manage users, roles and permissions") -> None:
    if not actor.access.profile.is_admin:
        raise Forbidden(f"only administrators {what}")


def _admin_change(rt: Runtime, actor: Actor, step: Any, what: str, data: dict[str, Any]) -> Any:
    """Run an administrator's change and log it (never with a password)."""
    require_admin(actor)

    def logged(change: Change) -> Any:
        result = step(change)
        subject = data.get("name") or data.get("email") or data.get("id")
        log_event(change.conn, change.tenant.id, "security", target=f"{what} {subject}", user_id=actor.user_id,
                  details={k: ("***" if k == "password" else v) for k, v in data.items()})
        return result

    return run_change(rt, actor, logged)


def _check_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name) or len(name) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"name: {what} name '{name}' must be camelCase letters and digits, at most {MAX_NAME_LENGTH} characters",
            field="name",
        )
    return name


# --- roles ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Role:
    id: str
    name: str
    labels: dict[str, str]
    parent: str | None


class RoleSchema(ma.Schema):
    name = ma.fields.String(required=True)
    label = LabelField()
    parent = ma.fields.String(allow_none=True)


def list_roles(conn: sa.Connection, tenant_id: str) -> list[Role]:
    rows = conn.execute(sa.select(roles).where(roles.c.tenant_id == tenant_id).order_by(roles.c.name)).mappings().all()
    names = {r["id"]: r["name"] for r in rows}
    return [Role(r["id"], r["name"], dict(r["labels"]), names.get(r["parent_id"])) for r in rows]


def _role_id(conn: sa.Connection, tenant_id: str, name: str | None, *, field: str = "role") -> str | None:
    if name is None:
        return None
    found = conn.execute(sa.select(roles.c.id).where(roles.c.tenant_id == tenant_id, roles.c.name == name)).scalar()
    if found is None:
        raise NotFound(f"{field}: no role '{name}'", field=field)
    return found


def _role(conn: sa.Connection, tenant_id: str, name: str) -> Role:
    for role in list_roles(conn, tenant_id):
        if role.name == name:
            return role
    raise NotFound(f"no role '{name}'", field="name")


def create_role(rt: Runtime, actor: Actor, data: dict[str, Any]) -> Role:
    def step(change: Change) -> Role:
        loaded = load(RoleSchema(), data)
        name = _check_name(loaded["name"], "role")
        tenant_id = change.tenant.id
        if any(r.name == name for r in list_roles(change.conn, tenant_id)):
            raise Conflict(f"role '{name}' already exists", field="name")
        now = utcnow()
        change.conn.execute(roles.insert().values(
            id=new_id(), tenant_id=tenant_id, name=name,
            labels=loaded.get("label") or normalise_label(humanise(name)),
            parent_id=_role_id(change.conn, tenant_id, loaded.get("parent"), field="parent"),
            created_at=now, updated_at=now,
        ))
        return _role(change.conn, tenant_id, name)

    return _admin_change(rt, actor, step, "createRole", data)


def update_role(rt: Runtime, actor: Actor, data: dict[str, Any]) -> Role:
    def step(change: Change) -> Role:
        loaded = load(RoleSchema(), data)
        tenant_id = change.tenant.id
        role = _role(change.conn, tenant_id, loaded["name"])
        values: dict[str, Any] = {"updated_at": utcnow()}
        if "label" in loaded:
            values["labels"] = {**role.labels, **loaded["label"]}
        if "parent" in loaded:
            parent_id = _role_id(change.conn, tenant_id, loaded["parent"], field="parent")
            _refuse_role_cycle(change.conn, tenant_id, role, parent_id)
            values["parent_id"] = parent_id
        change.conn.execute(roles.update().where(roles.c.id == role.id).values(**values))
        return _role(change.conn, tenant_id, role.name)

    return _admin_change(rt, actor, step, "updateRole", data)


def _refuse_role_cycle(conn: sa.Connection, tenant_id: str, role: Role, parent_id: str | None) -> None:
    parents = dict(conn.execute(sa.select(roles.c.id, roles.c.parent_id).where(roles.c.tenant_id == tenant_id)).all())
    current = parent_id
    while current is not None:
        if current == role.id:
            raise ValidationError(f"parent: role '{role.name}' would be above itself", field="parent")
        current = parents.get(current)


def delete_role(rt: Runtime, actor: Actor, data: dict[str, Any]) -> Role:
    def step(change: Change) -> Role:
        role = _role(change.conn, change.tenant.id, data.get("name") or "")
        holders = change.conn.execute(sa.select(sa.func.count()).where(users.c.role_id == role.id)).scalar_one()
        children = change.conn.execute(sa.select(sa.func.count()).where(roles.c.parent_id == role.id)).scalar_one()
        if holders or children:
            raise InUse(
                f"role '{role.name}' is held by {holders} users and is above {children} roles; move them first",
                field="name", users=holders, roles=children,
            )
        change.conn.execute(roles.delete().where(roles.c.id == role.id))
        return role

    return _admin_change(rt, actor, step, "deleteRole", data)


# --- users ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UserInfo:
    id: str
    email: str
    name: str
    active: bool
    is_admin: bool
    role: str | None
    manager_id: str | None
    permission_sets: tuple[str, ...]
    has_password: bool


class UserSchema(ma.Schema):
    id = ma.fields.String()
    email = ma.fields.String(validate=EMAIL)
    name = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    role = ma.fields.String(allow_none=True)
    manager = ma.fields.String(allow_none=True)
    isAdmin = ma.fields.Boolean()
    active = ma.fields.Boolean()
    permissionSets = ma.fields.List(ma.fields.String())
    password = ma.fields.String(allow_none=True)


def list_users(conn: sa.Connection, tenant_id: str, ids: Iterable[str] | None = None) -> list[UserInfo]:
    query = (
        sa.select(users, roles.c.name.label("role_name"))
        .select_from(users.outerjoin(roles, roles.c.id == users.c.role_id))
        .where(users.c.tenant_id == tenant_id)
        .order_by(users.c.email)
    )
    if ids is not None:
        query = query.where(users.c.id.in_(list(ids)))
    rows = conn.execute(query).mappings().all()
    sets: dict[str, list[str]] = {}
    for user_id, set_name in conn.execute(
        sa.select(user_permission_sets.c.user_id, permission_sets.c.name)
        .select_from(user_permission_sets.join(permission_sets))
        .where(permission_sets.c.tenant_id == tenant_id)
        .order_by(permission_sets.c.name)
    ):
        sets.setdefault(user_id, []).append(set_name)
    return [
        UserInfo(r["id"], r["email"], r["name"], r["is_active"], r["is_admin"], r["role_name"], r["manager_id"],
                 tuple(sets.get(r["id"], ())), r["password_hash"] is not None)
        for r in rows
    ]


def _user(conn: sa.Connection, tenant_id: str, user_id: str) -> UserInfo:
    found = list_users(conn, tenant_id, [user_id]) if is_uuid(user_id) else []
    if not found:
        raise NotFound(f"no user with id {user_id}", field="id")
    return found[0]


def create_user(rt: Runtime, actor: Actor, data: dict[str, Any]) -> UserInfo:
    """Add a user; without ``permissionSets`` they get the standard user set."""

    def step(change: Change) -> UserInfo:
        loaded = load(UserSchema(), data)
        for key in ("email",):
            if key not in loaded:
                raise ValidationError(f"{key}: required", field=key)
        email = loaded["email"].strip().lower()
        tenant_id = change.tenant.id
        taken = change.conn.execute(
            sa.select(users.c.id).where(users.c.tenant_id == tenant_id, users.c.email == email)
        ).first()
        if taken:
            raise Conflict(f"email: a user with email {email} already exists", field="email")
        user_id = new_id()
        change.conn.execute(users.insert().values(
            id=user_id, tenant_id=tenant_id, email=email, name=loaded.get("name") or email.split("@")[0],
            is_active=loaded.get("active", True), is_admin=loaded.get("isAdmin", False), created_at=utcnow(),
            role_id=_role_id(change.conn, tenant_id, loaded.get("role")),
            manager_id=_manager_id(change.conn, tenant_id, loaded.get("manager"), user_id),
            password_hash=hash_password(loaded["password"]) if loaded.get("password") is not None else None,
        ))
        _assign(change.conn, tenant_id, user_id, loaded.get("permissionSets", _default_sets(change.conn, tenant_id)))
        return _user(change.conn, tenant_id, user_id)

    return _admin_change(rt, actor, step, "createUser", data)


def _default_sets(conn: sa.Connection, tenant_id: str) -> list[str]:
    found = conn.execute(sa.select(permission_sets.c.name).where(
        permission_sets.c.tenant_id == tenant_id, permission_sets.c.name == STANDARD_USER)).scalar()
    return [found] if found else []


def _manager_id(conn: sa.Connection, tenant_id: str, manager: str | None, user_id: str) -> str | None:
    if manager is None:
        return None
    if manager == user_id:
        raise ValidationError("manager: a user cannot manage themselves", field="manager")
    if not is_uuid(manager) or conn.execute(
        sa.select(users.c.id).where(users.c.id == manager, users.c.tenant_id == tenant_id)
    ).first() is None:
        raise NotFound(f"manager: no user with id {manager}", field="manager")
    return manager


def _assign(conn: sa.Connection, tenant_id: str, user_id: str, names: list[str]) -> None:
    conn.execute(user_permission_sets.delete().where(user_permission_sets.c.user_id == user_id))
    if not names:
        return
    found = dict(conn.execute(sa.select(permission_sets.c.name, permission_sets.c.id).where(
        permission_sets.c.tenant_id == tenant_id, permission_sets.c.name.in_(names))).all())
    missing = sorted(set(names) - set(found))
    if missing:
        raise NotFound(f"permissionSets: no permission set '{missing[0]}'", field="permissionSets")
    conn.execute(user_permission_sets.insert(), [{"user_id": user_id, "permission_set_id": found[n]} for n in sorted(set(names))])


def update_user(rt: Runtime, actor: Actor, data: dict[str, Any]) -> UserInfo:
    def step(change: Change) -> UserInfo:
        loaded = load(UserSchema(), data)
        tenant_id = change.tenant.id
        user = _user(change.conn, tenant_id, loaded.get("id") or "")
        values: dict[str, Any] = {}
        if "name" in loaded:
            values["name"] = loaded["name"]
        if "email" in loaded and loaded["email"].lower() != user.email:
            email = loaded["email"].strip().lower()
            if change.conn.execute(sa.select(users.c.id).where(users.c.tenant_id == tenant_id, users.c.email == email)).first():
                raise Conflict(f"email: a user with email {email} already exists", field="email")
            values["email"] = email
        if "role" in loaded:
            values["role_id"] = _role_id(change.conn, tenant_id, loaded["role"])
        if "manager" in loaded:
            values["manager_id"] = _manager_id(change.conn, tenant_id, loaded["manager"], user.id)
            _refuse_manager_cycle(change.conn, user.id, values["manager_id"])
        if "isAdmin" in loaded:
            values["is_admin"] = loaded["isAdmin"]
        if "active" in loaded:
            values["is_active"] = loaded["active"]
        if "password" in loaded:
            # null removes the password (no browser login); any text must be a valid password.
            values["password_hash"] = hash_password(loaded["password"]) if loaded["password"] is not None else None
        if user.id == actor.user_id and (values.get("is_admin") is False or values.get("is_active") is False):
            raise Forbidden("you cannot remove your own administrator rights or deactivate yourself", field="id")
        if values:
            change.conn.execute(users.update().where(users.c.id == user.id).values(**values))
        if "password_hash" in values or values.get("is_active") is False:
            # A new password or a deactivation ends the user's browser sessions.
            change.conn.execute(sessions.update().where(sessions.c.user_id == user.id, sessions.c.revoked_at.is_(None))
                                .values(revoked_at=utcnow()))
        if "permissionSets" in loaded:
            _assign(change.conn, tenant_id, user.id, loaded["permissionSets"])
        return _user(change.conn, tenant_id, user.id)

    return _admin_change(rt, actor, step, "updateUser", data)


def _refuse_manager_cycle(conn: sa.Connection, user_id: str, manager_id: str | None) -> None:
    current, seen = manager_id, set()
    while current is not None and current not in seen:
        if current == user_id:
            raise ValidationError("manager: the user would end up managing themselves", field="manager")
        seen.add(current)
        current = conn.execute(sa.select(users.c.manager_id).where(users.c.id == current)).scalar()


# --- permission sets ----------------------------------------------------------------------------
OBJECT_FLAGS = (("read", "can_read"), ("create", "can_create"), ("edit", "can_edit"), ("delete", "can_delete"),
                ("viewAll", "view_all"), ("modifyAll", "modify_all"))


@dataclass(frozen=True)
class PermissionSetInfo:
    id: str
    name: str
    labels: dict[str, str]
    description: dict[str, str] | None
    origin: str
    objects: tuple[dict[str, Any], ...]
    fields: tuple[dict[str, Any], ...]


class ObjectPermissionSchema(ma.Schema):
    object = ma.fields.String(required=True)
    read = ma.fields.Boolean(load_default=False)
    create = ma.fields.Boolean(load_default=False)
    edit = ma.fields.Boolean(load_default=False)
    delete = ma.fields.Boolean(load_default=False)
    viewAll = ma.fields.Boolean(load_default=False)
    modifyAll = ma.fields.Boolean(load_default=False)


class FieldPermissionSchema(ma.Schema):
    object = ma.fields.String(required=True)
    field = ma.fields.String(required=True)
    read = ma.fields.Boolean(load_default=False)
    edit = ma.fields.Boolean(load_default=False)


class PermissionSetSchema(ma.Schema):
    name = ma.fields.String(required=True)
    label = LabelField()
    description = LabelField(allow_none=True)
    objectPermissions = ma.fields.List(ma.fields.Nested(ObjectPermissionSchema))
    fieldPermissions = ma.fields.List(ma.fields.Nested(FieldPermissionSchema))


def list_permission_sets(conn: sa.Connection, meta: TenantMetadata, tenant_id: str) -> list[PermissionSetInfo]:
    object_names = {o.id: o.name for o in meta.objects}
    field_names = {f.id: (o.name, f.name) for o in meta.objects for f in o.fields}
    rows = conn.execute(sa.select(permission_sets).where(permission_sets.c.tenant_id == tenant_id)
                        .order_by(permission_sets.c.name)).mappings().all()
    ids = [r["id"] for r in rows]
    objects: dict[str, list[dict[str, Any]]] = {}
    for row in conn.execute(sa.select(object_permissions).where(object_permissions.c.permission_set_id.in_(ids))).mappings():
        entry = {"object": object_names.get(row["object_id"], "?"), **{key: bool(row[col]) for key, col in OBJECT_FLAGS}}
        objects.setdefault(row["permission_set_id"], []).append(entry)
    fields: dict[str, list[dict[str, Any]]] = {}
    for row in conn.execute(sa.select(field_permissions).where(field_permissions.c.permission_set_id.in_(ids))).mappings():
        object_name, field_name = field_names.get(row["field_id"], ("?", "?"))
        fields.setdefault(row["permission_set_id"], []).append(
            {"object": object_name, "field": field_name, "read": bool(row["can_read"]), "edit": bool(row["can_edit"])})
    return [
        PermissionSetInfo(
            r["id"], r["name"], dict(r["labels"]), dict(r["description"]) if r["description"] else None, r["origin"],
            tuple(sorted(objects.get(r["id"], []), key=lambda e: e["object"])),
            tuple(sorted(fields.get(r["id"], []), key=lambda e: (e["object"], e["field"]))),
        )
        for r in rows
    ]


def _permission_set(change: Change, name: str) -> PermissionSetInfo:
    for found in list_permission_sets(change.conn, change.reload(), change.tenant.id):
        if found.name == name:
            return found
    raise NotFound(f"no permission set '{name}'", field="name")


def create_permission_set(rt: Runtime, actor: Actor, data: dict[str, Any], *, origin: str = "custom") -> PermissionSetInfo:
    def step(change: Change) -> PermissionSetInfo:
        return create_permission_set_in(change, data, origin=origin)

    return _admin_change(rt, actor, step, "createPermissionSet", data)


def create_permission_set_in(change: Change, data: dict[str, Any], *, origin: str) -> PermissionSetInfo:
    loaded = load(PermissionSetSchema(), data)
    name = _check_name(loaded["name"], "permission set")
    tenant_id = change.tenant.id
    if change.conn.execute(sa.select(permission_sets.c.id).where(
            permission_sets.c.tenant_id == tenant_id, permission_sets.c.name == name)).first():
        raise Conflict(f"permission set '{name}' already exists", field="name")
    set_id = new_id()
    now = utcnow()
    change.conn.execute(permission_sets.insert().values(
        id=set_id, tenant_id=tenant_id, name=name, labels=loaded.get("label") or normalise_label(humanise(name)),
        description=loaded.get("description"), origin=origin, created_at=now, updated_at=now,
    ))
    _write_grants(change, set_id, loaded)
    return _permission_set(change, name)


def update_permission_set(rt: Runtime, actor: Actor, data: dict[str, Any]) -> PermissionSetInfo:
    """Change a set; ``objectPermissions`` / ``fieldPermissions``, when given, replace the stored lists."""

    def step(change: Change) -> PermissionSetInfo:
        loaded = load(PermissionSetSchema(), data)
        current = _permission_set(change, loaded["name"])
        values: dict[str, Any] = {"updated_at": utcnow()}
        if "label" in loaded:
            values["labels"] = {**current.labels, **loaded["label"]}
        if "description" in loaded:
            values["description"] = loaded["description"]
        change.conn.execute(permission_sets.update().where(permission_sets.c.id == current.id).values(**values))
        _write_grants(change, current.id, loaded)
        return _permission_set(change, current.name)

    return _admin_change(rt, actor, step, "updatePermissionSet", data)


def delete_permission_set(rt: Runtime, actor: Actor, data: dict[str, Any]) -> PermissionSetInfo:
    def step(change: Change) -> PermissionSetInfo:
        current = _permission_set(change, data.get("name") or "")
        change.conn.execute(permission_sets.delete().where(permission_sets.c.id == current.id))
        return current

    return _admin_change(rt, actor, step, "deletePermissionSet", data)


def _write_grants(change: Change, set_id: str, loaded: dict[str, Any]) -> None:
    meta = change.meta
    if "objectPermissions" in loaded:
        rows = []
        seen: set[str] = set()
        for index, entry in enumerate(loaded["objectPermissions"]):
            where = f"objectPermissions.{index}"
            obj = meta.object(entry["object"])
            if obj is None:
                raise NotFound(f"{where}.object: no object '{entry['object']}'", field=f"{where}.object")
            if obj.name in seen:
                raise ValidationError(f"{where}.object: '{obj.name}' is listed twice", field=f"{where}.object")
            seen.add(obj.name)
            flags = _implied_object_flags(entry)
            rows.append({"permission_set_id": set_id, "object_id": obj.id, **{col: flags[key] for key, col in OBJECT_FLAGS}})
        change.conn.execute(object_permissions.delete().where(object_permissions.c.permission_set_id == set_id))
        if rows:
            change.conn.execute(object_permissions.insert(), rows)
    if "fieldPermissions" in loaded:
        rows = []
        seen_fields: set[tuple[str, str]] = set()
        for index, entry in enumerate(loaded["fieldPermissions"]):
            where = f"fieldPermissions.{index}"
            obj = meta.object(entry["object"])
            if obj is None:
                raise NotFound(f"{where}.object: no object '{entry['object']}'", field=f"{where}.object")
            fld = obj.field(entry["field"])
            if fld is None:
                raise NotFound(f"{where}.field: {obj.name} has no field '{entry['field']}'", field=f"{where}.field")
            if (obj.name, fld.name) in seen_fields:
                raise ValidationError(f"{where}.field: '{obj.name}.{fld.name}' is listed twice", field=f"{where}.field")
            seen_fields.add((obj.name, fld.name))
            # Editing a field one cannot read makes no sense; edit implies read.
            rows.append({"permission_set_id": set_id, "field_id": fld.id,
                         "can_read": entry["read"] or entry["edit"], "can_edit": entry["edit"]})
        change.conn.execute(field_permissions.delete().where(field_permissions.c.permission_set_id == set_id))
        if rows:
            change.conn.execute(field_permissions.insert(), rows)


def _implied_object_flags(entry: dict[str, Any]) -> dict[str, bool]:
    """Object permissions imply each other as in Salesforce: modify all ⇒ view all, delete, edit;
    view all ⇒ read; delete ⇒ edit; create or edit ⇒ read."""
    flags = {key: bool(entry.get(key)) for key, _ in OBJECT_FLAGS}
    if flags["modifyAll"]:
        flags.update(viewAll=True, delete=True, edit=True)
    if flags["delete"]:
        flags["edit"] = True
    if flags["viewAll"] or flags["create"] or flags["edit"]:
        flags["read"] = True
    return flags


def standard_user_set(change: Change) -> PermissionSetInfo:
    """The set a new tenant starts with: read, create, edit and delete on its standard objects."""
    standard = [o.name for o in change.meta.objects if o.origin == "standard"]
    return create_permission_set_in(change, {
        "name": STANDARD_USER,
        "label": {"en": "Standard user", "zh": "标准用户"},
        "objectPermissions": [{"object": n, "read": True, "create": True, "edit": True, "delete": True} for n in standard],
    }, origin="standard")
