"""The run log of connectors, and starting a run.

A run is a row (RUNNING → SUCCEEDED or FAILED) whose counters grow with each committed page, in
that page's transaction: what the log says is what the database holds. Starting a run queues the
job of its first page; a connector runs once at a time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.core.errors import NotFound, ValidationError
from tessera.core.ids import new_id
from tessera.services.automation.outbox import enqueue, perform
from tessera.services.runtime import Actor, Runtime
from tessera.services.security.admin import require_admin
from tessera.storage.system_tables import connector_runs, connectors, outbox

SYNC_JOB = "connector.sync"
RUNNING, SUCCEEDED, FAILED = "RUNNING", "SUCCEEDED", "FAILED"
MAX_SAMPLES = 20


@dataclass(frozen=True)
class ConnectorRun:
    id: str
    connector: str
    trigger: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    pages: int
    created: int
    updated: int
    unchanged: int
    failed: int
    error: str | None
    error_samples: Sequence[Mapping[str, Any]] = field(default_factory=list)
    counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    """Per object (the target and its children): created, updated, unchanged, failed."""


def page_key(run_id: str, page: int) -> str:
    return f"connector:{run_id}:page:{page}"


def start_run(conn: sa.Connection, tenant_id: str, connector: Any, *, trigger: str, user_id: str | None,
              key: str | None = None) -> str | None:
    """Add a run of ``connector`` (a row of ``connectors``) and queue its first page, in the caller's
    transaction; None when the connector is already running (or ``key`` was queued before)."""
    if conn.dialect.name == "postgresql":
        # Two starts at once (a click and the schedule) must not both see the connector idle.
        conn.execute(sa.select(connectors.c.id).where(connectors.c.id == connector.id).with_for_update())
    busy = conn.execute(sa.select(connector_runs.c.id, connector_runs.c.job_key).where(
        connector_runs.c.connector_id == connector.id, connector_runs.c.status == RUNNING)).first()
    if busy is not None and not _settled_stale(conn, busy):
        return None
    run_id = new_id()
    job_key = key or page_key(run_id, 1)
    if not enqueue(conn, tenant_id=tenant_id, kind=SYNC_JOB, key=job_key,
                   payload={"connectorId": connector.id, "runId": run_id, "page": 1}):
        return None
    conn.execute(connector_runs.insert().values(
        id=run_id, tenant_id=tenant_id, connector_id=connector.id, trigger=trigger, status=RUNNING,
        started_at=utcnow(), error_samples=[], counts={}, started_by=user_id, job_key=job_key))
    return run_id


def _settled_stale(conn: sa.Connection, run: Any) -> bool:
    """End a RUNNING run whose page job is over (e.g. abandoned by the reaper after its worker died on
    every attempt): True when it was stale, so a new run may start."""
    status = conn.execute(sa.select(outbox.c.status).where(outbox.c.job_key == run.job_key)).scalar()
    if status not in ("DONE", "FAILED"):
        return False
    finish_run(conn, run.id, FAILED, f"its page job ended {status} without finishing the run")
    return True


def run_connector(rt: Runtime, actor: Actor, name: str, *, trigger: str = "MANUAL") -> ConnectorRun:
    """Start a run now (administrators); with in-process jobs it has finished when this returns."""
    require_admin(actor, "run connectors")
    with rt.write(actor.tenant) as conn:
        row = conn.execute(sa.select(connectors).where(connectors.c.tenant_id == actor.tenant.id,
                                                       connectors.c.name == name)).first()
        if row is None:
            raise NotFound(f"no connector '{name}'", field="name")
        run_id = start_run(conn, actor.tenant.id, row, trigger=trigger, user_id=actor.user_id)
        if run_id is None:
            raise ValidationError(f"connector '{name}' is already running", field="name")
    return get_run(rt, actor.tenant.id, run_id)


def _run(row: Any, name: str) -> ConnectorRun:
    return ConnectorRun(row.id, name, row.trigger, row.status, row.started_at, row.finished_at, row.pages,
                        row.created, row.updated, row.unchanged, row.failed, row.error, list(row.error_samples or []),
                        dict(row.counts or {}))


def get_run(rt: Runtime, tenant_id: str, run_id: str) -> ConnectorRun:
    with rt.db.system.connect() as conn:
        row = conn.execute(sa.select(connector_runs, connectors.c.name.label("connector_name"))
                           .join(connectors, connectors.c.id == connector_runs.c.connector_id)
                           .where(connector_runs.c.id == run_id, connector_runs.c.tenant_id == tenant_id)).first()
    if row is None:
        raise NotFound(f"no connector run {run_id}", field="id")
    return _run(row, row.connector_name)


def list_runs(rt: Runtime, actor: Actor, name: str, *, first: int = 20) -> list[ConnectorRun]:
    """Runs of a connector, newest first (administrators)."""
    require_admin(actor, "see connector runs")
    with rt.db.system.connect() as conn:
        connector_id = conn.execute(sa.select(connectors.c.id).where(
            connectors.c.tenant_id == actor.tenant.id, connectors.c.name == name)).scalar()
        if connector_id is None:
            raise NotFound(f"no connector '{name}'", field="name")
        rows = conn.execute(sa.select(connector_runs).where(connector_runs.c.connector_id == connector_id)
                            .order_by(connector_runs.c.started_at.desc(), connector_runs.c.id)
                            .limit(max(1, min(first, 500)))).all()
    return [_run(row, name) for row in rows]


def add_page(conn: sa.Connection, run_id: str, counts: Mapping[str, Mapping[str, int]], target: str,
             samples: Sequence[Mapping[str, Any]]) -> None:
    """Count one committed page into its run (in the page's transaction)."""
    row = conn.execute(sa.select(connector_runs.c.counts, connector_runs.c.error_samples)
                       .where(connector_runs.c.id == run_id)).one()
    merged: dict[str, dict[str, int]] = {k: dict(v) for k, v in (row.counts or {}).items()}
    for obj, numbers in counts.items():
        into = merged.setdefault(obj, {"created": 0, "updated": 0, "unchanged": 0, "failed": 0})
        for key, number in numbers.items():
            into[key] = into.get(key, 0) + number
    mine = counts.get(target, {})
    conn.execute(connector_runs.update().where(connector_runs.c.id == run_id).values(
        pages=connector_runs.c.pages + 1,
        created=connector_runs.c.created + mine.get("created", 0),
        updated=connector_runs.c.updated + mine.get("updated", 0),
        unchanged=connector_runs.c.unchanged + mine.get("unchanged", 0),
        failed=connector_runs.c.failed + sum(n.get("failed", 0) for n in counts.values()),
        counts=merged, error_samples=(list(row.error_samples or []) + list(samples))[:MAX_SAMPLES]))


def finish_run(conn: sa.Connection, run_id: str, status: str, error: str | None = None) -> None:
    conn.execute(connector_runs.update().where(connector_runs.c.id == run_id, connector_runs.c.status == RUNNING)
                 .values(status=status, finished_at=utcnow(), error=error[:4000] if error else None))


def drive_run(rt: Runtime, run: ConnectorRun) -> Iterator[ConnectorRun]:
    """Run a started run's page jobs in this process, yielding the run after each page (the CLI's
    progress bar). A page waiting for a retry is waited for."""
    with rt.db.system.connect() as conn:
        tenant_id = conn.execute(sa.select(connector_runs.c.tenant_id).where(connector_runs.c.id == run.id)).scalar_one()
    while run.status == RUNNING:
        with rt.db.system.connect() as conn:
            job = conn.execute(sa.select(outbox.c.id, outbox.c.status, outbox.c.available_at).where(
                outbox.c.job_key.like(f"connector:{run.id}:page:%"), outbox.c.status.in_(("PENDING", "DISPATCHED")))
            ).first()
        if job is None:
            time.sleep(0.2)  # another worker has the page
        elif perform(rt, job.id) == "":
            time.sleep(min(5.0, max(0.2, (job.available_at - utcnow()).total_seconds())))
        run = get_run(rt, tenant_id, run.id)
        yield run
