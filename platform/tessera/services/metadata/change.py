"""The harness of a metadata change: one transaction, a version bump, fresh definitions, DDL."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, TypeVar

import sqlalchemy as sa

from tessera.core.errors import Forbidden, NotFound
from tessera.model.definitions import FieldDef, ObjectDef, TenantMetadata
from tessera.model.records.tables import RecordTables
from tessera.model.registry import TenantRef, load_metadata
from tessera.services.audit import log_event, metadata_changes
from tessera.services.automation.dependents import refuse_broken_automation
from tessera.services.automation.workflow_checks import refuse_broken_workflows
from tessera.services.metadata.computed import refuse_broken
from tessera.services.runtime import Actor, Runtime
from tessera.storage.ddl import DDL, in_metadata_transaction
from tessera.storage.system_tables import tenants

T = TypeVar("T")


@dataclass
class Change:
    """What a change step works with, all bound to the change's transaction."""

    conn: sa.Connection
    tenant: TenantRef
    meta: TenantMetadata
    ddl: DDL
    version: int

    @property
    def foreign_keys(self) -> bool:
        return self.conn.dialect.name != "sqlite"

    def tables(self, meta: TenantMetadata | None = None) -> RecordTables:
        return RecordTables(meta or self.meta, foreign_keys=self.foreign_keys)

    def object(self, name: str, *, field: str = "object") -> ObjectDef:
        obj = self.meta.object(name)
        if obj is None:
            raise NotFound(f"no object '{name}'", field=field)
        return obj

    def reload(self) -> TenantMetadata:
        self.meta = load_metadata(self.conn, self.tenant, self.version)
        return self.meta

    def with_field(self, object_name: str, field: FieldDef) -> TenantMetadata:
        """The definitions with ``field`` (just inserted, with its row's id) appended to its object,
        without reading them all again: a package adds dozens of fields in one change. Only for a
        stored field that no other object sees (no lookup); the step's end reloads everything anyway."""
        plain = replace(field, labels=_as_stored(field.labels), description=_as_stored(field.description) or None,
                        help_text=_as_stored(field.help_text) or None, options=_as_stored(field.options),
                        default_value=json.loads(json.dumps(field.default_value)))
        objects = tuple(replace(o, fields=(*o.fields, plain)) if o.name == object_name else o
                        for o in self.meta.objects)
        self.meta = replace(self.meta, objects=objects)
        return self.meta


def _as_stored(value: Any) -> Any:
    """A mapping as it reads back from its JSON column (tuples become lists, and so on)."""
    if value is None:
        return None
    return MappingProxyType(json.loads(json.dumps(dict(value))))


def begin_change(conn: sa.Connection, tenant: TenantRef) -> Change:
    """Start a change inside ``conn``'s transaction by bumping the tenant's metadata version.

    The bump comes first: its row lock serialises the metadata changes of one tenant.
    """
    conn.execute(
        sa.update(tenants).where(tenants.c.id == tenant.id).values(metadata_version=tenants.c.metadata_version + 1)
    )
    version = conn.execute(sa.select(tenants.c.metadata_version).where(tenants.c.id == tenant.id)).scalar_one()
    return Change(conn, tenant, load_metadata(conn, tenant, version), DDL(conn, tenant.schema_name), version)


def run_change(rt: Runtime, actor: Actor, step: Callable[[Change], T]) -> T:
    """Apply ``step`` atomically: definitions, DDL and the new metadata version commit together.

    Only administrators (and the platform itself) change a tenant's definitions.
    """
    if not actor.access.profile.is_admin:
        raise Forbidden("only administrators change metadata")
    tenant = actor.tenant

    def work(conn: sa.Connection) -> T:
        change = begin_change(conn, tenant)
        before = change.meta
        result = step(change)
        after = change.reload()
        refuse_broken(after, before=before)
        refuse_broken_automation(conn, tenant.id, after)
        refuse_broken_workflows(conn, tenant.id, after, rt.plugins)
        for target, details in metadata_changes(before, after):
            log_event(conn, tenant.id, "metadata", target=target, user_id=actor.user_id, details=details)
        return result

    return in_metadata_transaction(
        rt.db.tenant(tenant.schema_name),
        work,
        lock_timeout_ms=rt.config.ddl_lock_timeout_ms,
        retries=rt.config.ddl_retries,
    )
