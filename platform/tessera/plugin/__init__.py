"""The public plugin contract: the only Tessera package a plugin imports.

A plugin is a Python distribution declaring an entry point in the ``tessera.plugins`` group whose
name is the plugin's name and whose value is a module of hook implementations::

    from tessera.plugin import PluginInfo, hookimpl

    @hookimpl
    def register_plugin():
        return PluginInfo(name="funnel", version="1.0.0", description="Sales funnel")

Hooks are listed in ``tessera.plugin.hookspecs`` and documented in docs/plugin_hooks.md.
"""

from __future__ import annotations

from typing import Any

import pluggy

from tessera.core.errors import PluginError
from tessera.plugin.connectors import (
    TRANSFORMS,
    Candidate,
    ChildTarget,
    ConnectorHttp,
    ConnectorProvider,
    ExternalRecord,
    FetchedPage,
    FieldMapping,
    MalformedPage,
    RecordFailure,
    SearchPage,
    SyncContext,
    SyncedRecord,
)
from tessera.plugin.definitions import (
    ConnectorSpec,
    ExpressionFunctionSpec,
    FieldTypeSpec,
    GraphQLExtension,
    JobRunContext,
    JobSpec,
    LifecycleContext,
    MetadataPackage,
    PluginInfo,
    RecordChange,
    RecordWriteContext,
    ReportTypeSpec,
    RequestView,
    SampleContext,
    SampleDataSpec,
    WorkflowActionContext,
    WorkflowActionSpec,
)
from tessera.plugin.hookspecs import PROJECT

hookimpl = pluggy.HookimplMarker(PROJECT)
ENTRY_POINT_GROUP = "tessera.plugins"


def request_of(info: Any) -> RequestView:
    """The request a GraphQL extension's resolver serves (its ``info`` argument's context)."""
    return info.context  # type: ignore[no-any-return]


__all__ = [
    "ENTRY_POINT_GROUP",
    "TRANSFORMS",
    "Candidate",
    "ChildTarget",
    "ConnectorHttp",
    "ConnectorProvider",
    "ConnectorSpec",
    "ExpressionFunctionSpec",
    "ExternalRecord",
    "FetchedPage",
    "FieldMapping",
    "FieldTypeSpec",
    "GraphQLExtension",
    "JobRunContext",
    "JobSpec",
    "LifecycleContext",
    "MalformedPage",
    "MetadataPackage",
    "PluginError",
    "PluginInfo",
    "RecordChange",
    "RecordFailure",
    "RecordWriteContext",
    "ReportTypeSpec",
    "RequestView",
    "SampleContext",
    "SampleDataSpec",
    "SearchPage",
    "SyncContext",
    "SyncedRecord",
    "WorkflowActionContext",
    "WorkflowActionSpec",
    "hookimpl",
    "request_of",
]
