"""API tokens: issued once, stored as a SHA-256 hash, resolved to a tenant and user per request."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.core.errors import Forbidden, NotFound, Unauthenticated, ValidationError
from tessera.core.ids import new_id
from tessera.model.registry import TenantRef
from tessera.services.audit import log_event
from tessera.services.runtime import Actor, Runtime
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
    session: bool = False
    """Authenticated by a browser session cookie rather than a bearer token."""

    @property
    def read_only(self) -> bool:
        return self.scope == "READ_ONLY"


SCOPES = ("READ_WRITE", "READ_ONLY")


def issue_token(
    conn: sa.Connection, tenant_id: str, user_id: str, name: str, expires_at: datetime | None = None,
    *, scope: str = "READ_WRITE", token_id: str | None = None,
) -> str:
    """Create a token and return it in clear; only its hash is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        api_tokens.insert().values(
            id=token_id or new_id(), tenant_id=tenant_id, user_id=user_id, name=name, scope=scope,
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



# --- managing tokens ------------------------------------------------------------------------------
@dataclass(frozen=True)
class TokenInfo:
    id: str
    user_id: str
    name: str
    scope: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class IssuedToken:
    """A new token: ``token`` is shown this once and never again (only its hash is stored)."""

    info: TokenInfo
    token: str


def _infos(conn: sa.Connection, *conditions: sa.ColumnElement[bool]) -> list[TokenInfo]:
    rows = conn.execute(
        sa.select(api_tokens.c.id, api_tokens.c.user_id, api_tokens.c.name, api_tokens.c.scope,
                  api_tokens.c.created_at, api_tokens.c.expires_at, api_tokens.c.revoked_at)
        .where(*conditions).order_by(api_tokens.c.created_at)
    ).all()
    return [TokenInfo(*row) for row in rows]


def create_api_token(rt: Runtime, actor: Actor, data: dict[str, Any]) -> IssuedToken:
    """Issue a token for the caller (administrators may issue one for another user of the tenant)."""
    name = (data.get("name") or "").strip()
    if not 1 <= len(name) <= 100:
        raise ValidationError("name: 1 to 100 characters", field="name")
    scope = data.get("scope") or "READ_WRITE"
    if scope not in SCOPES:
        raise ValidationError(f"scope: one of {', '.join(SCOPES)}", field="scope")
    expires_at = data.get("expiresAt")
    if isinstance(expires_at, str):
        try:
            expires_at = datetime.fromisoformat(expires_at.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError("expiresAt: not an ISO 8601 date and time", field="expiresAt") from None
        if expires_at.tzinfo is None:
            raise ValidationError("expiresAt: needs a time zone", field="expiresAt")
    if expires_at is not None and expires_at <= utcnow():
        raise ValidationError("expiresAt: must be in the future", field="expiresAt")
    user_id = data.get("user") or actor.user_id
    if user_id != actor.user_id and not actor.access.profile.is_admin:
        raise Forbidden("only administrators issue tokens for other users", field="user")
    with rt.db.system.begin() as conn:
        owner = conn.execute(sa.select(users.c.id, users.c.is_active).where(
            users.c.id == user_id, users.c.tenant_id == actor.tenant.id)).first() if user_id else None
        if owner is None or not owner.is_active:
            raise NotFound(f"user: no active user with id {user_id}", field="user")
        token_id = new_id()
        token = issue_token(conn, actor.tenant.id, user_id, name, expires_at, scope=scope, token_id=token_id)
        info = _infos(conn, api_tokens.c.id == token_id)[0]
        log_event(conn, actor.tenant.id, "token_created", target=f"token {name}", user_id=actor.user_id,
                  details={"tokenId": token_id, "for": user_id, "scope": scope})
    return IssuedToken(info, token)


def list_api_tokens(rt: Runtime, actor: Actor) -> list[TokenInfo]:
    """The caller's tokens; every token of the tenant for administrators."""
    conditions = [api_tokens.c.tenant_id == actor.tenant.id]
    if not actor.access.profile.is_admin:
        conditions.append(api_tokens.c.user_id == actor.user_id)
    with rt.db.system.connect() as conn:
        return _infos(conn, *conditions)


def revoke_api_token(rt: Runtime, actor: Actor, token_id: str) -> TokenInfo:
    with rt.db.system.begin() as conn:
        found = _infos(conn, api_tokens.c.id == token_id, api_tokens.c.tenant_id == actor.tenant.id)
        if not found or (found[0].user_id != actor.user_id and not actor.access.profile.is_admin):
            raise NotFound(f"no token with id {token_id}", field="id")
        if found[0].revoked_at is None:
            conn.execute(api_tokens.update().where(api_tokens.c.id == token_id).values(revoked_at=utcnow()))
            log_event(conn, actor.tenant.id, "token_revoked", target=f"token {found[0].name}",
                      user_id=actor.user_id, details={"tokenId": token_id})
        return _infos(conn, api_tokens.c.id == token_id)[0]
