"""Record use cases: reading through selections, and the write path (create, update, delete)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tessera.model.registry import TenantModel
from tessera.services.records.write import RecordWriter
from tessera.services.runtime import Actor, Runtime


def create_records(
    rt: Runtime, actor: Actor, model: TenantModel, object_name: str, rows: Sequence[Mapping[str, Any]],
    *, bulk: bool = True,
) -> list[str]:
    """Insert ``rows`` into ``object_name`` in one transaction; all or nothing."""
    with rt.write(actor.tenant) as conn:
        return RecordWriter(conn, model, actor, rt.config.limits, rt.plugins, max_workflow_depth=rt.config.jobs.workflow_max_depth).create(object_name, rows, bulk=bulk)


def update_record(
    rt: Runtime, actor: Actor, model: TenantModel, object_name: str, record_id: str,
    data: Mapping[str, Any], expected_version: int | None = None,
) -> str:
    with rt.write(actor.tenant) as conn:
        return RecordWriter(conn, model, actor, rt.config.limits, rt.plugins, max_workflow_depth=rt.config.jobs.workflow_max_depth).update(object_name, record_id, data, expected_version)


def delete_record(rt: Runtime, actor: Actor, model: TenantModel, object_name: str, record_id: str) -> str:
    with rt.write(actor.tenant) as conn:
        return RecordWriter(conn, model, actor, rt.config.limits, rt.plugins, max_workflow_depth=rt.config.jobs.workflow_max_depth).delete(object_name, record_id)


def restore_record(rt: Runtime, actor: Actor, model: TenantModel, object_name: str, record_id: str) -> str:
    with rt.write(actor.tenant) as conn:
        return RecordWriter(conn, model, actor, rt.config.limits, rt.plugins, max_workflow_depth=rt.config.jobs.workflow_max_depth).restore(object_name, record_id)
