"""In-app notifications: rows per user, written in the transaction of whatever raises them.

Each notification carries a ``dedupe_key``: raising the same notification twice (a retried job, a
re-run schedule) stores it once. Users read and mark only their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.core.ids import new_id
from tessera.storage.system_tables import notifications, users

MAX_TITLE = 300
MAX_LISTED = 500


@dataclass(frozen=True)
class Notification:
    id: str
    title: str
    body: str | None
    object_name: str | None
    record_id: str | None
    source: str
    created_at: datetime
    read_at: datetime | None


def notify(
    conn: sa.Connection, tenant_id: str, user_ids: Iterable[str], *, title: str, body: str | None = None,
    object_name: str | None = None, record_id: str | None = None, source: str, key: str,
) -> list[str]:
    """Store one notification per user (of ``tenant_id``, active); returns the ids of those it added.

    ``key`` identifies the event: the same key for the same user is stored once.
    """
    wanted = sorted(set(user_ids))
    if not wanted:
        return []
    active = conn.execute(
        sa.select(users.c.id).where(users.c.tenant_id == tenant_id, users.c.id.in_(wanted), users.c.is_active.is_(True))
    ).scalars().all()
    keys = {user_id: f"{key}:{user_id}"[:255] for user_id in active}
    existing = set(conn.execute(
        sa.select(notifications.c.dedupe_key).where(notifications.c.dedupe_key.in_(list(keys.values())))
    ).scalars()) if keys else set()
    now = utcnow()
    rows = [
        dict(id=new_id(), tenant_id=tenant_id, user_id=user_id, title=title[:MAX_TITLE], body=body,
             object_name=object_name, record_id=record_id, source=source[:140], dedupe_key=dedupe,
             created_at=now, read_at=None)
        for user_id, dedupe in keys.items() if dedupe not in existing
    ]
    if rows:
        conn.execute(notifications.insert(), rows)
    return [row["id"] for row in rows]


def list_notifications(
    conn: sa.Connection, tenant_id: str, user_id: str, *, unread_only: bool = False, first: int = 50
) -> list[Notification]:
    """The user's newest notifications first."""
    query = sa.select(notifications).where(notifications.c.tenant_id == tenant_id, notifications.c.user_id == user_id)
    if unread_only:
        query = query.where(notifications.c.read_at.is_(None))
    query = query.order_by(notifications.c.created_at.desc(), notifications.c.id).limit(max(1, min(first, MAX_LISTED)))
    return [
        Notification(r["id"], r["title"], r["body"], r["object_name"], r["record_id"], r["source"],
                     r["created_at"], r["read_at"])
        for r in conn.execute(query).mappings()
    ]


def unread_count(conn: sa.Connection, tenant_id: str, user_id: str) -> int:
    return conn.execute(
        sa.select(sa.func.count()).select_from(notifications).where(
            notifications.c.tenant_id == tenant_id, notifications.c.user_id == user_id,
            notifications.c.read_at.is_(None),
        )
    ).scalar_one()


def mark_read(conn: sa.Connection, tenant_id: str, user_id: str, ids: Iterable[str] | None) -> int:
    """Mark the user's notifications ``ids`` (all when None) read; returns how many changed."""
    query = notifications.update().where(
        notifications.c.tenant_id == tenant_id, notifications.c.user_id == user_id,
        notifications.c.read_at.is_(None),
    )
    if ids is not None:
        query = query.where(notifications.c.id.in_(list(ids)))
    return conn.execute(query.values(read_at=utcnow())).rowcount
