"""Workflow definitions: create, change, enable/disable and delete (metadata: one version per change).

Every saved change gets a new workflow version whose full definition is kept (``workflow_versions``):
a run records the version it used, and a job queued before a change still runs the definition that
was live when its record changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.core.errors import NotFound, ValidationError
from tessera.core.ids import new_id
from tessera.model.automation import check_workflow
from tessera.model.definitions import WorkflowDef
from tessera.model.exports import SECRET_MASK, export_workflow
from tessera.plugin_host import PluginHost
from tessera.services.automation.workflow_checks import workflow_context
from tessera.services.metadata.change import Change, run_change
from tessera.services.outbound import OutboundRefused, check_url
from tessera.services.runtime import Actor, Runtime
from tessera.services.security.admin import require_admin
from tessera.storage.system_tables import workflow_versions, workflows

MAX_WORKFLOWS = 500
KEYS = {"object", "name", "description", "active", "trigger", "condition", "actions"}


def create_workflow(rt: Runtime, actor: Actor, data: Mapping[str, Any], *, origin: str = "custom") -> WorkflowDef:
    refuse_private_webhooks(rt, actor, data.get("actions"))
    return run_change(rt, actor, lambda change: add_workflow_in(
        change, data, origin=origin, created_by=actor.user_id, plugins=rt.plugins))


def update_workflow(rt: Runtime, actor: Actor, data: Mapping[str, Any]) -> WorkflowDef:
    """Change the keys given (``name`` says which workflow); a new version is stored."""
    refuse_private_webhooks(rt, actor, data.get("actions"))
    return run_change(rt, actor, lambda change: update_workflow_in(
        change, data, changed_by=actor.user_id, plugins=rt.plugins))


def refuse_private_webhooks(rt: Runtime, actor: Actor, actions: Any) -> None:
    """Refuse a WEBHOOK action whose URL reaches a private network (unless the operator allows them).

    The model checks the URL's form and does no DNS; this resolves its host, before the change's
    transaction starts (a slow DNS answer must not hold the metadata lock). Deliveries check again.
    """
    if rt.config.allow_private_networks or not isinstance(actions, list):
        return
    require_admin(actor, "change metadata")  # no lookups on behalf of anyone else
    for index, action in enumerate(actions):
        url = action.get("url") if isinstance(action, Mapping) and action.get("type") == "WEBHOOK" else None
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
            continue  # not a webhook, or not a URL: the model's check says what is wrong
        try:
            check_url(url, allow_private=False)
        except OutboundRefused as exc:
            raise ValidationError(f"actions.{index}.url: {exc}", field="actions") from None


def delete_workflow(rt: Runtime, actor: Actor, name: str) -> WorkflowDef:
    def step(change: Change) -> WorkflowDef:
        workflow = find_workflow(change, name)
        change.conn.execute(workflows.delete().where(workflows.c.id == workflow.id))
        return workflow

    return run_change(rt, actor, step)


def find_workflow(change: Change, name: str | None) -> WorkflowDef:
    for obj in change.meta.objects:
        for workflow in obj.workflows:
            if workflow.name == name:
                return workflow
    raise NotFound(f"no workflow '{name}'", field="name")


def add_workflow_in(change: Change, data: Mapping[str, Any], *, origin: str, created_by: str | None,
                    plugins: PluginHost) -> WorkflowDef:
    _known_keys(data)
    definition = check_workflow(change.meta, data, workflow_context(change.conn, change.tenant.id, change.meta, plugins))
    existing = change.conn.execute(
        sa.select(workflows.c.id).where(workflows.c.tenant_id == change.tenant.id, workflows.c.name == definition["name"])
    ).first()
    if existing is not None:
        raise ValidationError(f"name: a workflow '{definition['name']}' already exists", field="name")
    count = change.conn.execute(
        sa.select(sa.func.count()).select_from(workflows).where(workflows.c.tenant_id == change.tenant.id)
    ).scalar_one()
    if count >= MAX_WORKFLOWS:
        raise ValidationError(f"a tenant has at most {MAX_WORKFLOWS} workflows", field="name")
    now = utcnow()
    workflow_id = new_id()
    change.conn.execute(workflows.insert().values(
        id=workflow_id, tenant_id=change.tenant.id, object_id=change.object(definition["object"]).id,
        origin=origin, version=1, created_by=created_by, created_at=now, updated_at=now, **_row(definition),
    ))
    _store_version(change, workflow_id, 1, definition, created_by)
    return _reloaded(change, definition["name"])


def update_workflow_in(change: Change, data: Mapping[str, Any], *, changed_by: str | None, plugins: PluginHost,
                       replace: bool = False) -> WorkflowDef:
    """Change a workflow: the keys given, or with ``replace`` exactly as ``data`` defines it."""
    _known_keys(data)
    old = find_workflow(change, data.get("name"))
    current = export_workflow(old, secrets=True)
    given = {k: v for k, v in data.items() if v is not None or k in ("condition", "description")}
    merged = {"object": old.object_name, **given} if replace else {**current, **given}
    merged["actions"] = _keep_secrets(merged.get("actions"), current["actions"])
    context = workflow_context(change.conn, change.tenant.id, change.meta, plugins)
    definition = check_workflow(change.meta, merged, context)
    if definition["object"] != old.object_name:
        raise ValidationError("object: a workflow stays on its object; create a new one instead", field="object")
    if definition == check_workflow(change.meta, current, context):
        return old
    version = old.version + 1
    change.conn.execute(workflows.update().where(workflows.c.id == old.id).values(
        version=version, updated_at=utcnow(), **_row(definition)
    ))
    _store_version(change, old.id or "", version, definition, changed_by)
    return _reloaded(change, definition["name"])


def _keep_secrets(actions: Any, current: list[dict[str, Any]]) -> Any:
    """A webhook action given back with its masked secret keeps the stored secret (same position, same URL)."""
    if not isinstance(actions, list):
        return actions
    kept = []
    for index, action in enumerate(actions):
        if isinstance(action, Mapping) and action.get("secret") == SECRET_MASK:
            old = current[index] if index < len(current) else {}
            if old.get("type") == "WEBHOOK" and old.get("url") == action.get("url"):
                action = {**action, "secret": old["secret"]}
        kept.append(action)
    return kept


def workflow_definition(conn: sa.Connection, workflow_id: str, version: int) -> dict[str, Any] | None:
    """The full definition of one version (secrets included), as stored when it was saved."""
    return conn.execute(
        sa.select(workflow_versions.c.definition)
        .where(workflow_versions.c.workflow_id == workflow_id, workflow_versions.c.version == version)
    ).scalar()


def _known_keys(data: Mapping[str, Any]) -> None:
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise ValidationError(f"{unknown[0]}: not a key of workflows (they have {', '.join(sorted(KEYS))})",
                              field=unknown[0])


def _row(definition: Mapping[str, Any]) -> dict[str, Any]:
    return dict(
        name=definition["name"], description=definition.get("description"), active=definition["active"],
        trigger=definition["trigger"], condition=definition.get("condition"), actions=definition["actions"],
    )


def _store_version(change: Change, workflow_id: str, version: int, definition: Mapping[str, Any],
                   user_id: str | None) -> None:
    change.conn.execute(workflow_versions.insert().values(
        workflow_id=workflow_id, version=version, definition=dict(definition), created_by=user_id,
        created_at=utcnow(),
    ))


def _reloaded(change: Change, name: str) -> WorkflowDef:
    change.reload()
    return find_workflow(change, name)


def list_workflows(meta_objects: Any, object_name: str | None = None) -> list[WorkflowDef]:
    found = [w for obj in meta_objects for w in obj.workflows]
    if object_name is not None:
        found = [w for w in found if w.object_name == object_name]
    return sorted(found, key=lambda w: w.name)


def planned_workflow(change: Change, data: Mapping[str, Any], plugins: PluginHost) -> dict[str, Any]:
    """What ``data`` would define (checked), to compare with what is stored (packages)."""
    return check_workflow(change.meta, data, workflow_context(change.conn, change.tenant.id, change.meta, plugins))


def stored_workflow(change: Change, workflow: WorkflowDef, plugins: PluginHost) -> dict[str, Any]:
    return check_workflow(change.meta, export_workflow(workflow, secrets=True), workflow_context(change.conn, change.tenant.id, change.meta, plugins))
