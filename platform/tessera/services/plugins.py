"""Installing, upgrading and uninstalling plugins in a tenant (administrators only).

Installing applies the plugin's metadata packages in one transaction (everything it defines gets
``origin`` = the plugin's name), records the install and runs the plugin's ``before_install`` hook.
A package may add fields and rules to objects it does not own (the standard ones), but never
redefine what another origin owns: such conflicts are refused naming both sides. Upgrading applies
the new version's packages and removes what they no longer define only when asked
(``allow_destructive``). Uninstalling removes the plugin's definitions, dropping their data, or with
``keep_data`` hands them over to the tenant (origin ``custom``) with their data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.core.errors import Conflict, InUse, NotFound, UnsafeChange, ValidationError
from tessera.model.definitions import TenantMetadata
from tessera.model.registry import TenantModel
from tessera.plugin_host import PluginHost
from tessera.services.audit import log_event
from tessera.services.metadata.change import Change, run_change
from tessera.services.metadata.fields import delete_field_in
from tessera.services.metadata.objects import delete_object_in
from tessera.services.packages import apply_package_in, read_package
from tessera.services.records.write import RecordWriter
from tessera.services.runtime import Actor, Runtime
from tessera.services.security.admin import STANDARD_USER, require_admin
from tessera.storage.system_tables import (
    field_defs,
    object_defs,
    object_permissions,
    permission_sets,
    plugin_installs,
    tenants,
    validation_rules,
    workflows,
)

CUSTOM = "custom"


@dataclass(frozen=True)
class PluginStatus:
    name: str
    version: str
    description: str
    requires: tuple[str, ...]
    installed_version: str | None
    """The version installed in the tenant asked about (None: not installed there)."""
    tenants: tuple[str, ...] = ()
    """Tenants that installed it (listing for the whole process)."""


def installed_versions(conn: sa.Connection, tenant_id: str) -> dict[str, str]:
    return dict(conn.execute(
        sa.select(plugin_installs.c.plugin, plugin_installs.c.version).where(plugin_installs.c.tenant_id == tenant_id)
    ).all())


def list_plugins(rt: Runtime, tenant_id: str | None = None) -> list[PluginStatus]:
    """Every plugin of this process; with ``tenant_id`` whether (and which version) that tenant has it."""
    with rt.db.system.connect() as conn:
        installed = installed_versions(conn, tenant_id) if tenant_id else {}
        holders: dict[str, list[str]] = {}
        for plugin, slug in conn.execute(
            sa.select(plugin_installs.c.plugin, tenants.c.slug)
            .select_from(plugin_installs.join(tenants, tenants.c.id == plugin_installs.c.tenant_id))
            .order_by(tenants.c.slug)
        ):
            holders.setdefault(plugin, []).append(slug)
    return [
        PluginStatus(name, p.info.version, p.info.description, p.info.requires, installed.get(name),
                     tuple(holders.get(name, ())))
        for name, p in sorted(rt.plugins.plugins.items())
    ]


def _host_plugin(host: PluginHost, name: str) -> Any:
    if name not in host.plugins:
        available = ", ".join(sorted(host.plugins)) or "none"
        raise NotFound(f"no plugin '{name}' in this installation (available: {available})", field="name")
    return host.plugins[name]


def _package_objects(host: PluginHost, name: str) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for package in host.packages(name):
        objects.extend(read_package(package.path))
    return objects


def _claim(meta: TenantMetadata, plugin: str, objects: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The package as it may be applied: objects owned elsewhere are only extended (their header is
    left alone); a field or rule owned by another origin is a conflict naming both sides."""
    claimed = []
    for spec in objects:
        obj = meta.object(spec.get("name", ""))
        if obj is None or obj.origin == plugin:
            claimed.append(dict(spec))
            continue
        for kind, key, existing in (("field", "fields", obj.field), ("validation rule", "validationRules", obj.rule)):
            for item in spec.get(key) or []:
                found = existing(item.get("name", ""))
                if found is not None and found.origin != plugin:
                    raise Conflict(
                        f"plugin {plugin} defines {kind} {obj.name}.{found.name}, which {_owner(found.origin)} "
                        "already defines", field="name", plugin=plugin, owner=found.origin,
                    )
        claimed.append({"name": obj.name, **{k: spec[k] for k in ("fields", "validationRules") if k in spec}})
    return claimed


def _owner(origin: str) -> str:
    return {"standard": "the standard metadata", CUSTOM: "the tenant's own metadata"}.get(origin, f"plugin {origin}")


class _Lifecycle:
    """The ``LifecycleContext`` handed to install, upgrade and uninstall hooks."""

    def __init__(self, change: Change, rt: Runtime, actor: Actor, plugin: str) -> None:
        self.tenant_slug = change.tenant.slug
        self.plugin = plugin
        self._change = change
        self._rt = rt
        self._actor = Actor(actor.tenant, actor.user_id, "plugin")

    def create(self, object_name: str, rows: Sequence[Mapping[str, Any]]) -> list[str]:
        model = TenantModel(self._change.reload())
        return RecordWriter(self._change.conn, model, self._actor, self._rt.config.limits, self._rt.plugins).create(
            object_name, rows)


def install_plugin(rt: Runtime, actor: Actor, name: str) -> PluginStatus:
    require_admin(actor, "install plugins")
    plugin = _host_plugin(rt.plugins, name)

    def step(change: Change) -> None:
        installed = installed_versions(change.conn, change.tenant.id)
        if name in installed:
            raise Conflict(f"plugin {name} is already installed (version {installed[name]})", field="name")
        missing = [r for r in plugin.info.requires if r not in installed]
        if missing:
            raise ValidationError(f"plugin {name} requires {', '.join(missing)}: install it first", field="name",
                                  requires=missing)
        apply_package_in(change, _claim(change.meta, name, _package_objects(rt.plugins, name)), origin=name,
                         plugins=rt.plugins)
        _grant_reading(change, name)
        now = utcnow()
        change.conn.execute(plugin_installs.insert().values(
            tenant_id=change.tenant.id, plugin=name, version=plugin.info.version, installed_at=now, updated_at=now))
        rt.plugins.call(name, "before_install", context=_Lifecycle(change, rt, actor, name))
        log_event(change.conn, change.tenant.id, "security", target=f"installPlugin {name}", user_id=actor.user_id,
                  details={"version": plugin.info.version})

    run_change(rt, actor, step)
    return _status(rt, actor, name)


def upgrade_plugin(rt: Runtime, actor: Actor, name: str, *, allow_destructive: bool = False) -> PluginStatus:
    require_admin(actor, "upgrade plugins")
    plugin = _host_plugin(rt.plugins, name)

    def step(change: Change) -> None:
        installed = installed_versions(change.conn, change.tenant.id)
        if name not in installed:
            raise NotFound(f"plugin {name} is not installed", field="name")
        objects = _package_objects(rt.plugins, name)
        removed = _no_longer_defined(change.meta, name, objects)
        if removed and not allow_destructive:
            raise UnsafeChange(
                f"version {plugin.info.version} of {name} no longer defines {', '.join(removed)}; "
                "pass allowDestructive: true to delete them with their data",
                field="allowDestructive", removes=removed,
            )
        _remove(change, name, only=set(removed))
        apply_package_in(change, _claim(change.meta, name, objects), origin=name, plugins=rt.plugins)
        change.conn.execute(plugin_installs.update().where(
            plugin_installs.c.tenant_id == change.tenant.id, plugin_installs.c.plugin == name,
        ).values(version=plugin.info.version, updated_at=utcnow()))
        rt.plugins.call(name, "before_upgrade", context=_Lifecycle(change, rt, actor, name),
                        from_version=installed[name])
        log_event(change.conn, change.tenant.id, "security", target=f"upgradePlugin {name}", user_id=actor.user_id,
                  details={"from": installed[name], "to": plugin.info.version, "removed": removed})

    run_change(rt, actor, step)
    return _status(rt, actor, name)


def uninstall_plugin(rt: Runtime, actor: Actor, name: str, *, keep_data: bool = False) -> PluginStatus:
    require_admin(actor, "uninstall plugins")
    _host_plugin(rt.plugins, name)

    def step(change: Change) -> None:
        installed = installed_versions(change.conn, change.tenant.id)
        if name not in installed:
            raise NotFound(f"plugin {name} is not installed", field="name")
        dependants = [p for p in installed if p != name and name in _requires(rt.plugins, p)]
        if dependants:
            raise InUse(f"plugins {', '.join(dependants)} require {name}: uninstall them first", field="name",
                        dependents=dependants)
        rt.plugins.call(name, "before_uninstall", context=_Lifecycle(change, rt, actor, name), keep_data=keep_data)
        if keep_data:
            _hand_over(change, name)
        else:
            _remove(change, name)
        change.conn.execute(plugin_installs.delete().where(
            plugin_installs.c.tenant_id == change.tenant.id, plugin_installs.c.plugin == name))
        log_event(change.conn, change.tenant.id, "security", target=f"uninstallPlugin {name}", user_id=actor.user_id,
                  details={"keepData": keep_data})

    run_change(rt, actor, step)
    return _status(rt, actor, name)


def _grant_reading(change: Change, plugin: str) -> None:
    """Users with the standard user set may read the plugin's objects (admins refine it later): the
    plugin's own views and bookkeeping are then visible to them, with their record access."""
    set_id = change.conn.execute(sa.select(permission_sets.c.id).where(
        permission_sets.c.tenant_id == change.tenant.id, permission_sets.c.name == STANDARD_USER)).scalar()
    if set_id is None:
        return
    for obj in change.reload().objects:
        if obj.origin != plugin:
            continue
        exists = change.conn.execute(sa.select(object_permissions.c.object_id).where(
            object_permissions.c.permission_set_id == set_id, object_permissions.c.object_id == obj.id)).first()
        if exists is None:
            change.conn.execute(object_permissions.insert().values(
                permission_set_id=set_id, object_id=obj.id, can_read=True, can_create=False, can_edit=False,
                can_delete=False, view_all=False, modify_all=False))


def _requires(host: PluginHost, name: str) -> tuple[str, ...]:
    """What an installed plugin requires (nothing known when it left this installation)."""
    plugin = host.plugins.get(name)
    return plugin.info.requires if plugin else ()


def _no_longer_defined(meta: TenantMetadata, plugin: str, objects: Sequence[Mapping[str, Any]]) -> list[str]:
    defined_objects = {o.get("name") for o in objects}
    defined_fields = {(o.get("name"), f.get("name")) for o in objects for f in o.get("fields") or []}
    defined_rules = {(o.get("name"), r.get("name")) for o in objects for r in o.get("validationRules") or []}
    defined_workflows = {w.get("name") for o in objects for w in o.get("workflows") or []}
    removed = []
    for obj in meta.objects:
        if obj.origin == plugin and obj.name not in defined_objects:
            removed.append(f"object {obj.name}")
            continue
        removed += [f"field {obj.name}.{f.name}" for f in obj.fields
                    if f.origin == plugin and (obj.name, f.name) not in defined_fields]
        removed += [f"validation rule {obj.name}.{r.name}" for r in obj.validation_rules
                    if r.origin == plugin and (obj.name, r.name) not in defined_rules]
        removed += [f"workflow {w.name}" for w in obj.workflows
                    if w.origin == plugin and w.name not in defined_workflows]
    return removed


def _remove(change: Change, plugin: str, only: set[str] | None = None) -> None:
    """Delete what ``plugin`` defined (or just the definitions named in ``only``), with their data."""
    def wanted(label: str) -> bool:
        return only is None or label in only

    meta = change.meta
    for obj in meta.objects:
        for workflow in obj.workflows:
            if workflow.origin == plugin and wanted(f"workflow {workflow.name}"):
                change.conn.execute(workflows.delete().where(workflows.c.id == workflow.id))
        for rule in obj.validation_rules:
            if rule.origin == plugin and wanted(f"validation rule {obj.name}.{rule.name}"):
                change.conn.execute(validation_rules.delete().where(validation_rules.c.id == rule.id))
    meta = change.reload()
    # Computed fields first: they may use the plugin's stored fields.
    for computed_first in (True, False):
        for obj in meta.objects:
            if obj.origin == plugin and wanted(f"object {obj.name}"):
                continue  # dropped whole below
            for fld in obj.fields:
                if fld.origin == plugin and fld.is_computed == computed_first and wanted(f"field {obj.name}.{fld.name}"):
                    delete_field_in(change, {"object": obj.name, "name": fld.name, "confirm": True})
        meta = change.reload()
    own = [o for o in meta.objects if o.origin == plugin and wanted(f"object {o.name}")]
    # Lookups between the plugin's own objects would hold up deleting their targets: drop them first.
    for obj in own:
        for fld in obj.lookups:
            if (change.meta.object(fld.target or "") or obj).origin == plugin and fld.target != obj.name:
                delete_field_in(change, {"object": obj.name, "name": fld.name, "confirm": True}, allow_standard=True)
    for obj in own:
        delete_object_in(change, obj.name, confirm=True)


def _hand_over(change: Change, plugin: str) -> None:
    """Keep the plugin's definitions and data, owned by the tenant from now on."""
    tenant_id = change.tenant.id
    for table in (object_defs, field_defs):
        change.conn.execute(table.update().where(table.c.tenant_id == tenant_id, table.c.origin == plugin)
                            .values(origin=CUSTOM))
    for table in (validation_rules, workflows):
        change.conn.execute(table.update().where(table.c.tenant_id == tenant_id, table.c.origin == plugin)
                            .values(origin=CUSTOM))


def _status(rt: Runtime, actor: Actor, name: str) -> PluginStatus:
    return next(p for p in list_plugins(rt, actor.tenant.id) if p.name == name)

