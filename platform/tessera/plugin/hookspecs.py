"""Every hook a Tessera plugin can implement, in one module.

Families (see docs/plugin_hooks.md for the long form of each, with an example):

- ``register_*`` — what the plugin contributes; the host calls each once at start-up (or when a
  plugin is installed into a tenant) and collects the results, refusing duplicates loudly.
- ``before_*`` — lifecycle steps run inside the transaction of an install, upgrade or uninstall;
  raising ``PluginError`` refuses the whole change.

Hooks are called with keyword arguments. Arguments may be added to a spec in later versions, never
removed. Types are imported only for type checking, so this module never causes an import cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from tessera.plugin.definitions import (
        ConnectorSpec,
        ExpressionFunctionSpec,
        FieldTypeSpec,
        GraphQLExtension,
        JobSpec,
        LifecycleContext,
        MetadataPackage,
        PluginInfo,
        RecordWriteContext,
        ReportTypeSpec,
        SampleDataSpec,
        WorkflowActionSpec,
    )

PROJECT = "tessera"
hookspec = pluggy.HookspecMarker(PROJECT)


@hookspec
def register_plugin() -> PluginInfo:
    """Say who the plugin is.

    Every plugin implements it. Returns:
        ``PluginInfo(name, version, description, requires)``; ``name`` equals the entry-point name.
    """


@hookspec
def register_metadata_packages() -> list[MetadataPackage]:
    """The metadata the plugin installs into a tenant: objects, fields added to other objects (for
    example the standard ones), picklist values, validation rules.

    Returns:
        Packages applied in order, in one transaction, when the plugin is installed; upgrading applies
        the difference; uninstalling removes what they defined.
    """


@hookspec
def register_field_types() -> list[FieldTypeSpec]:
    """Field types the plugin adds for every tenant (collected at start-up).

    Returns:
        ``FieldTypeSpec`` list; a key already taken (built in or by another plugin) stops start-up.
    """


@hookspec
def register_expression_functions() -> list[ExpressionFunctionSpec]:
    """Functions the plugin adds to the expression language (collected at start-up).

    Returns:
        ``ExpressionFunctionSpec`` list; a name already taken stops start-up.
    """


@hookspec
def register_graphql_extensions() -> list[GraphQLExtension]:
    """Extra query and mutation fields, present only in the schema of tenants that installed the plugin.

    Returns:
        ``GraphQLExtension`` list; field names start with the plugin's name.
    """


@hookspec
def register_workflow_actions() -> list[WorkflowActionSpec]:
    """Workflow action types the plugin adds (used by ``PLUGIN`` actions of workflows).

    Returns:
        ``WorkflowActionSpec`` list; keys are unique across plugins.
    """


@hookspec
def register_report_types() -> list[ReportTypeSpec]:
    """Report types the plugin adds, returning the shared report result shape.

    Returns:
        ``ReportTypeSpec`` list; keys are unique across plugins.
    """


@hookspec
def register_jobs() -> list[JobSpec]:
    """Background jobs (and their cron schedules) the plugin runs for tenants that installed it.

    Returns:
        ``JobSpec`` list; keys are unique across plugins.
    """


@hookspec
def register_connectors() -> list[ConnectorSpec]:
    """External data providers the sync framework can run (tender feeds, business registries).

    Returns:
        ``ConnectorSpec`` list; keys are unique across plugins.
    """


@hookspec
def register_sample_data() -> list[SampleDataSpec]:
    """Demo data written for a tenant that installed the plugin (``make demo``, ``tessera demo``).

    Returns:
        ``SampleDataSpec`` list, run in order after the standard sample data.
    """


@hookspec
def before_record_write(context: RecordWriteContext) -> None:
    """Called inside the transaction of every create and update of records, in tenants that installed
    the plugin, after the records are written and validated (so they hold their final values).

    Args:
        context: ``context.object`` and ``context.changes`` (one ``RecordChange`` per record:
            ``id``, ``created``, ``before`` — the changed fields' old values, ``after`` — the record's
            values, API names and forms); ``context.create``/``update``/``records`` write and read
            in the same transaction (on behalf of the same user, channel ``plugin``).
    Raise ``PluginError`` to refuse the write. Writes the hook makes call it again (a plugin
    should act only on the objects it cares about); nesting deeper than 5 is refused.
    """


@hookspec
def before_install(context: LifecycleContext) -> None:
    """Called inside the install's transaction, after the plugin's metadata is applied.

    Args:
        context: the tenant and plugin; ``context.create`` writes records (e.g. reference data).
    Raise ``PluginError`` to refuse the install; nothing is left behind.
    """


@hookspec
def before_upgrade(context: LifecycleContext, from_version: str) -> None:
    """Called inside an upgrade's transaction, after the new metadata is applied.

    Args:
        context: the tenant and plugin.
        from_version: the version the tenant had installed.
    """


@hookspec
def before_uninstall(context: LifecycleContext, keep_data: bool) -> None:
    """Called inside an uninstall's transaction, before the plugin's metadata is removed.

    Args:
        context: the tenant and plugin.
        keep_data: whether the admin asked to keep the plugin's records.
    """
