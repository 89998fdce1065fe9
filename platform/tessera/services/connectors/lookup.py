"""Users looking records up in a connector's source, and linking one to a record (a registry search).

``search_source`` asks the connector's provider for candidates, a page at a time; the caller must be
able to read the connector's target object. ``link_record`` fetches one candidate and writes it into
a record the caller may edit, through the same page writer as a sync (mapping, change detection,
child records, the provider's ``after_page``), in one transaction, as the caller with channel
``connector`` — so field history shows both who linked it and that the source changed it. The
source is read before that transaction begins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from tessera.core.errors import (
    ErrorCode,
    Forbidden,
    NotFound,
    SourceUnavailable,
    TesseraError,
    ValidationError,
)
from tessera.model.access import Action
from tessera.plugin import ExternalRecord, FieldMapping, RecordFailure, SearchPage
from tessera.services.connectors.instances import provider_spec, runtime_config
from tessera.services.connectors.sync import SyncContextImpl
from tessera.services.connectors.upsert import PageWriter
from tessera.services.records.read import RecordReader
from tessera.services.records.write import RecordWriter
from tessera.services.runtime import Actor, Runtime
from tessera.storage.system_tables import connectors

MAX_QUERY = 200


@dataclass(frozen=True)
class LinkResult:
    record_id: str
    key: str
    changed: bool
    """False when the record already held exactly what the source says."""
    counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    """{object: {created, updated, unchanged, failed}}, child records (risk events) included."""


def _connector(rt: Runtime, actor: Actor, name: str, method: str) -> tuple[Any, Any, Any, Any]:
    """(row, spec, provider, context) of an active connector whose provider has ``method``."""
    with rt.read(actor.tenant) as conn:
        row = conn.execute(sa.select(connectors).where(connectors.c.tenant_id == actor.tenant.id,
                                                       connectors.c.name == name)).first()
        if row is None:
            raise NotFound(f"no connector '{name}'", field="name")
        model = rt.model(conn, actor.tenant)
    obj = model.meta.object(row.target_object)
    if obj is None or not actor.access.can(obj, Action.READ):
        raise Forbidden(f"you may not read {row.target_object}", field="name")
    if not row.active:
        raise ValidationError(f"connector '{name}' is inactive", field="name")
    spec = provider_spec(rt, row.plugin, row.provider)[1]
    config = runtime_config(rt, actor.tenant.id, row)
    provider = spec.factory(dict(config))
    if not callable(getattr(provider, method, None)):
        raise ValidationError(f"connector '{name}' ({row.plugin}/{row.provider}) cannot look records up in its "
                              "source", field="name")
    context = SyncContextImpl(rt, None, model, actor.tenant, row, config, spec.rate_limit)
    return row, spec, provider, context


def _source_call(name: str, call: Any) -> Any:
    try:
        return call()
    except TesseraError:
        raise
    except Exception as exc:  # the provider's HTTP, its parsing: the source is at fault, not the caller
        raise SourceUnavailable(f"connector '{name}': {exc}", field="name") from None


def search_source(rt: Runtime, actor: Actor, name: str, query: str, page: int = 1) -> SearchPage:
    """Candidates for ``query`` in the source of connector ``name`` (its provider's ``search``)."""
    query = (query or "").strip()
    if not query or len(query) > MAX_QUERY:
        raise ValidationError(f"query: give 1 to {MAX_QUERY} characters", field="query")
    if page < 1:
        raise ValidationError("page: pages count from 1", field="page")
    _, _, provider, context = _connector(rt, actor, name, "search")
    result: SearchPage = _source_call(name, lambda: provider.search(query, page, context))
    return result


def link_record(rt: Runtime, actor: Actor, name: str, key: str, record_id: str) -> LinkResult:
    """Write the source's record ``key`` into the target record ``record_id`` (the caller must be able to
    edit it), with what the provider brings along (child records, notifications)."""
    key = (key or "").strip()
    if not key:
        raise ValidationError("key: name the source's record", field="key")
    row, _, provider, context = _connector(rt, actor, name, "fetch_one")
    with rt.read(actor.tenant) as conn:  # a record the caller cannot see is not told apart from none
        reader = RecordReader(conn, rt.model(conn, actor.tenant), rt.config.limits, actor.access)
        if not reader.rows(row.target_object, ["id"], filter={"id": {"eq": record_id}}):
            raise NotFound(f"no {row.target_object} {record_id}", field="record")
    item: ExternalRecord | RecordFailure = _source_call(name, lambda: provider.fetch_one(key, record_id, context))
    if isinstance(item, RecordFailure):
        raise ValidationError(item.reason, field="key")
    if item.record_id != record_id:
        raise ValidationError(f"connector '{name}' answered for another record", field="record")
    with rt.write(actor.tenant) as conn:
        model = rt.model(conn, actor.tenant)
        context.begin_writing(conn, model)
        writer = RecordWriter(conn, model, Actor(actor.tenant, actor.user_id, "connector", actor.access),
                              rt.config.limits, rt.plugins)
        mapping = [FieldMapping(**m) for m in row.mapping] if row.mapping else list(provider.default_mapping)
        result = PageWriter(writer, row.id, row.target_object, row.match_key, mapping, provider.child_targets,
                            creates=False).write([item])
        failed = [s for s in result.samples if s["object"] == row.target_object]
        if failed:
            raise _refusal(failed[0])
        after_page = getattr(provider, "after_page", None)
        if after_page is not None:
            after_page(result.synced, context)
    mine = result.counts.get(row.target_object, {})
    return LinkResult(record_id, item.key, bool(mine.get("updated")), result.counts)


def _refusal(sample: Mapping[str, Any]) -> TesseraError:
    """The write's own refusal: a permission stays FORBIDDEN, a rule or a duplicate a VALIDATION_ERROR."""
    kinds: Mapping[str, type[TesseraError]] = {ErrorCode.FORBIDDEN: Forbidden, ErrorCode.NOT_FOUND: NotFound}
    return kinds.get(sample.get("code") or "", ValidationError)(sample["reason"], field="record")

