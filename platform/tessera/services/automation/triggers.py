"""Record-triggered workflows, inside the write's transaction.

After a create, update or delete has been written and validated, the writer calls
``fire_record_workflows``. For each active workflow of the object whose trigger matches, the
condition is evaluated against the record's new values (and its prior ones for ISCHANGED,
PRIORVALUE and "only when the condition becomes true"). Then:

- ``UPDATE_FIELDS`` actions run at once, in the same transaction (before the change commits), as a
  nested write with system rights recorded under the triggering user with channel ``workflow``;
- every other action goes to the outbox as one ``workflow.run`` job keyed by workflow, version,
  record and record version, so it runs after commit, once.

A workflow's own writes can trigger workflows again, one level deeper each time; past the tenant's
limit (``TESSERA_WORKFLOW_MAX_DEPTH``) they are not run and a SKIPPED run says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.model.automation.workflows import CompiledWorkflow
from tessera.model.definitions import ObjectDef, WorkflowDef
from tessera.model.expressions import RecordEnv, evaluate, is_true
from tessera.services.automation.outbox import enqueue
from tessera.services.automation.runs import compiled, record_run, run_key
from tessera.services.automation.values import action_values
from tessera.services.records.rules import read_paths

if TYPE_CHECKING:
    from tessera.services.records.write import RecordWriter

WORKFLOW_JOB = "workflow.run"


def fire_record_workflows(
    writer: RecordWriter, obj: ObjectDef, event: str, written: Sequence[tuple[str, Mapping[str, Any]]]
) -> None:
    """Run ``event`` workflows of ``obj`` for ``written`` records: (id, old API values of changed fields)."""
    flows = [w for w in obj.workflows if w.active and w.event == event]
    if not flows or not written:
        return
    conn, model = writer.conn, writer.model
    ids = [record_id for record_id, _ in written]
    table = model.tables.table(obj.name)
    versions: dict[str, int] = {}
    for workflow in flows:
        program = compiled(model, workflow)
        watched = set(workflow.trigger.get("fields") or ())
        paths = sorted(program.references)
        current = read_paths(conn, model, obj, ids, paths)
        for record_id, old_values in written:
            if event == "UPDATED" and watched and not watched & set(old_values):
                continue
            values = current.get(record_id, {})
            prior = _prior(values, old_values) if event == "UPDATED" else None
            now = utcnow()
            if not _holds(program, values, prior, event, now):
                continue
            if not versions:  # read once, and only when some workflow acts
                versions.update(conn.execute(sa.select(table.c.id, table.c.version).where(table.c.id.in_(ids))).all())
            key = run_key(workflow, record_id, f"{event}:{versions.get(record_id, 0)}")
            if writer.workflow_depth >= writer.max_workflow_depth:
                record_run(conn, writer.actor.tenant.id, workflow, record_id, event, "SKIPPED",
                           triggered_by=writer.actor.user_id, depth=writer.workflow_depth, key=key,
                           error=f"workflows nest at most {writer.max_workflow_depth} deep (a workflow's own writes "
                                 "trigger workflows again); raise TESSERA_WORKFLOW_MAX_DEPTH if this is intended")
                continue
            _run(writer, obj, program, record_id, values, prior, event, key, now)


def _prior(values: Mapping[str, Any], old_values: Mapping[str, Any]) -> dict[str, Any]:
    """The record's values before the update: the new ones with each changed field put back."""
    prior = dict(values)
    prior.update({name: value for name, value in old_values.items() if name in prior})
    return prior


def _holds(program: CompiledWorkflow, values: Mapping[str, Any], prior: Mapping[str, Any] | None, event: str,
           now: Any) -> bool:
    if program.condition is None:
        return True
    if not is_true(evaluate(program.condition, RecordEnv(values, prior, now=now, is_new=event == "CREATED"))):
        return False
    if event == "UPDATED" and program.workflow.trigger.get("conditionBecomesTrue") and prior is not None:
        # Salesforce's "only when a record is updated to meet the condition": false before, true now.
        return not is_true(evaluate(program.condition, RecordEnv(prior, prior, now=now, is_new=False)))
    return True


def _run(writer: RecordWriter, obj: ObjectDef, program: CompiledWorkflow, record_id: str, values: Mapping[str, Any],
         prior: Mapping[str, Any] | None, event: str, key: str, now: Any) -> None:
    workflow = program.workflow
    later = []
    for action in program.actions:
        if action.spec["type"] == "UPDATE_FIELDS" and event != "DELETED":
            env = RecordEnv(values, prior, now=now, is_new=event == "CREATED")
            data = action_values(writer.meta.by_name[obj.name], action, env)
            writer.for_workflow().update(obj.name, record_id, data)
        else:
            later.append(action.index)
    tenant_id = writer.actor.tenant.id
    if not later:
        record_run(conn=writer.conn, tenant_id=tenant_id, workflow=workflow, record_id=record_id, trigger=event,
                   status="SUCCEEDED", triggered_by=writer.actor.user_id, depth=writer.workflow_depth, key=key)
        return
    enqueue(writer.conn, tenant_id=tenant_id, kind=WORKFLOW_JOB, key=key, payload=workflow_job(
        workflow, record_id, event, writer.actor.user_id, writer.workflow_depth, later,
    ))


def workflow_job(workflow: WorkflowDef, record_id: str | None, trigger: str, triggered_by: str | None, depth: int,
                 actions: Sequence[int] | None = None) -> dict[str, Any]:
    return {
        "workflowId": workflow.id, "workflow": workflow.name, "object": workflow.object_name,
        "version": workflow.version, "recordId": record_id,
        "trigger": trigger, "triggeredBy": triggered_by, "depth": depth,
        "actions": list(actions) if actions is not None else list(range(len(workflow.actions))),
    }
