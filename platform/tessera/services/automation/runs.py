"""The run log of workflows: one row per run (workflow, version, record, trigger, status, duration,
error), keyed so a retried or re-delivered run is recorded once; queryable by administrators."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from tessera.core.clock import utcnow
from tessera.core.ids import new_id
from tessera.model.automation.workflows import CompiledWorkflow, workflow_expressions
from tessera.model.definitions import WorkflowDef
from tessera.model.registry import TenantModel
from tessera.storage.system_tables import workflow_runs

STATUSES = ("SUCCEEDED", "FAILED", "SKIPPED")
MAX_LISTED = 500


def compiled(model: TenantModel, workflow: WorkflowDef) -> CompiledWorkflow:
    """The workflow's expressions checked once per metadata version."""
    return model.computed.cached(("workflow", workflow.name, str(workflow.version)),
                                 lambda: workflow_expressions(model.meta, workflow))


def run_key(workflow: WorkflowDef, record_id: str | None, occasion: str) -> str:
    return f"wf:{workflow.id}:v{workflow.version}:{record_id or '-'}:{occasion}"


def record_run(
    conn: sa.Connection, tenant_id: str, workflow: WorkflowDef, record_id: str | None, trigger: str, status: str,
    *, triggered_by: str | None, depth: int, key: str, started_at: datetime | None = None, error: str | None = None,
) -> None:
    """Log a finished run (once per ``key``)."""
    finished = utcnow()
    started = started_at or finished
    values = dict(
        id=new_id(), tenant_id=tenant_id, workflow_id=workflow.id, workflow_name=workflow.name,
        workflow_version=workflow.version, object_name=workflow.object_name, record_id=record_id, trigger=trigger,
        status=status, triggered_by=triggered_by, depth=depth, started_at=started, finished_at=finished,
        duration_ms=int((finished - started).total_seconds() * 1000), error=error[:4000] if error else None,
        run_key=key[:255],
    )
    conn.execute(_upsert(conn.dialect.name), values)


@lru_cache(maxsize=2)
def _upsert(dialect: str) -> Any:
    """Insert a run, once per key; a run recorded FAILED and re-queued by an administrator ends with
    its new outcome. Built once per dialect: building ``excluded`` costs more than the insert."""
    insert = postgresql.insert(workflow_runs) if dialect == "postgresql" else sqlite.insert(workflow_runs)
    later = {k: insert.excluded[k] for k in ("status", "finished_at", "duration_ms", "error", "started_at")}
    return insert.on_conflict_do_update(index_elements=["run_key"], set_=later, where=workflow_runs.c.status == "FAILED")


@dataclass(frozen=True)
class WorkflowRun:
    id: str
    workflow: str
    version: int
    object_name: str
    record_id: str | None
    trigger: str
    status: str
    triggered_by: str | None
    depth: int
    started_at: datetime
    finished_at: datetime | None
    duration_ms: int | None
    error: str | None


def list_runs(conn: sa.Connection, tenant_id: str, *, workflow: str | None = None, record_id: str | None = None,
              status: str | None = None, first: int = 50) -> list[WorkflowRun]:
    query = sa.select(workflow_runs).where(workflow_runs.c.tenant_id == tenant_id)
    conditions: dict[str, Any] = {"workflow_name": workflow, "record_id": record_id, "status": status}
    for column, value in conditions.items():
        if value is not None:
            query = query.where(workflow_runs.c[column] == value)
    query = query.order_by(workflow_runs.c.finished_at.desc(), workflow_runs.c.id).limit(max(1, min(first, MAX_LISTED)))
    return [
        WorkflowRun(r["id"], r["workflow_name"], r["workflow_version"], r["object_name"], r["record_id"],
                    r["trigger"], r["status"], r["triggered_by"], r["depth"], r["started_at"], r["finished_at"],
                    r["duration_ms"], r["error"])
        for r in conn.execute(query).mappings()
    ]
