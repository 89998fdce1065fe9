"""Report snapshots: a saved report with a ``snapshotCron`` has its result stored at each fire time,
for trend lines; KPI cards on it raise notifications when a snapshot crosses a threshold.

- ``queue_snapshots`` runs in the minute tick (``schedules._tenant_tick``) and queues one
  ``report.snapshot`` job per report and fire time (the key carries both, so overlapping or repeated
  ticks queue it once). A schedule is armed when first seen: times before that never fire.
- The job runs the report with the platform's access (a snapshot is the tenant's figure, not one
  user's) at the fire time (relative ranges such as THIS_MONTH mean the fire time's month) and
  stores it once per (report, time).
- Each KPI card of a dashboard showing that report, with thresholds, compares the snapshot's value
  with the previous snapshot's: entering ``warning`` or ``critical`` (or moving between them)
  notifies the active users of the roles the dashboard is shared with, once per snapshot time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from croniter import croniter

from tessera.core.errors import Forbidden, NotFound
from tessera.core.ids import new_id
from tessera.model.access import SYSTEM
from tessera.model.registry import TenantRef
from tessera.model.reports.dashboard import kpi_status, parse_widgets
from tessera.services.automation.notifications import notify
from tessera.services.automation.outbox import JobContext, enqueue, job_kind
from tessera.services.reports.run import report_settings, result_in
from tessera.services.runtime import Actor, Runtime
from tessera.storage.system_tables import dashboard_roles, dashboards, report_snapshots, reports, users

log = logging.getLogger("tessera.reports")
SNAPSHOT_JOB = "report.snapshot"
MAX_LISTED = 500


@dataclass(frozen=True)
class Snapshot:
    id: str
    report: str
    taken_at: datetime
    columns: list[dict[str, Any]]
    rows: list[list[Any]]
    totals: dict[str, Any]
    row_count: int


def _fire_time(cron: str, now: datetime) -> datetime:
    fire = croniter(cron, now).get_prev(datetime)
    return fire if fire.tzinfo is not None else fire.replace(tzinfo=UTC)


def queue_snapshots(rt: Runtime, conn: sa.Connection, tenant: TenantRef, now: datetime) -> int:
    """Queue the snapshots due at ``now`` for ``tenant`` (inside the tick's transaction); how many."""
    queued = 0
    due = conn.execute(sa.select(reports.c.id, reports.c.name, reports.c.snapshot_cron, reports.c.snapshot_fired_at)
                       .where(reports.c.tenant_id == tenant.id, reports.c.snapshot_cron.is_not(None))).all()
    for row in due:
        if row.snapshot_fired_at is None:
            conn.execute(reports.update().where(reports.c.id == row.id).values(snapshot_fired_at=now))
            continue
        fire = _fire_time(row.snapshot_cron, now)
        if fire <= row.snapshot_fired_at:
            continue
        key = f"{SNAPSHOT_JOB}:{row.id}:{fire.isoformat()}"
        if enqueue(conn, tenant_id=tenant.id, kind=SNAPSHOT_JOB, key=key,
                   payload={"reportId": row.id, "report": row.name, "firedAt": fire.isoformat()}):
            queued += 1
        conn.execute(reports.update().where(reports.c.id == row.id).values(snapshot_fired_at=fire))
    return queued


@job_kind(SNAPSHOT_JOB)
def take_snapshot(ctx: JobContext) -> None:
    """Run the report as of the fire time and store it (once), then check the KPI cards on it."""
    assert ctx.tenant is not None
    conn, tenant = ctx.conn, ctx.tenant
    taken_at = datetime.fromisoformat(ctx.payload["firedAt"])
    report = conn.execute(sa.select(reports.c.id, reports.c.name, reports.c.definition).where(
        reports.c.id == ctx.payload["reportId"], reports.c.tenant_id == tenant.id)).first()
    if report is None:
        return  # deleted since it was queued
    exists = conn.execute(sa.select(report_snapshots.c.id).where(
        report_snapshots.c.report_id == report.id, report_snapshots.c.taken_at == taken_at)).first()
    if exists is not None:
        return
    actor = Actor(tenant, None, "job", SYSTEM)
    settings = report_settings(ctx.rt, tenant.id, conn=conn, now=taken_at)
    result = result_in(ctx.rt, actor, conn, report.definition, None, settings)
    conn.execute(report_snapshots.insert().values(
        id=new_id(), tenant_id=tenant.id, report_id=report.id, taken_at=taken_at, columns=result.columns,
        rows=result.rows, totals=result.totals, row_count=len(result.rows)))
    check_kpi_alerts(conn, tenant, report.id, report.name, taken_at, result.totals)


def _previous_totals(conn: sa.Connection, report_id: str, taken_at: datetime) -> dict[str, Any] | None:
    row = conn.execute(sa.select(report_snapshots.c.totals).where(
        report_snapshots.c.report_id == report_id, report_snapshots.c.taken_at < taken_at,
    ).order_by(report_snapshots.c.taken_at.desc()).limit(1)).first()
    return None if row is None else dict(row.totals or {})


def check_kpi_alerts(conn: sa.Connection, tenant: TenantRef, report_id: str, report_name: str, taken_at: datetime,
                     totals: dict[str, Any]) -> int:
    """Notify the shared users of dashboards whose KPI cards on this report crossed into a worse
    status with this snapshot; returns how many notifications were stored."""
    previous = _previous_totals(conn, report_id, taken_at)
    sent = 0
    for board in conn.execute(sa.select(dashboards.c.id, dashboards.c.name, dashboards.c.widgets)
                              .where(dashboards.c.tenant_id == tenant.id)).all():
        for widget in parse_widgets(board.widgets):
            if widget.type != "KPI" or widget.report != report_name or widget.measure is None:
                continue
            status = kpi_status(totals.get(widget.measure), widget)
            before = None if previous is None else kpi_status(previous.get(widget.measure), widget)
            if status not in ("warning", "critical") or status == before:
                continue
            recipients = conn.execute(
                sa.select(users.c.id).join(dashboard_roles, dashboard_roles.c.role_id == users.c.role_id)
                .where(dashboard_roles.c.dashboard_id == board.id, users.c.tenant_id == tenant.id)).scalars().all()
            title = f"{widget.title or widget.name} on {board.name} is {status}"
            body = f"{widget.measure} = {totals.get(widget.measure)} ({report_name}, {taken_at.isoformat()})"
            sent += len(notify(conn, tenant.id, recipients, title=title, body=body, source=f"dashboard:{board.name}",
                               key=f"kpi:{board.id}:{widget.name}:{taken_at.isoformat()}"))
    return sent


def list_snapshots(rt: Runtime, actor: Actor, name: str, first: int = 50) -> list[Snapshot]:
    """A report's snapshots, newest first. They hold the tenant's figures (taken with the platform's
    access), so administrators read them, and users to whom a dashboard showing the report is shared."""
    with rt.db.system.connect() as conn:
        report = conn.execute(sa.select(reports.c.id).where(reports.c.tenant_id == actor.tenant.id,
                                                            reports.c.name == name)).first()
        if report is None:
            raise NotFound(f"name: no report '{name}'", field="name")
        if not actor.access.profile.is_admin and not _shown_to(conn, actor, name):
            raise Forbidden(f"name: the snapshots of '{name}' are shown on no dashboard shared with you",
                            field="name")
        rows = conn.execute(sa.select(report_snapshots).where(report_snapshots.c.report_id == report.id)
                            .order_by(report_snapshots.c.taken_at.desc()).limit(max(1, min(first, MAX_LISTED))))
        return [Snapshot(r.id, name, r.taken_at, r.columns, r.rows, r.totals, r.row_count) for r in rows]


def _shown_to(conn: sa.Connection, actor: Actor, name: str) -> bool:
    if actor.access.role_id is None:
        return False
    boards = conn.execute(sa.select(dashboards.c.widgets).join(
        dashboard_roles, dashboard_roles.c.dashboard_id == dashboards.c.id).where(
        dashboards.c.tenant_id == actor.tenant.id, dashboard_roles.c.role_id == actor.access.role_id)).scalars()
    return any(w.get("report") == name for widgets in boards for w in widgets or [])
