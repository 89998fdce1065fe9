"""What plugins hand to Tessera: frozen dataclasses, and the protocols of the contexts they get.

Plugins build these and return them from ``register_*`` hooks; Tessera turns them into its own
objects. Nothing here refers to Tessera's internals, so a plugin depends on this contract only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class PluginInfo:
    """Who a plugin is. ``name`` must equal its entry-point name (``funnel``, ``tenders`` ...)."""

    name: str
    version: str
    description: str
    requires: tuple[str, ...] = ()
    """Plugins that must be installed in a tenant before this one."""


@dataclass(frozen=True)
class MetadataPackage:
    """A metadata package (a directory with ``package.yaml``, see docs/packages.md) that installing the
    plugin applies to a tenant. Everything it defines gets ``origin`` = the plugin's name."""

    path: Path


@dataclass(frozen=True)
class FieldTypeSpec:
    """A field type stored like a built-in one (``base``) with its own validation.

    ``normalize`` receives a value already valid for ``base`` and returns what is stored, or raises
    ``ValueError`` whose message says why the value is refused (it is shown with the field's name).
    """

    key: str
    base: str
    description: str
    normalize: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class ExpressionFunctionSpec:
    """A function for the expression language (docs/expressions.md).

    ``params`` and ``result`` are expression type names (TEXT, NUMBER, INTEGER, BOOLEAN, DATE,
    DATETIME). ``python`` computes it from argument values (a null argument gives null without calling
    it); ``sql`` (optional) builds the SQLAlchemy expression from the arguments' SQL expressions, so the
    function can be used in formulas and filters; without it, only in validation rules and conditions.
    """

    name: str
    params: tuple[str, ...]
    result: str
    python: Callable[..., Any]
    summary: str
    sql: Callable[..., Any] | None = None
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class GraphQLExtension:
    """Extra root fields (graphene ``Field`` objects) for tenants that installed the plugin.

    Resolvers reach Tessera through ``tessera.plugin.request_of(info)`` (a ``RequestView``).
    Field names must start with the plugin's name (``funnelConversion``) so plugins never collide.
    """

    queries: Mapping[str, Any] = field(default_factory=dict)
    mutations: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkflowActionSpec:
    """A workflow action type (``PLUGIN`` actions name it by ``key``).

    ``run(context)`` gets a ``WorkflowActionContext``; it runs in the workflow's background job, in
    the job's transaction, so what it writes commits exactly once with the run.
    """

    key: str
    description: str
    run: Callable[..., Any]


@dataclass(frozen=True)
class ReportTypeSpec:
    """A report type computing rows in the shared report result shape.

    ``run(tenant=, user_id=, definition=, params=, records=)`` returns ``{"columns": [{name, label,
    type}], "rows": [[...]], "totals": {...}, "chart": {...}}``; ``records(object, fields, filter=...)``
    reads with the caller's access. Take the keyword arguments you need and ``**_`` for the rest.
    """

    key: str
    description: str
    run: Callable[..., Any]


@dataclass(frozen=True)
class JobSpec:
    """A background job the plugin can enqueue, and optionally a cron schedule to run it on."""

    key: str
    description: str
    run: Callable[..., Any]
    cron: str | None = None


@dataclass(frozen=True)
class ConnectorSpec:
    """A provider of external data the sync framework can run (tender feeds, registries)."""

    key: str
    description: str
    factory: Callable[..., Any]
    """``factory(config)`` → a ``ConnectorProvider`` for one connector instance."""
    rate_limit: float | None = None
    """At most this many HTTP requests per second to the provider, per process (None: no limit)."""
    secret_keys: tuple[str, ...] = ()
    """Configuration keys holding credentials, besides those Tessera recognises by name (``password``,
    ``token``, ``apiKey``, ``secret``, ``credentials``...): encrypted at rest, never shown."""
    demo_config: Mapping[str, Any] | None = None
    """A configuration reading data shipped with the plugin: ``tessera demo`` creates a connector named
    ``key`` with it and runs it once, after the sample data (None: the demo has no such connector)."""


@dataclass(frozen=True)
class SampleDataSpec:
    """Demo data for a tenant that installed the plugin: ``generate(context)`` writes records."""

    description: str
    generate: Callable[[SampleContext], Any]


class RequestView(Protocol):
    """What a GraphQL extension's resolver may use: the caller, and records as the caller sees them."""

    tenant_slug: str
    user_id: str | None
    locale: str | None

    def records(
        self, object_name: str, *, fields: Sequence[str], filter: Mapping[str, Any] | None = None,
        order_by: Sequence[Mapping[str, str]] | None = None, limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Records the caller may read (their permissions apply), with the fields asked for (API names,
        lookups as ids); ``filter`` and ``order_by`` as in the generated API. ``limit`` defaults to all."""
        ...


class SampleContext(Protocol):
    """What a sample-data generator may use."""

    tenant_slug: str
    seed: int
    size: int
    """How many top-level records to aim for (the demo's scale)."""

    def create(self, object_name: str, rows: Sequence[Mapping[str, Any]]) -> list[str]:
        """Create records through the normal write path (rules, history); returns their ids."""
        ...

    def records(self, object_name: str, *, fields: Sequence[str]) -> list[dict[str, Any]]:
        """Every record of an object, with the fields asked for."""
        ...


@dataclass(frozen=True)
class RecordChange:
    """One written record, as ``before_record_write`` sees it (API names and value forms)."""

    id: str
    created: bool
    before: Mapping[str, Any]
    """Old values of the fields the write changed (empty for a created record)."""
    after: Mapping[str, Any]
    """The record's values after the write, system fields (``owner``, ``updatedAt``...) included."""


class RecordWriteContext(Protocol):
    """What ``before_record_write`` may use, inside the write's transaction."""

    tenant_slug: str
    plugin: str
    object: str
    changes: Sequence[RecordChange]

    def create(self, object_name: str, rows: Sequence[Mapping[str, Any]]) -> list[str]:
        ...

    def update(self, object_name: str, record_id: str, data: Mapping[str, Any]) -> None:
        ...

    def records(self, object_name: str, *, fields: Sequence[str], filter: Mapping[str, Any] | None = None,
                order_by: Sequence[Mapping[str, str]] | None = None) -> list[dict[str, Any]]:
        ...


class WorkflowActionContext(RecordWriteContext, Protocol):
    """What a plugin's workflow action may use: the record that triggered the workflow (API field
    names and values), the action's ``params`` as the admin configured them, and the same record
    access as ``before_record_write`` (system rights, recorded with channel ``workflow``)."""

    record_id: str | None
    record: Mapping[str, Any]
    params: Mapping[str, Any]
    workflow: str
    triggered_by: str | None


class JobRunContext(Protocol):
    """What a plugin's scheduled job (``JobSpec.run``) gets, for one tenant that installed the plugin:
    records with system rights (writes recorded with channel ``job``), users' managers, and in-app
    notifications (``key`` identifies the event: the same key notifies each user once)."""

    tenant_slug: str
    plugin: str
    job_key: str
    now: datetime
    params: Mapping[str, Any]

    def records(self, object_name: str, *, fields: Sequence[str], filter: Mapping[str, Any] | None = None,
                order_by: Sequence[Mapping[str, str]] | None = None) -> list[dict[str, Any]]:
        ...

    def create(self, object_name: str, rows: Sequence[Mapping[str, Any]]) -> list[str]:
        ...

    def update(self, object_name: str, record_id: str, data: Mapping[str, Any]) -> None:
        ...

    def manager_of(self, user_id: str) -> str | None:
        ...

    def notify(self, user_ids: Sequence[str], *, title: str, body: str | None = None,
               object_name: str | None = None, record_id: str | None = None, key: str) -> list[str]:
        ...


class LifecycleContext(Protocol):
    """What install, upgrade and uninstall hooks may use, inside the change's transaction."""

    tenant_slug: str
    plugin: str

    def create(self, object_name: str, rows: Sequence[Mapping[str, Any]]) -> list[str]:
        """Create records (e.g. reference data) in the same transaction as the install."""
        ...
