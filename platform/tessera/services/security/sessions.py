"""Browser sessions: password login, logout, and throttling of failed logins.

A session is a random secret sent as an HttpOnly cookie; only its SHA-256 is stored. Each session
has a CSRF token the console sends back in a header with every request (the API checks it).
Failed logins are counted per account and per client address in a sliding window; too many lock
the key for a while (``LIMIT_EXCEEDED``), whatever the password.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.core.errors import LimitExceeded, Unauthenticated, ValidationError
from tessera.core.ids import new_id
from tessera.model.registry import TenantRef
from tessera.services.audit import log_event
from tessera.services.runtime import Runtime, tenant_ref
from tessera.services.security.passwords import verify_password
from tessera.services.tokens import Principal, hash_token
from tessera.storage.system_tables import login_throttle, sessions, tenants, users

SESSION_HOURS = 12
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)
MAX_ACCOUNT_FAILURES = 5
MAX_ADDRESS_FAILURES = 20
WRONG = "wrong tenant, email or password"


@dataclass(frozen=True)
class Session:
    secret: str
    """Goes into the cookie; never stored."""
    csrf_token: str
    expires_at: datetime
    user_id: str
    email: str
    tenant: TenantRef


def login(rt: Runtime, tenant_slug: str, email: str, password: str, address: str | None) -> Session:
    email = (email or "").strip().lower()
    keys = [(f"account:{tenant_slug}:{email}", MAX_ACCOUNT_FAILURES)]
    if address:
        keys.append((f"address:{address}", MAX_ADDRESS_FAILURES))
    now = utcnow()
    with rt.db.system.begin() as conn:
        _refuse_locked(conn, keys, now)
        tenant = tenant_ref(conn, slug=tenant_slug) if tenant_slug else None
        user = conn.execute(
            sa.select(users.c.id, users.c.email, users.c.password_hash, users.c.is_active)
            .where(users.c.tenant_id == tenant.id, users.c.email == email)
        ).first() if tenant else None
        # NOTE: the hash is checked even without a user, so timing does not reveal who exists.
        matches = verify_password(password or "", user.password_hash if user else None)
        if tenant is None or user is None or not user.is_active or not matches:
            _count_failure(conn, keys, now)
            if tenant is not None:
                log_event(conn, tenant.id, "login_failed", target=email, address=address,
                          user_id=user.id if user else None)
            failed = True
        else:
            failed = False
            conn.execute(login_throttle.delete().where(login_throttle.c.key == keys[0][0]))
            secret = secrets.token_urlsafe(32)
            csrf = secrets.token_urlsafe(24)
            expires = now + timedelta(hours=SESSION_HOURS)
            conn.execute(sessions.insert().values(
                id=new_id(), tenant_id=tenant.id, user_id=user.id, secret_hash=hash_token(secret), csrf_token=csrf,
                created_at=now, expires_at=expires,
            ))
            conn.execute(users.update().where(users.c.id == user.id).values(last_login_at=now))
            log_event(conn, tenant.id, "login", target=email, user_id=user.id, address=address)
    # The failure is committed before refusing, so the count survives the refusal.
    if failed:
        raise Unauthenticated(WRONG)
    return Session(secret, csrf, expires, user.id, user.email, tenant)


def _refuse_locked(conn: sa.Connection, keys: list[tuple[str, int]], now: datetime) -> None:
    for key, _limit in keys:
        locked = conn.execute(sa.select(login_throttle.c.locked_until).where(login_throttle.c.key == key)).scalar()
        if locked is not None and locked > now:
            minutes = max(1, int((locked - now).total_seconds() // 60) + 1)
            raise LimitExceeded(f"too many failed logins; try again in {minutes} minutes", retryAfterMinutes=minutes)


def _count_failure(conn: sa.Connection, keys: list[tuple[str, int]], now: datetime) -> None:
    for key, limit in keys:
        row = conn.execute(sa.select(login_throttle).where(login_throttle.c.key == key)).mappings().first()
        if row is None or row["window_started_at"] <= now - WINDOW:
            failures, started = 1, now
        else:
            failures, started = row["failures"] + 1, row["window_started_at"]
        values = {"failures": failures, "window_started_at": started,
                  "locked_until": now + LOCK if failures >= limit else None}
        if row is None:
            conn.execute(login_throttle.insert().values(key=key, **values))
        else:
            conn.execute(login_throttle.update().where(login_throttle.c.key == key).values(**values))


def authenticate_session(conn: sa.Connection, secret: str | None) -> tuple[Principal, str]:
    """The caller of a cookie session and the session's CSRF token."""
    if not secret:
        raise Unauthenticated("no session")
    row = conn.execute(
        sa.select(tenants.c.id, tenants.c.slug, tenants.c.schema_name, tenants.c.metadata_version,
                  users.c.id.label("user_id"), users.c.email, users.c.is_active,
                  sessions.c.expires_at, sessions.c.revoked_at, sessions.c.csrf_token)
        .select_from(sessions.join(users, users.c.id == sessions.c.user_id)
                     .join(tenants, tenants.c.id == sessions.c.tenant_id))
        .where(sessions.c.secret_hash == hash_token(secret))
    ).first()
    if row is None or row.revoked_at is not None or not row.is_active or row.expires_at <= utcnow():
        raise Unauthenticated("the session has ended: log in again")
    tenant = TenantRef(row.id, row.slug, row.schema_name, row.metadata_version)
    return Principal(tenant, row.user_id, row.email, "READ_WRITE", session=True), row.csrf_token


def logout(rt: Runtime, secret: str | None, address: str | None = None) -> bool:
    """End a cookie session; True when there was one to end."""
    if not secret:
        raise ValidationError("logout ends a browser session; revoke API tokens with revokeApiToken")
    with rt.db.system.begin() as conn:
        row = conn.execute(sa.select(sessions.c.id, sessions.c.tenant_id, sessions.c.user_id).where(
            sessions.c.secret_hash == hash_token(secret), sessions.c.revoked_at.is_(None))).first()
        if row is None:
            return False
        conn.execute(sessions.update().where(sessions.c.id == row.id).values(revoked_at=utcnow()))
        log_event(conn, row.tenant_id, "logout", user_id=row.user_id, address=address)
    return True
