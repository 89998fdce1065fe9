"""Scheduled connector runs: each minute tick starts the runs whose cron time has passed.

A connector's schedule is armed when it is set (times before never fire). The job key carries the
fire time, so overlapping ticks start one run; a connector still running skips that fire time.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from croniter import croniter

from tessera.model.registry import TenantRef
from tessera.services.connectors.runs import start_run
from tessera.services.runtime import Runtime
from tessera.storage.system_tables import connectors


def queue_connector_runs(rt: Runtime, conn: sa.Connection, tenant: TenantRef, now: datetime) -> int:
    """Start the tenant's scheduled runs that are due at ``now``; returns how many started."""
    rows = conn.execute(sa.select(connectors).where(
        connectors.c.tenant_id == tenant.id, connectors.c.active.is_(True), connectors.c.schedule.is_not(None))).all()
    started = 0
    for row in rows:
        fire = croniter(row.schedule, now).get_prev(datetime)
        if fire.tzinfo is None:
            fire = fire.replace(tzinfo=UTC)
        if row.schedule_fired_at is not None and fire <= row.schedule_fired_at:
            continue
        conn.execute(connectors.update().where(connectors.c.id == row.id).values(schedule_fired_at=fire))
        if start_run(conn, tenant.id, row, trigger="SCHEDULE", user_id=None,
                     key=f"connector:{row.id}:schedule:{fire.isoformat()}"):
            started += 1
    return started
