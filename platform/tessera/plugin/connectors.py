"""The connector contract: what a connector plugin's provider implements, and what it is given.

A connector plugin returns ``ConnectorSpec(key, description, factory)`` from ``register_connectors``;
``factory(config)`` builds a ``ConnectorProvider`` for one connector instance (a tenant's configured
connection: source URL or path, credentials, schedule, field mapping). Tessera's sync framework then
runs, page by page:

1. ``provider.fetch(cursor, context)`` → a ``FetchedPage`` (raw items and the next cursor); HTTP goes
   through ``context.http``, which applies timeouts, retries with exponential backoff on 429/5xx
   honouring ``Retry-After``, and the provider's rate limit;
2. ``provider.transform(page, context)`` → ``ExternalRecord`` per record (or ``RecordFailure`` for an
   item it cannot use: logged, and the sync goes on);
3. the framework maps each record's ``document`` to fields (the connector's ``FieldMapping`` list,
   the provider's ``default_mapping`` unless an admin edited it), upserts it by ``match_key`` through
   the normal write path (validation rules, the run-as user's permissions, field history with
   channel ``connector``), skips unchanged records, and commits the page with its cursor.

Nothing here refers to Tessera's internals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

TRANSFORMS = ("text", "number", "integer", "date", "datetime", "boolean", "upper", "lower", "join", "first", "json")
"""Transforms a mapping may apply to the value found at its path (see docs/connectors.md)."""


@dataclass(frozen=True)
class FieldMapping:
    """Copy the value at ``path`` of an external document (dotted keys, numeric list indices:
    ``tender.items.0.classification.id``) into ``field``, through an optional transform."""

    field: str
    path: str
    transform: str | None = None


@dataclass(frozen=True)
class ChildTarget:
    """Records a parent record brings along (an OCDS process's awards): upserted into ``object`` by
    ``match_key``, linked to the parent through the lookup ``link_field``."""

    object: str
    link_field: str
    match_key: str
    mapping: Sequence[FieldMapping]


@dataclass(frozen=True)
class ExternalRecord:
    """One record of the source, keyed by ``key`` (the value of the provider's ``match_key``)."""

    key: str
    document: Mapping[str, Any]
    """What the field mapping reads (e.g. an OCDS compiled release, a GLEIF LEI record)."""
    children: Mapping[str, Sequence[tuple[str, Mapping[str, Any]]]] = field(default_factory=dict)
    """Child object name → (child key, child document) pairs, for the provider's ``child_targets``."""


@dataclass(frozen=True)
class RecordFailure:
    """An item of a page the provider could not turn into a record (it is logged; the sync goes on)."""

    key: str | None
    reason: str


@dataclass(frozen=True)
class FetchedPage:
    items: Sequence[Any]
    next_cursor: str | None
    """Where the next fetch starts; None when the source has nothing more for now."""
    source: str
    """The URL or path this page came from (for the run log)."""


class ConnectorHttp(Protocol):
    """HTTP for providers, with Tessera's timeouts, retries and rate limit."""

    def get_json(self, url: str, *, params: Mapping[str, str] | None = None,
                 headers: Mapping[str, str] | None = None) -> Any:
        """GET ``url`` and decode its JSON body; raises a clear error after the retries are spent."""
        ...


class SyncContext(Protocol):
    """What a provider may use during a sync."""

    tenant_slug: str
    config: Mapping[str, Any]
    """The connector's configuration, credentials included (decrypted for this run only)."""
    http: ConnectorHttp

    def records(self, object_name: str, *, fields: Sequence[str], filter: Mapping[str, Any] | None = None,
                order_by: Sequence[Mapping[str, str]] | None = None) -> list[dict[str, Any]]:
        """Records of the tenant (system rights), e.g. the raw releases kept so far."""
        ...


class ConnectorProvider(Protocol):
    target: str
    """The object records go to (``tender``, ``account``)."""
    match_key: str
    """The target's field holding ``ExternalRecord.key`` (``ocid``, ``lei``)."""
    default_mapping: Sequence[FieldMapping]
    child_targets: Sequence[ChildTarget]

    def fetch(self, cursor: str | None, context: SyncContext) -> FetchedPage:
        ...

    def transform(self, page: FetchedPage, context: SyncContext) -> Iterable[ExternalRecord | RecordFailure]:
        ...
