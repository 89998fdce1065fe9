"""The runtime a process works with: configuration, database engines and the metadata cache."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

import sqlalchemy as sa

from tessera.core.config import Config
from tessera.core.errors import NotFound
from tessera.model.access import SYSTEM, UserAccess
from tessera.model.registry import ModelCache, TenantModel, TenantRef
from tessera.plugin_host import PluginHost, default_host
from tessera.services.security.access import AccessCache
from tessera.storage.engines import Database
from tessera.storage.system_tables import tenants


@dataclass(frozen=True)
class Actor:
    """Who is doing something: a user of a tenant, with what they may do.

    Work the platform does itself (the CLI, jobs, imports) has ``access=SYSTEM``; requests carry
    the user's own access, loaded once per (tenant, metadata version, user).
    """

    tenant: TenantRef
    user_id: str | None
    channel: str = "api"
    access: UserAccess = SYSTEM


QUEUED_FLAG = "tessera.outbox.queued"
"""Set in a connection's ``info`` by ``outbox.enqueue``: the transaction added background work."""


class Transport(Protocol):
    """How committed outbox rows reach a worker (implemented in ``tessera.jobs.transport``)."""

    def committed(self) -> None:
        """Called after a transaction that enqueued work has committed."""


class Runtime:
    """Shared by all requests and jobs of a process; build once per process."""

    def __init__(self, config: Config, plugins: PluginHost | None = None) -> None:
        self.config = config
        self.db = Database(config)
        self.models = ModelCache()
        self.accesses = AccessCache()
        self.plugins = plugins if plugins is not None else default_host()
        self.transport: Transport | None = None
        """Hands committed background jobs to workers (``tessera.jobs.transport.attach``); without one,
        jobs wait in the outbox for ``tessera worker``."""

    @property
    def dialect(self) -> str:
        return "sqlite" if self.config.is_sqlite else "postgresql"

    def tenant(self, slug: str) -> TenantRef:
        with self.db.system.connect() as conn:
            ref = tenant_ref(conn, slug=slug)
        if ref is None:
            raise NotFound(f"no tenant '{slug}'", field="tenant")
        return ref

    def model(self, conn: sa.Connection, tenant: TenantRef) -> TenantModel:
        return self.models.get(conn, tenant)

    def access(self, conn: sa.Connection, tenant: TenantRef, user_id: str) -> UserAccess:
        """What ``user_id`` may do in ``tenant`` at its current metadata version."""
        return self.accesses.get(conn, tenant, user_id)

    @contextmanager
    def read(self, tenant: TenantRef) -> Iterator[sa.Connection]:
        """A connection to the tenant's data for reading (one transaction, rolled back at the end)."""
        with self.db.tenant(tenant.schema_name).connect() as conn:
            yield conn

    @contextmanager
    def write(self, tenant: TenantRef) -> Iterator[sa.Connection]:
        """A transaction on the tenant's data (and system tables); background work it enqueued is
        handed to the transport once it has committed."""
        with self.system_write(self.db.tenant(tenant.schema_name)) as conn:
            yield conn

    @contextmanager
    def system_write(self, engine: sa.Engine | None = None) -> Iterator[sa.Connection]:
        """A transaction on system tables (or ``engine``) that kicks the transport after commit."""
        queued = False
        with (engine or self.db.system).begin() as conn:
            try:
                yield conn
            finally:
                queued = bool(conn.info.pop(QUEUED_FLAG, False))
        if queued and self.transport is not None:
            self.transport.committed()

    def close(self) -> None:
        self.db.dispose()


def tenant_ref(conn: sa.Connection, *, slug: str | None = None, tenant_id: str | None = None) -> TenantRef | None:
    query = sa.select(tenants.c.id, tenants.c.slug, tenants.c.schema_name, tenants.c.metadata_version)
    query = query.where(tenants.c.slug == slug) if slug is not None else query.where(tenants.c.id == tenant_id)
    row = conn.execute(query).first()
    return TenantRef(*row) if row else None
