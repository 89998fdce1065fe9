"""``plugins``, ``installPlugin``, ``upgradePlugin``, ``uninstallPlugin`` (the last three for
administrators), and the GraphQL extensions of the plugins a tenant installed."""

from __future__ import annotations

import logging
from typing import Any

import graphene

from tessera.core.errors import PluginError
from tessera.core.logging import log
from tessera.model.definitions import TenantMetadata
from tessera.plugin_host import PluginHost
from tessera.services import plugins as plugin_service

logger = logging.getLogger("tessera.plugins")


class Plugin(graphene.ObjectType):
    """A plugin of this installation, and whether the tenant installed it."""

    name = graphene.String(required=True)
    version = graphene.String(required=True, description="The version this installation provides.")
    description = graphene.String(required=True)
    requires = graphene.List(graphene.NonNull(graphene.String), required=True)
    installed = graphene.Boolean(required=True)
    installed_version = graphene.String(name="installedVersion", description="The version the tenant has.")

    @staticmethod
    def resolve_installed(root: plugin_service.PluginStatus, info: Any) -> bool:
        return root.installed_version is not None


def _change(fn: Any, info: Any, name: str, **kwargs: Any) -> plugin_service.PluginStatus:
    ctx = info.context
    ctx.end_read()
    return fn(ctx.rt, ctx.actor, name, **kwargs)  # type: ignore[no-any-return]


class PluginsQuery(graphene.ObjectType):
    plugins = graphene.List(graphene.NonNull(Plugin), required=True,
                            description="Plugins of this installation, with what the tenant installed.")

    @staticmethod
    def resolve_plugins(root: Any, info: Any) -> list[plugin_service.PluginStatus]:
        ctx = info.context
        return plugin_service.list_plugins(ctx.rt, ctx.principal.tenant.id)


class PluginsMutation(graphene.ObjectType):
    install_plugin = graphene.Field(
        graphene.NonNull(Plugin), name=graphene.String(required=True),
        description="Install a plugin: its objects, fields and rules, in one transaction.",
    )
    upgrade_plugin = graphene.Field(
        graphene.NonNull(Plugin), name=graphene.String(required=True),
        allow_destructive=graphene.Boolean(name="allowDestructive", default_value=False,
                                           description="Also delete what the new version no longer defines."),
        description="Apply the installation's version of a plugin to the tenant.",
    )
    uninstall_plugin = graphene.Field(
        graphene.NonNull(Plugin), name=graphene.String(required=True),
        keep_data=graphene.Boolean(name="keepData", default_value=True,
                                   description="Keep its objects, fields and records, owned by the tenant "
                                               "(default); false deletes them with their data."),
        description="Remove a plugin's definitions (and, unless keepData, their data).",
    )

    @staticmethod
    def resolve_install_plugin(root: Any, info: Any, name: str) -> plugin_service.PluginStatus:
        return _change(plugin_service.install_plugin, info, name)

    @staticmethod
    def resolve_upgrade_plugin(root: Any, info: Any, name: str, allow_destructive: bool) -> plugin_service.PluginStatus:
        return _change(plugin_service.upgrade_plugin, info, name, allow_destructive=allow_destructive)

    @staticmethod
    def resolve_uninstall_plugin(root: Any, info: Any, name: str, keep_data: bool) -> plugin_service.PluginStatus:
        return _change(plugin_service.uninstall_plugin, info, name, keep_data=keep_data)


def extension_fields(host: PluginHost, meta: TenantMetadata) -> tuple[dict[str, Any], dict[str, Any]]:
    """Query and mutation fields the tenant's installed plugins add.

    A plugin whose extensions cannot be had (its hook fails, or names a field outside its own
    prefix) adds nothing; the tenant's schema is built without it and the problem is logged.
    """
    queries: dict[str, Any] = {}
    mutations: dict[str, Any] = {}
    for name in meta.plugins:
        if name not in host.plugins:
            continue
        try:
            extensions = host.graphql_extensions(name)
        except PluginError as exc:
            log(logger, logging.ERROR, "plugin_extension_skipped", plugin=name, error=exc.message)
            continue
        for extension in extensions:
            for target, fields in ((queries, extension.queries), (mutations, extension.mutations)):
                for field_name, value in fields.items():
                    if not field_name.startswith(name):
                        log(logger, logging.ERROR, "plugin_extension_skipped", plugin=name,
                            error=f"field {field_name} does not start with the plugin's name")
                        continue
                    target[field_name] = value
    return queries, mutations
