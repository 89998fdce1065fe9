"""Time-driven work: cron workflows, date-relative workflows and plugins' scheduled jobs.

``tick(rt)`` runs every minute (rq's cron scheduler in ``tessera worker``; a thread in embedded
mode) and turns what is due into outbox jobs:

- a ``SCHEDULED`` workflow whose cron time passed since it last fired runs once for every record of
  its object that meets its condition (one ``workflow.run`` job per record and fire time);
- a ``DATE_RELATIVE`` workflow runs for each record whose date field plus ``offsetDays`` fell in the
  window since the last tick (e.g. ``offsetDays: -3`` on ``closeDate``: three days before the close
  date, at 00:00 UTC for DATE fields), once per record and date value;
- a plugin ``JobSpec`` with a cron runs once per fire time for each tenant that installed the plugin.

A workflow is armed when first seen: times before it existed never fire. Job keys carry the fire
time, so ticks that overlap (several workers) or repeat never queue the same run twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa
from croniter import croniter

from tessera.core.clock import utcnow
from tessera.core.errors import NotFound
from tessera.model.access import SYSTEM
from tessera.model.definitions import WorkflowDef
from tessera.model.expressions import RecordEnv, evaluate, is_true
from tessera.model.registry import TenantModel, TenantRef
from tessera.services.automation.notifications import notify
from tessera.services.automation.outbox import JobContext, enqueue, job_kind
from tessera.services.automation.runs import compiled, run_key
from tessera.services.automation.triggers import WORKFLOW_JOB, workflow_job
from tessera.services.connectors.schedules import queue_connector_runs
from tessera.services.records.read import RecordReader
from tessera.services.records.rules import read_paths
from tessera.services.records.write import RecordWriter
from tessera.services.reports.snapshots import queue_snapshots
from tessera.services.runtime import Actor, Runtime, tenant_ref
from tessera.storage.system_tables import plugin_installs, tenants, users, workflow_schedules

log = logging.getLogger("tessera.schedules")

MAX_SCHEDULED_RECORDS = 10_000
PLUGIN_JOB = "plugin.job"


def tick(rt: Runtime, now: datetime | None = None) -> int:
    """Queue everything due at ``now``; returns how many jobs were queued."""
    now = now or utcnow()
    queued = 0
    with rt.db.system.connect() as conn:
        tenant_ids = list(conn.execute(sa.select(tenants.c.id).order_by(tenants.c.slug)).scalars())
    for tenant_id in tenant_ids:
        with rt.db.system.connect() as conn:
            tenant = tenant_ref(conn, tenant_id=tenant_id)
        if tenant is None:
            continue
        try:
            with rt.write(tenant) as conn:
                queued += _tenant_tick(rt, conn, tenant, now)
        except Exception:  # one tenant's broken schedule must not stop the others'
            log.exception("schedule tick failed", extra={"tenant": tenant.slug})
    return queued


def _tenant_tick(rt: Runtime, conn: sa.Connection, tenant: TenantRef, now: datetime) -> int:
    model = rt.model(conn, tenant)
    queued = 0
    timed = [w for o in model.meta.objects for w in o.workflows if w.active and w.event in ("SCHEDULED", "DATE_RELATIVE")]
    states = {r.workflow_id: r for r in conn.execute(
        sa.select(workflow_schedules).where(workflow_schedules.c.tenant_id == tenant.id)
    )}
    for workflow in timed:
        state = states.get(workflow.id)
        if state is None:
            conn.execute(workflow_schedules.insert().values(
                workflow_id=workflow.id, tenant_id=tenant.id, last_fired_at=now, checked_until=now))
            continue
        if workflow.event == "SCHEDULED":
            fire = croniter(workflow.trigger["cron"], now).get_prev(datetime)
            if fire.tzinfo is None:
                fire = fire.replace(tzinfo=UTC)
            if state.last_fired_at is not None and fire <= state.last_fired_at:
                continue
            ids = _matching(conn, model, workflow, None)
            queued += _queue(conn, tenant, workflow, ids, "SCHEDULED", fire.isoformat())
            conn.execute(workflow_schedules.update().where(workflow_schedules.c.workflow_id == workflow.id)
                         .values(last_fired_at=fire))
        else:
            start = state.checked_until or now
            if now <= start:
                continue
            ids_by_date = _dated(conn, model, workflow, start, now)
            for when, ids in ids_by_date.items():
                queued += _queue(conn, tenant, workflow, ids, "DATE_RELATIVE", when)
            conn.execute(workflow_schedules.update().where(workflow_schedules.c.workflow_id == workflow.id)
                         .values(checked_until=now))
    queued += _plugin_jobs(rt, conn, tenant, now)
    queued += queue_snapshots(rt, conn, tenant, now)
    queued += queue_connector_runs(rt, conn, tenant, now)
    return queued


def _queue(conn: sa.Connection, tenant: TenantRef, workflow: WorkflowDef, ids: Sequence[str], trigger: str,
           occasion: str) -> int:
    count = 0
    for record_id in ids:
        key = run_key(workflow, record_id, f"{trigger}:{occasion}")
        if enqueue(conn, tenant_id=tenant.id, kind=WORKFLOW_JOB, key=key,
                   payload=workflow_job(workflow, record_id, trigger, workflow.created_by, 0)):
            count += 1
    return count


def _matching(conn: sa.Connection, model: TenantModel, workflow: WorkflowDef, where: Any) -> list[str]:
    """Live records of the workflow's object meeting its condition (and ``where``)."""
    obj = model.meta.by_name[workflow.object_name]
    table = model.tables.table(obj.name)
    query = sa.select(table.c.id).where(table.c.deleted_at.is_(None))
    if where is not None:
        query = query.where(where)
    ids = list(conn.execute(query.order_by(table.c.id).limit(MAX_SCHEDULED_RECORDS + 1)).scalars())
    if len(ids) > MAX_SCHEDULED_RECORDS:
        log.warning("scheduled workflow matches too many records", extra={"workflow": workflow.name})
        ids = ids[:MAX_SCHEDULED_RECORDS]
    program = compiled(model, workflow)
    if program.condition is None or not ids:
        return ids
    values = read_paths(conn, model, obj, ids, sorted(program.condition.references))
    now = utcnow()
    return [i for i in ids if is_true(evaluate(program.condition, RecordEnv(values.get(i, {}), None, now=now)))]


def _dated(conn: sa.Connection, model: TenantModel, workflow: WorkflowDef, start: datetime, end: datetime
           ) -> dict[str, list[str]]:
    """Records whose date + offset falls in (start, end], grouped by their date value."""
    obj = model.meta.by_name[workflow.object_name]
    field = obj.field(workflow.trigger["dateField"])
    if field is None:
        return {}
    table = model.tables.table(obj.name)
    column = table.c[field.column_name]
    shift = timedelta(days=workflow.trigger.get("offsetDays", 0))
    low, high = start - shift, end - shift
    if field.type == "DATE":
        # A date d fires at its 00:00 UTC (plus the offset): low < midnight(d) <= high, i.e.
        # low.date() < d <= high.date().
        window = sa.and_(column > low.date(), column <= high.date())
    else:
        window = sa.and_(column > low, column <= high)
    ids = _matching(conn, model, workflow, window)
    if not ids:
        return {}
    dates = dict(conn.execute(sa.select(table.c.id, column).where(table.c.id.in_(ids))).all())
    grouped: dict[str, list[str]] = {}
    for record_id in ids:
        grouped.setdefault(_iso(dates.get(record_id)), []).append(record_id)
    return grouped


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


# --- plugins' scheduled jobs ----------------------------------------------------------------------
def _plugin_jobs(rt: Runtime, conn: sa.Connection, tenant: TenantRef, now: datetime) -> int:
    installed = dict(conn.execute(
        sa.select(plugin_installs.c.plugin, plugin_installs.c.installed_at).where(plugin_installs.c.tenant_id == tenant.id)
    ).all())
    queued = 0
    for key, (plugin, spec) in rt.plugins.keyed.get("register_jobs", {}).items():
        if plugin not in installed or not spec.cron:
            continue
        fire = croniter(spec.cron, now).get_prev(datetime)
        if fire.tzinfo is None:
            fire = fire.replace(tzinfo=UTC)
        if fire <= installed[plugin]:
            continue
        if enqueue(conn, tenant_id=tenant.id, kind=PLUGIN_JOB, key=f"plugin:{plugin}:{key}:{tenant.id}:{fire.isoformat()}",
                   payload={"plugin": plugin, "job": key, "firedAt": fire.isoformat()}):
            queued += 1
    return queued


@job_kind(PLUGIN_JOB)
def run_plugin_job(ctx: JobContext) -> None:
    assert ctx.tenant is not None
    found = ctx.rt.plugins.keyed.get("register_jobs", {}).get(ctx.payload["job"])
    model = ctx.rt.model(ctx.conn, ctx.tenant)
    if found is None or found[0] not in model.meta.plugins:
        raise NotFound(f"no job '{ctx.payload['job']}' (is its plugin installed?)")
    plugin, spec = found
    ctx.rt.plugins.call_function(plugin, "register_jobs", spec.run, _PluginJobContext(ctx, model, plugin))


class _PluginJobContext:
    """``JobRunContext`` for plugins: records with system rights (channel ``job``), notifications."""

    def __init__(self, ctx: JobContext, model: TenantModel, plugin: str) -> None:
        self._ctx = ctx
        self._model = model
        self.plugin = plugin
        self.tenant_slug = ctx.tenant.slug  # type: ignore[union-attr]
        self.job_key = ctx.job_key
        fired = ctx.payload.get("firedAt")
        self.now = datetime.fromisoformat(fired) if fired else utcnow()
        self.params = MappingProxyType(dict(ctx.payload.get("params") or {}))
        self._writer = RecordWriter(ctx.conn, model, Actor(ctx.tenant, None, "job", SYSTEM),  # type: ignore[arg-type]
                                    ctx.rt.config.limits, ctx.rt.plugins)

    def records(self, object_name: str, *, fields: Sequence[str], filter: Mapping[str, Any] | None = None,
                order_by: Sequence[Mapping[str, str]] | None = None) -> list[dict[str, Any]]:
        reader = RecordReader(self._ctx.conn, self._model, self._ctx.rt.config.limits, SYSTEM)
        return reader.rows(object_name, fields, filter=filter, order_by=order_by)

    def create(self, object_name: str, rows: Sequence[Mapping[str, Any]]) -> list[str]:
        return self._writer.create(object_name, rows)

    def update(self, object_name: str, record_id: str, data: Mapping[str, Any]) -> None:
        self._writer.update(object_name, record_id, data)

    def manager_of(self, user_id: str) -> str | None:
        return self._ctx.conn.execute(sa.select(users.c.manager_id).where(
            users.c.id == user_id, users.c.tenant_id == self._ctx.tenant.id)).scalar()  # type: ignore[union-attr]

    def notify(self, user_ids: Sequence[str], *, title: str, body: str | None = None, object_name: str | None = None,
               record_id: str | None = None, key: str) -> list[str]:
        return notify(self._ctx.conn, self._ctx.tenant.id, user_ids, title=title, body=body,  # type: ignore[union-attr]
                      object_name=object_name, record_id=record_id, source=f"plugin:{self.plugin}",
                      key=f"plugin:{self.plugin}:{key}")
