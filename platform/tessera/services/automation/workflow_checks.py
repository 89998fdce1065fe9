"""Workflows name objects, fields, roles, users and plugin actions: every metadata change re-checks
all of them against the definitions it would commit and refuses (``IN_USE``) one that would leave a
workflow pointing at nothing (the counterpart of ``refuse_broken`` for expressions)."""

from __future__ import annotations

import sqlalchemy as sa

from tessera.core.errors import InUse, TesseraError
from tessera.model.automation import WorkflowContext, check_workflow
from tessera.model.definitions import TenantMetadata
from tessera.model.exports import export_workflow
from tessera.plugin_host import PluginHost
from tessera.storage.system_tables import roles, users

MAX_LISTED = 10


def workflow_context(conn: sa.Connection, tenant_id: str, meta: TenantMetadata, plugins: PluginHost) -> WorkflowContext:
    """What workflows of the tenant may refer to besides metadata."""
    installed = set(meta.plugins)
    actions = frozenset(
        key for key, (plugin, _spec) in plugins.keyed.get("register_workflow_actions", {}).items()
        if plugin in installed
    )
    role_names = frozenset(conn.execute(sa.select(roles.c.name).where(roles.c.tenant_id == tenant_id)).scalars())
    user_ids = frozenset(conn.execute(sa.select(users.c.id).where(users.c.tenant_id == tenant_id)).scalars())
    return WorkflowContext(actions, role_names, user_ids)


def refuse_broken_workflows(conn: sa.Connection, tenant_id: str, meta: TenantMetadata, plugins: PluginHost) -> None:
    """Refuse a change after which a workflow no longer checks (a field it uses deleted, ...)."""
    flows = [w for o in meta.objects for w in o.workflows]
    if not flows:
        return
    context = workflow_context(conn, tenant_id, meta, plugins)
    problems = []
    for workflow in flows:
        try:
            check_workflow(meta, export_workflow(workflow, secrets=True), context)
        except TesseraError as exc:
            problems.append(f"workflow {workflow.name}: {exc.message}")
    if problems:
        listed = problems[:MAX_LISTED]
        more = f" and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
        raise InUse("this change would break workflows that depend on it: " + "; ".join(listed) + more,
                    dependents=listed)
