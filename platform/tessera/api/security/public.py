"""The schema of requests without credentials: only ``login``.

A browser logs in with ``login(tenant, email, password)``; the response sets the session cookie
and returns the CSRF token to send back in the ``X-CSRF-Token`` header of every later request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import graphene

from tessera.api.scalars import DateTime
from tessera.services.runtime import Runtime
from tessera.services.security import sessions
from tessera.storage.types import iso_datetime


@dataclass
class PublicContext:
    rt: Runtime
    address: str | None
    locale: str | None = None
    cookies: list[tuple[str, str | None, Any]] = field(default_factory=list)
    """(name, value or None to clear, expires) for the response."""

    def end_read(self) -> None:
        """Nothing to close: anonymous requests read no records."""


class LoginResult(graphene.ObjectType):
    csrf_token = graphene.String(required=True, name="csrfToken",
                                 description="Send it back as the X-CSRF-Token header with every request.")
    expires_at = DateTime(required=True, name="expiresAt")
    user_id = graphene.ID(required=True, name="userId")
    email = graphene.String(required=True)
    tenant = graphene.String(required=True)


class PublicQuery(graphene.ObjectType):
    authenticated = graphene.Boolean(required=True, description="Always false here: log in first.")

    @staticmethod
    def resolve_authenticated(root: Any, info: Any) -> bool:
        return False


class PublicMutation(graphene.ObjectType):
    login = graphene.Field(
        graphene.NonNull(LoginResult), tenant=graphene.String(required=True), email=graphene.String(required=True),
        password=graphene.String(required=True),
        description="Start a browser session (sets an HttpOnly cookie). Failed attempts are throttled.",
    )

    @staticmethod
    def resolve_login(root: Any, info: Any, tenant: str, email: str, password: str) -> dict[str, Any]:
        ctx: PublicContext = info.context
        session = sessions.login(ctx.rt, tenant, email, password, ctx.address)
        ctx.cookies.append((SESSION_COOKIE, session.secret, session.expires_at))
        return {"csrf_token": session.csrf_token, "expires_at": iso_datetime(session.expires_at),
                "user_id": session.user_id, "email": session.email, "tenant": session.tenant.slug}


SESSION_COOKIE = "tessera_session"
PUBLIC_SCHEMA = graphene.Schema(query=PublicQuery, mutation=PublicMutation, auto_camelcase=True)
