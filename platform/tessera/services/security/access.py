"""Loading a user's access (``tessera.model.access.UserAccess``) from the system tables.

Every security change bumps the tenant's metadata version, so an access is cached by
(tenant, metadata version, user) and never goes stale.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from types import MappingProxyType

import sqlalchemy as sa

from tessera.core.errors import Unauthenticated
from tessera.model.access import ADMIN, FieldGrant, ObjectGrant, PermissionProfile, UserAccess
from tessera.model.registry import TenantRef
from tessera.storage.system_tables import (
    field_defs,
    field_permissions,
    object_defs,
    object_permissions,
    roles,
    user_permission_sets,
    users,
)


def load_access(conn: sa.Connection, tenant: TenantRef, user_id: str) -> UserAccess:
    user = conn.execute(
        sa.select(users.c.is_admin, users.c.role_id, users.c.is_active)
        .where(users.c.id == user_id, users.c.tenant_id == tenant.id)
    ).first()
    if user is None or not user.is_active:
        raise Unauthenticated("the user is unknown or deactivated")
    subordinates = _subordinates(conn, tenant.id, user.role_id)
    visible = frozenset({user_id, *subordinates})
    if user.is_admin:
        return UserAccess(ADMIN, user_id, user.role_id, visible)
    sets = sa.select(user_permission_sets.c.permission_set_id).where(user_permission_sets.c.user_id == user_id)
    objects: dict[str, ObjectGrant] = {}
    grants = conn.execute(
        sa.select(object_defs.c.name, object_permissions.c.can_read, object_permissions.c.can_create,
                  object_permissions.c.can_edit, object_permissions.c.can_delete, object_permissions.c.view_all,
                  object_permissions.c.modify_all)
        .select_from(object_permissions.join(object_defs, object_defs.c.id == object_permissions.c.object_id))
        .where(object_permissions.c.permission_set_id.in_(sets))
    ).all()
    for name, *flags in grants:
        objects[name] = objects.get(name, ObjectGrant()) | ObjectGrant(*map(bool, flags))
    fields: dict[tuple[str, str], FieldGrant] = {}
    rows = conn.execute(
        sa.select(object_defs.c.name, field_defs.c.name, field_permissions.c.can_read, field_permissions.c.can_edit)
        .select_from(field_permissions.join(field_defs, field_defs.c.id == field_permissions.c.field_id)
                     .join(object_defs, object_defs.c.id == field_defs.c.object_id))
        .where(field_permissions.c.permission_set_id.in_(sets))
    ).all()
    for object_name, field_name, read, edit in rows:
        key = (object_name, field_name)
        grant = FieldGrant(bool(read), bool(edit))
        fields[key] = fields[key] | grant if key in fields else grant
    profile = PermissionProfile(False, MappingProxyType(objects), MappingProxyType(fields))
    return UserAccess(profile, user_id, user.role_id, visible)


def _subordinates(conn: sa.Connection, tenant_id: str, role_id: str | None) -> set[str]:
    """Users in roles strictly below ``role_id``."""
    if role_id is None:
        return set()
    children: dict[str, list[str]] = {}
    for rid, parent in conn.execute(sa.select(roles.c.id, roles.c.parent_id).where(roles.c.tenant_id == tenant_id)):
        if parent is not None:
            children.setdefault(parent, []).append(rid)
    below: set[str] = set()
    stack = list(children.get(role_id, ()))
    while stack:
        rid = stack.pop()
        if rid not in below:
            below.add(rid)
            stack.extend(children.get(rid, ()))
    if not below:
        return set()
    return set(conn.execute(
        sa.select(users.c.id).where(users.c.tenant_id == tenant_id, users.c.role_id.in_(sorted(below)))
    ).scalars())


class AccessCache:
    """Per-process cache of ``UserAccess`` by (tenant, metadata version, user), bounded LRU."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[str, int, str], UserAccess] = OrderedDict()

    def get(self, conn: sa.Connection, tenant: TenantRef, user_id: str) -> UserAccess:
        key = (tenant.id, tenant.metadata_version, user_id)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        access = load_access(conn, tenant, user_id)
        with self._lock:
            self._items[key] = access
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return access
