"""Who is calling: the one place a request's credentials (a bearer token, or a browser session's
cookie) become a principal with the tenant's model and the caller's access. ``/graphql`` and the
export endpoints both use it, so they authenticate exactly alike."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

from tessera.api.security.public import SESSION_COOKIE
from tessera.core.errors import Unauthenticated
from tessera.model.access import UserAccess
from tessera.model.registry import TenantModel
from tessera.services.runtime import Runtime
from tessera.services.security.sessions import authenticate_session
from tessera.services.tokens import Principal, authenticate


@dataclass(frozen=True)
class Caller:
    principal: Principal
    model: TenantModel
    access: UserAccess
    csrf: str | None
    """The browser session's CSRF token (None for a bearer token)."""


def bearer() -> str | None:
    """The request's ``Authorization: Bearer`` token, if any."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


def session_cookie() -> str | None:
    return request.cookies.get(SESSION_COOKIE)


def resolve_caller(rt: Runtime, token: str | None, cookie: str | None) -> Caller | None:
    """The caller behind ``token`` (which wins) or ``cookie``; None when there is no token and no
    live session (an anonymous request). An invalid token raises Unauthenticated."""
    with rt.db.system.connect() as conn:
        if token is not None:
            principal, csrf = authenticate(conn, token), None
        else:
            try:
                principal, csrf = authenticate_session(conn, cookie)
            except Unauthenticated:
                return None
        model = rt.model(conn, principal.tenant)
        access = rt.access(conn, principal.tenant, principal.user_id)
    return Caller(principal, model, access, csrf)
