"""API tokens: issued once, stored as a SHA-256 hash, resolved to a tenant and user per request."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.core.errors import Unauthenticated
from tessera.core.ids import new_id
from tessera.model.registry import TenantRef
from tessera.storage.system_tables import api_tokens, tenants, users

TOKEN_PREFIX = "tsk_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of a request."""

    tenant: TenantRef
    user_id: str
    email: str
    scope: str = "READ_WRITE"
    """READ_WRITE, or READ_ONLY: the token may not run mutations."""

    @property
    def read_only(self) -> bool:
        return self.scope == "READ_ONLY"


def issue_token(conn: sa.Connection, tenant_id: str, user_id: str, name: str, expires_at: datetime | None = None) -> str:
    """Create a token and return it in clear; only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        api_tokens.insert().values(
            id=new_id(), tenant_id=tenant_id, user_id=user_id, name=name,
            token_hash=hash_token(token), created_at=utcnow(), expires_at=expires_at,
        )
    )
    return token


def authenticate(conn: sa.Connection, token: str | None) -> Principal:
    """Resolve a bearer token, with the tenant's current metadata version, in one statement."""
    if not token:
        raise Unauthenticated("missing API token: send 'Authorization: Bearer <token>'")
    row = conn.execute(
        sa.select(
            tenants.c.id, tenants.c.slug, tenants.c.schema_name, tenants.c.metadata_version,
            users.c.id.label("user_id"), users.c.email, users.c.is_active,
            api_tokens.c.expires_at, api_tokens.c.revoked_at, api_tokens.c.scope,
        )
        .select_from(api_tokens.join(users, users.c.id == api_tokens.c.user_id).join(tenants, tenants.c.id == api_tokens.c.tenant_id))
        .where(api_tokens.c.token_hash == hash_token(token))
    ).first()
    if row is None or row.revoked_at is not None or not row.is_active:
        raise Unauthenticated("invalid API token")
    if row.expires_at is not None and row.expires_at <= utcnow():
        raise Unauthenticated("expired API token")
    return Principal(
        TenantRef(row.id, row.slug, row.schema_name, row.metadata_version), row.user_id, row.email, row.scope
    )

