"""What a GraphQL request works with: the runtime, the caller and the tenant's model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from tessera.model.access import SYSTEM, UserAccess
from tessera.model.definitions import TenantMetadata
from tessera.model.registry import TenantModel
from tessera.services.records.read import RecordReader
from tessera.services.runtime import Actor, Runtime
from tessera.services.tokens import Principal


@dataclass
class RequestContext:
    rt: Runtime
    principal: Principal
    model: TenantModel
    locale: str | None = None
    access: UserAccess = SYSTEM
    meta: TenantMetadata | None = None
    """The metadata the caller's schema shows (set with the schema, per request)."""
    session_secret: str | None = None
    """The browser session's cookie value, when the request came with one."""
    csrf_token: str | None = None
    """The browser session's CSRF token (``me { csrfToken }`` gives it back after a page reload)."""
    address: str | None = None
    cookies: list[tuple[str, str | None, Any]] = field(default_factory=list)
    """Cookies to set (or clear, with None) on the response."""
    _conn: sa.Connection | None = field(default=None, repr=False)
    _reader: RecordReader | None = field(default=None, repr=False)

    @property
    def actor(self) -> Actor:
        return Actor(self.principal.tenant, self.principal.user_id, "api", self.access)

    @property
    def reader(self) -> RecordReader:
        """A reader on one connection for the whole request (opened on first use)."""
        if self._reader is None:
            self._conn = self.rt.db.tenant(self.principal.tenant.schema_name).connect()
            self._reader = RecordReader(self._conn, self.model, self.rt.config.limits, self.access)
        return self._reader

    # --- what plugins see (tessera.plugin.RequestView) ---------------------------------------
    @property
    def tenant_slug(self) -> str:
        return self.principal.tenant.slug

    @property
    def user_id(self) -> str | None:
        return self.principal.user_id

    def records(
        self, object_name: str, *, fields: Sequence[str], filter: Mapping[str, Any] | None = None,
        order_by: Sequence[Mapping[str, str]] | None = None, limit: int | None = None,
    ) -> list[dict[str, Any]]:
        return self.reader.rows(object_name, fields, filter=filter, order_by=order_by, limit=limit)

    def end_read(self) -> None:
        """Close the read connection, e.g. before a write, so the next read sees committed data."""
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        self._reader = None

    def close(self) -> None:
        self.end_read()

    def __enter__(self) -> RequestContext:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
