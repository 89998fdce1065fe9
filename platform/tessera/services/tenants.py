"""Tenants: create (schema or database file, standard objects, admin user, token), list, drop."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.core.errors import Conflict, NotFound, ValidationError
from tessera.core.ids import new_id
from tessera.model.registry import TenantRef
from tessera.services.metadata.change import begin_change
from tessera.services.packages import apply_package_in, read_package, standard_package_dir
from tessera.services.runtime import Runtime, tenant_ref
from tessera.services.security.admin import standard_user_set
from tessera.services.tokens import issue_token
from tessera.storage.system_tables import object_defs, tenants, users

SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,30}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class CreatedTenant:
    tenant: TenantRef
    admin_user_id: str
    token: str


@dataclass(frozen=True)
class TenantSummary:
    slug: str
    name: str
    schema_name: str
    metadata_version: int
    objects: int
    users: int


def create_tenant(rt: Runtime, slug: str, admin_email: str, *, name: str | None = None) -> CreatedTenant:
    """Create everything a tenant needs in one transaction; on failure nothing is left behind."""
    if not SLUG_PATTERN.match(slug or ""):
        raise ValidationError(
            f"tenant slug '{slug}' must be 2-31 characters: lowercase letters, digits and _, starting with a letter",
            field="slug",
        )
    if not EMAIL_PATTERN.match(admin_email or ""):
        raise ValidationError(f"'{admin_email}' is not a valid email address", field="adminEmail")
    schema = rt.config.tenant_schema(slug)
    with rt.db.system.connect() as conn:
        if tenant_ref(conn, slug=slug) is not None:
            raise Conflict(f"tenant '{slug}' already exists", field="slug")
    if rt.db.is_sqlite:
        # A file left by a failed earlier attempt would otherwise be attached with stale tables.
        rt.db.forget_tenant(schema)
        rt.db.tenant_file(schema).unlink(missing_ok=True)
    tenant = TenantRef(new_id(), slug, schema, 1)
    user_id = new_id()
    standard = read_package(standard_package_dir())
    try:
        with rt.db.tenant(schema).begin() as conn:
            now = utcnow()
            conn.execute(tenants.insert().values(
                id=tenant.id, slug=slug, name=name or slug, schema_name=schema, metadata_version=1, created_at=now
            ))
            if not rt.db.is_sqlite:
                conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
            conn.execute(users.insert().values(
                id=user_id, tenant_id=tenant.id, email=admin_email.lower(), name=admin_email.split("@")[0],
                is_active=True, is_admin=True, created_at=now,
            ))
            token = issue_token(conn, tenant.id, user_id, "admin")
            change = begin_change(conn, tenant)
            apply_package_in(change, standard, origin="standard")
            standard_user_set(change)
            version = change.version
    except BaseException:
        if rt.db.is_sqlite:
            rt.db.forget_tenant(schema)
            rt.db.tenant_file(schema).unlink(missing_ok=True)
        raise
    return CreatedTenant(TenantRef(tenant.id, slug, schema, version), user_id, token)


def list_tenants(rt: Runtime) -> list[TenantSummary]:
    with rt.db.system.connect() as conn:
        objects = sa.select(sa.func.count()).where(object_defs.c.tenant_id == tenants.c.id).scalar_subquery()
        people = sa.select(sa.func.count()).where(users.c.tenant_id == tenants.c.id).scalar_subquery()
        rows = conn.execute(
            sa.select(tenants.c.slug, tenants.c.name, tenants.c.schema_name, tenants.c.metadata_version, objects, people)
            .order_by(tenants.c.slug)
        ).all()
    return [TenantSummary(*row) for row in rows]


def drop_tenant(rt: Runtime, slug: str) -> None:
    """Remove the tenant's schema (or file) and every system row that belongs to it."""
    with rt.db.system.connect() as conn:
        ref = tenant_ref(conn, slug=slug)
    if ref is None:
        raise NotFound(f"no tenant '{slug}'", field="slug")
    with rt.db.system.begin() as conn:
        if not rt.db.is_sqlite:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{ref.schema_name}" CASCADE')
        conn.execute(tenants.delete().where(tenants.c.id == ref.id))
    if rt.db.is_sqlite:
        rt.db.forget_tenant(ref.schema_name)
        rt.db.tenant_file(ref.schema_name).unlink(missing_ok=True)
