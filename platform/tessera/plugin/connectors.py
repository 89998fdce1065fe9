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
   the provider's ``default_mapping`` unless an admin edited it), upserts it by ``match_key`` (or into
   the ``record_id`` the provider names) through
   the normal write path (validation rules, the run-as user's permissions, field history with
   channel ``connector``), skips unchanged records, and commits the page with its cursor;
4. if the provider has an ``after_page(synced, context)`` method, it is called with the page's
   ``SyncedRecord`` list in the page's transaction, before the commit (e.g. to notify users about new
   or changed records through ``context.notify``; notifications are deduplicated by key, so a page
   that is retried after a crash notifies once).

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
    record_id: str | None = None
    """The target record to write into (an account the provider matched by name gets its LEI this
    way): it gets ``key``, and another record already holding ``key`` fails this one. None: match by
    ``key`` only."""


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
    resume_cursor: str | None = None
    """When ``next_cursor`` is None: where the NEXT run starts (e.g. the feed with ``since`` = the newest
    publication date seen). None: the next run starts from the beginning."""


@dataclass(frozen=True)
class SyncedRecord:
    """One record a page wrote or found unchanged, as ``after_page`` sees it."""

    object: str
    key: str
    record_id: str
    created: bool
    changed: bool
    """True when the record was created or updated by this page (False: unchanged, skipped)."""


@dataclass(frozen=True)
class Candidate:
    """One answer of a provider's ``search``: an entity of the source a user may pick (and link)."""

    key: str
    """What ``fetch_one`` takes (an LEI)."""
    title: str
    detail: str | None = None
    """One line to tell candidates apart (jurisdiction, city, status)."""
    document: Mapping[str, Any] = field(default_factory=dict)
    """A few values for the user interface (JSON-able)."""


@dataclass(frozen=True)
class SearchPage:
    candidates: Sequence[Candidate]
    page: int
    last_page: int
    total: int | None = None


class MalformedPage(Exception):
    """Raised by ``fetch`` or ``transform`` for a page that cannot be used at all: the run fails with this
    message; pages committed before it are kept and the next run starts again at this page."""


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
                order_by: Sequence[Mapping[str, str]] | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Records of the tenant (system rights), e.g. the raw releases kept so far, or the next accounts
        to refresh; ``filter`` and ``order_by`` as in the generated API, ``limit`` defaults to all. In
        ``fetch`` and ``transform`` reads see what is committed; in ``after_page`` they also see the
        page's own writes."""
        ...

    def notify(self, user_ids: Sequence[str], *, title: str, body: str | None = None,
               object_name: str | None = None, record_id: str | None = None, key: str) -> list[str]:
        """In-app notifications, written in the page's transaction; the same ``key`` notifies each user
        once (a retried page does not notify twice). Returns the ids of the notifications added."""
        ...


class ConnectorProvider(Protocol):
    target: str
    """The object records go to (``tender``, ``account``)."""
    match_key: str
    """The target's field holding ``ExternalRecord.key`` (``ocid``, ``lei``)."""
    default_mapping: Sequence[FieldMapping]
    child_targets: Sequence[ChildTarget]
    # Optional: ``creates_records = False`` for a provider that only enriches records that exist (a
    # registry refreshing accounts): a key with no record is then logged as a failure, never created.
    # Optional, for users looking a record up in the source (``connectorSearch``, ``linkExternalRecord``):
    #   ``search(query: str, page: int, context) -> SearchPage``: candidates, a page at a time;
    #   ``fetch_one(key: str, record_id: str, context) -> ExternalRecord | RecordFailure``: the source's
    #   record ``key``, to be written into the target record ``record_id``.

    def fetch(self, cursor: str | None, context: SyncContext) -> FetchedPage:
        ...

    def transform(self, page: FetchedPage, context: SyncContext) -> Iterable[ExternalRecord | RecordFailure]:
        ...

    # Optional: ``after_page(self, synced: Sequence[SyncedRecord], context: SyncContext) -> None``
    # (see step 4 above); a Protocol cannot mark a method optional, so it is looked up by name.
