"""Running a workflow's actions in its background job (``workflow.run``).

All database effects of one run — records created and updated, owners assigned, notifications, the
e-mail and webhook deliveries it queues, and the run log row — commit in the job's single
transaction together with the job's DONE mark (``outbox.perform``): a run retried after a crash
or a failure does its work once. Writes use system rights and are recorded in field history under
the user whose change triggered the run, with channel ``workflow``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from tessera.core.clock import utcnow
from tessera.core.errors import LimitExceeded, NotFound, ValidationError
from tessera.core.ids import new_id
from tessera.model.access import SYSTEM, Action
from tessera.model.automation.workflows import CompiledAction, CompiledWorkflow
from tessera.model.definitions import ObjectDef, WorkflowDef
from tessera.model.expressions import RecordEnv, evaluate
from tessera.model.registry import TenantModel
from tessera.services.automation.notifications import notify
from tessera.services.automation.outbox import JobContext, enqueue, failure_text, job_kind
from tessera.services.automation.runs import compiled, record_run
from tessera.services.automation.values import action_values
from tessera.services.automation.workflows import workflow_definition
from tessera.services.records.history import output_value
from tessera.services.records.read import RecordReader
from tessera.services.records.rules import read_paths
from tessera.services.records.write import RecordWriter
from tessera.services.runtime import Actor
from tessera.storage.system_tables import assignment_cursors, email_messages, users, webhook_deliveries

MAX_RELATED = 1_000
"""UPDATE_RELATED changes at most this many child records per run (more fails the run clearly)."""


def _on_error(conn: sa.Connection, row: Mapping[str, Any], error: Exception, final: bool) -> None:
    payload = row["payload"]
    if not final:
        return
    workflow = WorkflowDef(
        id=payload["workflowId"], name=payload["workflow"], object_name=payload.get("object", ""),
        trigger={}, actions=(), version=payload["version"],
    )
    record_run(conn, row["tenant_id"], workflow, payload.get("recordId"), payload["trigger"], "FAILED",
               triggered_by=payload.get("triggeredBy"), depth=payload.get("depth", 0), key=row["job_key"],
               error=failure_text(error))


@job_kind("workflow.run", on_error=_on_error)
def run_workflow_job(ctx: JobContext) -> None:
    assert ctx.tenant is not None
    payload = ctx.payload
    model = ctx.rt.model(ctx.conn, ctx.tenant)
    workflow = _workflow(ctx.conn, model, payload)
    started = utcnow()
    if workflow is None:
        return
    obj = model.meta.by_name[workflow.object_name]
    program = compiled(model, workflow)
    writer = RecordWriter(
        ctx.conn, model, Actor(ctx.tenant, payload.get("triggeredBy"), "workflow", SYSTEM), ctx.rt.config.limits,
        ctx.rt.plugins, workflow_depth=payload.get("depth", 0) + 1,
        max_workflow_depth=ctx.rt.config.jobs.workflow_max_depth,
    )
    record_id = payload.get("recordId")
    runner = _Run(ctx, writer, obj, program, record_id)
    for index in payload.get("actions", ()):
        runner.action(program.actions[index])
    record_run(ctx.conn, ctx.tenant.id, workflow, record_id, payload["trigger"], "SUCCEEDED",
               triggered_by=payload.get("triggeredBy"), depth=payload.get("depth", 0), key=ctx.job_key,
               started_at=started)


def _workflow(conn: sa.Connection, model: TenantModel, payload: Mapping[str, Any]) -> WorkflowDef | None:
    """The workflow at the version the run was queued with (a later edit does not change a queued run)."""
    live = next((w for o in model.meta.objects for w in o.workflows if w.id == payload["workflowId"]), None)
    if live is None:
        return None
    if live.version == payload["version"]:
        return live
    stored = workflow_definition(conn, live.id or "", payload["version"])
    if stored is None:
        return live
    return replace(
        live, version=payload["version"], trigger=MappingProxyType(stored["trigger"]),
        condition=stored.get("condition"), actions=tuple(MappingProxyType(a) for a in stored["actions"]),
    )


class _Run:
    def __init__(self, ctx: JobContext, writer: RecordWriter, obj: ObjectDef, program: CompiledWorkflow,
                 record_id: str | None) -> None:
        self.ctx = ctx
        self.conn = ctx.conn
        self.writer = writer
        self.model = writer.model
        self.obj = obj
        self.program = program
        self.record_id = record_id
        self.now = utcnow()
        self._values: dict[str, Any] | None = None

    # --- the triggering record ---------------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """Paths the actions read, plus the system values recipients need, as the record is now."""
        if self._values is None:
            if self.record_id is None:
                self._values = {}
            else:
                paths = sorted(self.program.references | {("owner",), ("createdBy",)})
                found = read_paths(self.conn, self.model, self.obj, [self.record_id], paths)
                if self.record_id not in found:
                    raise NotFound(f"{self.obj.name} {self.record_id} no longer exists", field="recordId")
                self._values = dict(found[self.record_id])
        return self._values

    def env(self) -> RecordEnv:
        return RecordEnv(self.values(), None, now=self.now, is_new=False)

    # --- actions ----------------------------------------------------------------------------
    def action(self, action: CompiledAction) -> None:
        kind = action.spec["type"]
        getattr(self, f"_{kind.lower()}")(action)

    def _update_fields(self, action: CompiledAction) -> None:
        self.writer.update(self.obj.name, self._need_record(), action_values(self.obj, action, self.env()))
        self._values = None

    def _create_record(self, action: CompiledAction) -> None:
        target = self.model.meta.by_name[action.spec["object"]]
        data = action_values(target, action, self.env())
        if action.spec.get("link"):
            data[action.spec["link"]] = self._need_record()
        self.writer.create(target.name, [data], bulk=False)

    def _update_related(self, action: CompiledAction) -> None:
        record_id = self._need_record()
        if action.spec.get("lookup"):
            parent_id = read_paths(self.conn, self.model, self.obj, [record_id], [(action.spec["lookup"], "id")])
            target_id = parent_id.get(record_id, {}).get(f"{action.spec['lookup']}.id")
            if target_id is None:
                return
            target = self.model.meta.by_name[self.obj.field(action.spec["lookup"]).target or ""]  # type: ignore[union-attr]
            self.writer.update(target.name, target_id, action_values(target, action, self.env()))
            return
        source_name, _, field_name = action.spec["children"].partition(".")
        source = self.model.meta.by_name[source_name]
        table = self.model.tables.table(source.name)
        column = table.c[source.field(field_name).column_name]  # type: ignore[union-attr]
        children = self.conn.execute(
            sa.select(table.c.id).where(column == record_id, table.c.deleted_at.is_(None))
            .order_by(table.c.id).limit(MAX_RELATED + 1)
        ).scalars().all()
        if len(children) > MAX_RELATED:
            raise LimitExceeded(f"{action.spec['children']}: more than {MAX_RELATED} related records to update")
        data = action_values(source, action, self.env())
        for child in children:
            self.writer.update(source.name, child, data)

    def _notify(self, action: CompiledAction) -> None:
        env = self.env()
        title = action.title.render(lambda hole: evaluate(hole, env)) if action.title else ""
        body = action.body.render(lambda hole: evaluate(hole, env)) if action.body else None
        recipients = self._recipients(action.spec["recipients"])
        tenant_id = self.ctx.tenant.id  # type: ignore[union-attr]
        key = f"{self.ctx.job_key}:{action.index}"
        source = f"workflow:{self.program.workflow.name}"
        notify(self.conn, tenant_id, recipients, title=title, body=body, object_name=self.obj.name,
               record_id=self.record_id, source=source, key=key)
        if action.spec.get("email") and recipients:
            addresses = sorted(self.conn.execute(
                sa.select(users.c.email).where(users.c.id.in_(recipients), users.c.is_active.is_(True))
            ).scalars())
            queue_email(self.conn, tenant_id, addresses, title, body or title, source=source, key=f"{key}:email")

    def _recipients(self, specs: Sequence[str]) -> list[str]:
        values = self.values()
        tenant_id = self.ctx.tenant.id  # type: ignore[union-attr]
        found: list[str] = []
        for spec in specs:
            if spec == "owner" and values.get("owner"):
                found.append(values["owner"])
            elif spec == "creator" and values.get("createdBy"):
                found.append(values["createdBy"])
            elif spec == "triggeredBy" and self.ctx.payload.get("triggeredBy"):
                found.append(self.ctx.payload["triggeredBy"])
            elif spec == "manager" and values.get("owner"):
                manager = self.conn.execute(sa.select(users.c.manager_id).where(users.c.id == values["owner"])).scalar()
                if manager:
                    found.append(manager)
            elif spec.startswith("owner:"):
                related = read_paths(self.conn, self.model, self.obj, [self._need_record()], [(spec[6:], "owner")])
                owner = related.get(self._need_record(), {}).get(f"{spec[6:]}.owner")
                if owner:
                    found.append(owner)
            elif spec.startswith("user:"):
                found.append(spec[5:])
            elif spec.startswith("role:"):
                found.extend(_role_members(self.conn, tenant_id, spec[5:]))
        return list(dict.fromkeys(found))

    def _webhook(self, action: CompiledAction) -> None:
        spec = action.spec
        workflow = self.program.workflow
        tenant = self.ctx.tenant
        assert tenant is not None
        record = self._webhook_record(spec.get("fields"))
        if record is None:
            return
        delivery_id = new_id()
        body = json.dumps({
            "deliveryId": delivery_id, "event": self.ctx.payload["trigger"], "workflow": workflow.name,
            "tenant": tenant.slug, "object": self.obj.name, "recordId": self.record_id, "record": record,
            "occurredAt": self.now.isoformat(),
        }, sort_keys=True, default=str)
        self.conn.execute(webhook_deliveries.insert().values(
            id=delivery_id, tenant_id=tenant.id, workflow_id=workflow.id, workflow_name=workflow.name,
            url=spec["url"], body=body, status="PENDING", attempts=0, created_at=utcnow(),
        ))
        enqueue(self.conn, tenant_id=tenant.id, kind="webhook.deliver", key=f"{self.ctx.job_key}:{action.index}",
                max_attempts=spec.get("maxAttempts"),
                payload={"deliveryId": delivery_id, "workflowId": workflow.id, "version": workflow.version,
                         "action": action.index, "timeoutSeconds": spec.get("timeoutSeconds", 10)})

    def _webhook_record(self, fields: Sequence[str] | None) -> dict[str, Any] | None:
        """The record as the workflow's author may read it (data leaving Tessera obeys permissions)."""
        if self.record_id is None:
            return {}
        author = self.program.workflow.created_by
        access = self.ctx.rt.access(self.conn, self.ctx.tenant, author) if author else SYSTEM  # type: ignore[arg-type]
        if not access.can(self.obj, Action.READ):
            return None
        table = self.model.tables.table(self.obj.name)
        reach = access.row_filter(self.obj, table)
        if reach is not None and not self.conn.execute(
            sa.select(reach).where(table.c.id == self.record_id)
        ).scalar():
            return None
        wanted = [f for f in self.obj.fields if fields is None or f.name in fields]
        readable = [f for f in wanted if (grant := access.profile.field(self.obj, f)) is not None and grant.read]
        paths = [(f.name,) for f in readable] + [("owner",), ("createdAt",), ("updatedAt",)]
        values = read_paths(self.conn, self.model, self.obj, [self.record_id], paths).get(self.record_id, {})
        record = {f.name: output_value(f, values.get(f.name)) for f in readable}
        record.update(id=self.record_id, owner=values.get("owner"),
                      createdAt=_iso(values.get("createdAt")), updatedAt=_iso(values.get("updatedAt")))
        return record

    def _assign(self, action: CompiledAction) -> None:
        tenant_id = self.ctx.tenant.id  # type: ignore[union-attr]
        spec = action.spec
        if spec.get("role"):
            candidates = _role_members(self.conn, tenant_id, spec["role"])
        else:
            candidates = list(self.conn.execute(
                sa.select(users.c.id).where(users.c.tenant_id == tenant_id, users.c.id.in_(spec["users"]),
                                            users.c.is_active.is_(True)).order_by(users.c.id)
            ).scalars())
        if not candidates:
            raise ValidationError(f"assign: no active user to assign to ({spec.get('role') or 'users'})",
                                  field="actions")
        turn = _next_turn(self.conn, tenant_id, f"{self.program.workflow.id}:{action.index}")
        self.writer.update(self.obj.name, self._need_record(), {"owner": candidates[turn % len(candidates)]})
        self._values = None

    def _plugin(self, action: CompiledAction) -> None:
        key = action.spec["action"]
        found = self.ctx.rt.plugins.keyed.get("register_workflow_actions", {}).get(key)
        if found is None or found[0] not in self.model.meta.plugins:
            raise NotFound(f"no workflow action '{key}' (its plugin is not installed)", field="actions")
        plugin, spec = found
        context = _ActionContext(self, plugin, action.spec.get("params") or {})
        self.ctx.rt.plugins.call_function(plugin, "register_workflow_actions", spec.run, context)

    def _need_record(self) -> str:
        if self.record_id is None:
            raise ValidationError("this action needs a record", field="actions")
        return self.record_id


def _iso(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _role_members(conn: sa.Connection, tenant_id: str, role: str) -> list[str]:
    from tessera.storage.system_tables import roles

    return list(conn.execute(
        sa.select(users.c.id).join(roles, roles.c.id == users.c.role_id)
        .where(users.c.tenant_id == tenant_id, roles.c.name == role, users.c.is_active.is_(True))
        .order_by(users.c.id)
    ).scalars())


def _next_turn(conn: sa.Connection, tenant_id: str, name: str) -> int:
    """A counter per assignment action, advanced atomically (concurrent runs take different turns)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(assignment_cursors).values(tenant_id=tenant_id, name=name, position=1)
    statement = statement.on_conflict_do_update(
        index_elements=["tenant_id", "name"], set_={"position": assignment_cursors.c.position + 1}
    ).returning(assignment_cursors.c.position)
    return int(conn.execute(statement).scalar_one()) - 1


def queue_email(conn: sa.Connection, tenant_id: str, recipients: Sequence[str], subject: str, body: str, *,
                source: str, key: str) -> None:
    """Log an e-mail and queue its sending (the SMTP outbox)."""
    if not recipients:
        return
    email_id = new_id()
    if not enqueue(conn, tenant_id=tenant_id, kind="email.send", key=key, payload={"emailId": email_id}):
        return
    conn.execute(email_messages.insert().values(
        id=email_id, tenant_id=tenant_id, recipients=list(recipients), subject=subject[:300], body=body,
        source=source[:140], status="PENDING", attempts=0, created_at=utcnow(),
    ))


class _ActionContext:
    """``WorkflowActionContext`` for plugin actions."""

    def __init__(self, run: _Run, plugin: str, params: Mapping[str, Any]) -> None:
        self._run = run
        self.plugin = plugin
        self.params = MappingProxyType(dict(params))
        self.tenant_slug = run.ctx.tenant.slug  # type: ignore[union-attr]
        self.object = run.obj.name
        self.record_id = run.record_id
        self.workflow = run.program.workflow.name
        self.triggered_by = run.ctx.payload.get("triggeredBy")
        self.changes: tuple[Any, ...] = ()
        fields = [*(f.name for f in run.obj.fields)]
        rows = RecordReader(run.conn, run.model, run.writer.limits, SYSTEM).rows(
            run.obj.name, ["id", *fields], filter={"id": {"eq": run.record_id}}
        ) if run.record_id else []
        self.record = MappingProxyType(rows[0] if rows else {})

    def create(self, object_name: str, rows: Sequence[Mapping[str, Any]]) -> list[str]:
        return self._run.writer.create(object_name, rows)

    def update(self, object_name: str, record_id: str, data: Mapping[str, Any]) -> None:
        self._run.writer.update(object_name, record_id, data)

    def records(self, object_name: str, *, fields: Sequence[str], filter: Mapping[str, Any] | None = None,
                order_by: Sequence[Mapping[str, str]] | None = None) -> list[dict[str, Any]]:
        reader = RecordReader(self._run.conn, self._run.model, self._run.writer.limits, SYSTEM)
        return reader.rows(object_name, fields, filter=filter, order_by=order_by)
