"""THE access module: which objects a user may use and how, which of their records, which fields.

Every path that reads or writes records asks it, and nothing else decides access: GraphQL lists,
single reads, ``totalCount``, lookups, relations, filters and sort, mutations, bulk writes and
exports; reports, workflows, connectors and search as they come.

The model follows Salesforce's sharing model:

- **Object permissions** (read, create, edit, delete, view all, modify all) and **field permissions**
  (read, edit) come from the permission sets assigned to a user; a user has the union of their sets.
  A field is readable (editable) by whoever can read (edit) its object, unless some of the user's
  permission sets name the field: then at least one of those must grant it. System administrators
  bypass all of this.
- **Record access**: each object has an org-wide default (``PRIVATE``, ``PUBLIC_READ``,
  ``PUBLIC_READ_WRITE``). Where the default does not open a record, a user reaches the records they
  own, those owned by users in roles below theirs, and those shared with them or their role.
  ``view all`` / ``modify all`` open every record of the object for reading / editing.

``PermissionProfile`` is what the permission sets grant (shared by every user with the same sets,
so the GraphQL schema is cached per profile); ``UserAccess`` adds who the user is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa

from tessera.model.definitions import FieldDef, ObjectDef, TenantMetadata
from tessera.storage.system_tables import record_shares


class Sharing(StrEnum):
    PRIVATE = "PRIVATE"
    PUBLIC_READ = "PUBLIC_READ"
    PUBLIC_READ_WRITE = "PUBLIC_READ_WRITE"


class Action(StrEnum):
    READ = "read"
    CREATE = "create"
    EDIT = "edit"
    DELETE = "delete"


@dataclass(frozen=True)
class ObjectGrant:
    read: bool = False
    create: bool = False
    edit: bool = False
    delete: bool = False
    view_all: bool = False
    modify_all: bool = False

    def __or__(self, other: ObjectGrant) -> ObjectGrant:
        return ObjectGrant(*(a or b for a, b in zip(self.as_tuple(), other.as_tuple(), strict=True)))

    def as_tuple(self) -> tuple[bool, ...]:
        return (self.read, self.create, self.edit, self.delete, self.view_all, self.modify_all)

    def allows(self, action: Action) -> bool:
        return bool(getattr(self, action.value))


FULL = ObjectGrant(True, True, True, True, True, True)
NONE = ObjectGrant()


@dataclass(frozen=True)
class FieldGrant:
    read: bool
    edit: bool

    def __or__(self, other: FieldGrant) -> FieldGrant:
        return FieldGrant(self.read or other.read, self.edit or other.edit)


@dataclass(frozen=True)
class PermissionProfile:
    """The union of a user's permission sets (or an administrator's bypass)."""

    is_admin: bool = False
    objects: Mapping[str, ObjectGrant] = field(default_factory=lambda: MappingProxyType({}))
    fields: Mapping[tuple[str, str], FieldGrant] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def key(self) -> str:
        """Equal for equal grants: the GraphQL schema is cached by it."""
        if self.is_admin:
            return "admin"
        data: dict[str, Any] = {
            "o": sorted([name, *grant.as_tuple()] for name, grant in self.objects.items() if any(grant.as_tuple())),
            "f": sorted([*key, grant.read, grant.edit] for key, grant in self.fields.items()),
        }
        return hashlib.sha256(json.dumps(data).encode()).hexdigest()[:24]

    def object(self, name: str) -> ObjectGrant:
        return FULL if self.is_admin else self.objects.get(name, NONE)

    def can(self, object_name: str, action: Action) -> bool:
        return self.object(object_name).allows(action)

    def field(self, obj: ObjectDef, fld: FieldDef) -> FieldGrant:
        grant = self.object(obj.name)
        writable = not (fld.read_only or fld.is_computed)
        if self.is_admin:
            return FieldGrant(True, writable)
        explicit = self.fields.get((obj.name, fld.name))
        read = grant.read and (explicit is None or explicit.read)
        # Field "edit" governs writing a value when creating a record as well as when editing one.
        edit = (grant.edit or grant.create) and writable and (explicit is None or explicit.edit)
        return FieldGrant(read, read and edit)

    def readable_fields(self, obj: ObjectDef) -> tuple[FieldDef, ...]:
        """The fields shown to this profile (lookups also need their target object readable)."""
        return tuple(
            f for f in obj.fields
            if self.field(obj, f).read and (not f.is_lookup or self.can(f.target or "", Action.READ))
        )

    def editable(self, obj: ObjectDef, fld: FieldDef) -> bool:
        return self.field(obj, fld).edit


ADMIN = PermissionProfile(is_admin=True)


@dataclass(frozen=True)
class UserAccess:
    """A user's access: their profile, and who they are in the sharing model."""

    profile: PermissionProfile
    user_id: str | None = None
    role_id: str | None = None
    visible_owner_ids: frozenset[str] = frozenset()
    """The user and every user in a role below theirs: owners whose records the user reaches."""

    @property
    def is_system(self) -> bool:
        return self.profile.is_admin

    def can(self, obj: ObjectDef | str, action: Action) -> bool:
        return self.profile.can(obj if isinstance(obj, str) else obj.name, action)

    def row_filter(
        self, obj: ObjectDef, table: sa.FromClause, *, edit: bool = False, full: bool = False
    ) -> sa.ColumnElement[bool] | None:
        """The records of ``obj`` (in ``table``) this user may read, or edit, or fully control
        (delete, restore, transfer, share: owner, those above the owner, modify all); None when all."""
        if self.profile.is_admin:
            return None
        grant = self.profile.object(obj.name)
        if grant.modify_all or (grant.view_all and not edit and not full):
            return None
        if full:
            if not self.visible_owner_ids:
                return sa.false()
            return table.c.owner_id.in_(sorted(self.visible_owner_ids))
        sharing = Sharing(obj.sharing)
        if sharing == Sharing.PUBLIC_READ_WRITE or (sharing == Sharing.PUBLIC_READ and not edit):
            return None
        grantee = [record_shares.c.user_id == self.user_id] if self.user_id else []
        if self.role_id:
            grantee.append(record_shares.c.role_id == self.role_id)
        reach: list[sa.ColumnElement[bool]] = []
        if self.visible_owner_ids:
            reach.append(table.c.owner_id.in_(sorted(self.visible_owner_ids)))
        if grantee:
            shared = sa.select(record_shares.c.record_id).where(
                record_shares.c.object_id == obj.id, sa.or_(*grantee),
                *([record_shares.c.access == "EDIT"] if edit else []),
            )
            reach.append(table.c.id.in_(shared))
        return sa.or_(*reach) if reach else sa.false()


SYSTEM = UserAccess(ADMIN)
"""Work done by the platform itself (jobs, imports, the CLI): every object, record and field."""


def visible_metadata(meta: TenantMetadata, profile: PermissionProfile) -> TenantMetadata:
    """``meta`` as ``profile`` sees it: readable objects and fields only, fields it may not edit
    read-only. The generated GraphQL schema is built from it, so what is hidden is absent from
    results, filters, sort inputs and introspection alike."""
    if profile.is_admin:
        return meta
    objects = []
    for obj in meta.objects:
        if not profile.can(obj.name, Action.READ):
            continue
        fields = tuple(
            f if f.read_only or profile.editable(obj, f) else replace(f, read_only=True)
            for f in profile.readable_fields(obj)
        )
        objects.append(replace(obj, fields=fields))
    shown = {(o.name, f.name) for o in objects for f in o.fields}
    relations = {
        target: tuple(r for r in found if (r.source_object, r.lookup_field) in shown)
        for target, found in meta.reverse_relations.items()
    }
    return replace(meta, objects=tuple(objects), fixed_relations=MappingProxyType(relations))
