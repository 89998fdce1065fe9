"""The ``connector.sync`` job: one page of one run, committed with its cursor.

Each job fetches the page at the connector's cursor, transforms and writes it (``upsert``), lets
the provider react (``after_page``), moves the cursor, counts the page into the run, and queues the
next page — all in the job's one transaction, which commits with the job's DONE mark. A worker that
dies mid-page leaves nothing of that page behind; the retried job starts again at the same cursor.
The source is read before that transaction takes any lock (a slow source never blocks other
writers); the cursor is checked again under lock before the page is written.

A page the provider cannot read (``MalformedPage``, an HTTP source failing after its retries, any
error of the provider's own code) ends the run FAILED with the reason, keeping the pages before it;
the cursor stays on that page, so the next run tries it again. A failure while writing (the
database) is retried by the job system; the run fails when the attempts are spent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import sqlalchemy as sa

from tessera.core.errors import TesseraError
from tessera.model.access import SYSTEM
from tessera.model.registry import TenantModel, TenantRef
from tessera.plugin import FetchedPage, FieldMapping
from tessera.services.automation.notifications import notify
from tessera.services.automation.outbox import JobContext, enqueue, failure_text, job_kind
from tessera.services.connectors.http import ConnectorHttpClient, Credentials, HttpSettings, limiter
from tessera.services.connectors.instances import cursor_text, provider_spec, runtime_config
from tessera.services.connectors.runs import (
    FAILED,
    RUNNING,
    SUCCEEDED,
    SYNC_JOB,
    add_page,
    finish_run,
    page_key,
)
from tessera.services.connectors.upsert import PageWriter
from tessera.services.outbound import check_url
from tessera.services.records.read import RecordReader
from tessera.services.records.write import RecordWriter
from tessera.services.runtime import Actor, Runtime
from tessera.storage.system_tables import connector_runs, connectors, users

log = logging.getLogger("tessera.connectors")


class SyncContextImpl:
    """``tessera.plugin.SyncContext`` for one page."""

    def __init__(self, rt: Runtime, conn: sa.Connection | None, model: TenantModel, tenant: TenantRef, connector: Any,
                 config: Mapping[str, Any], rate_limit: float | None) -> None:
        self._rt = rt
        self._conn = conn
        self._model = model
        self._tenant = tenant
        self._connector = connector
        self.tenant_slug = tenant.slug
        self.config = config
        self.writing = False
        rate = config.get("requestsPerSecond", rate_limit)  # a mirror or a paid plan may allow more
        self.http = ConnectorHttpClient(
            HttpSettings.from_config(config), limiter(connector.provider, rate),
            credentials=Credentials.from_config(config),
            guard=partial(check_url, allow_private=rt.config.allow_private_networks))

    def begin_writing(self, conn: sa.Connection, model: TenantModel) -> None:
        """From now on (``after_page``) reads and notifications go through the writing transaction."""
        self._conn, self._model, self.writing = conn, model, True

    def records(self, object_name: str, *, fields: Sequence[str], filter: Mapping[str, Any] | None = None,
                order_by: Sequence[Mapping[str, str]] | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        if self.writing:  # after_page: the page's own writes are part of what it reads
            return RecordReader(self._conn, self._model, self._rt.config.limits, SYSTEM).rows(
                object_name, fields, filter=filter, order_by=order_by, limit=limit)
        # NOTE: before the page is written, a connection of its own, closed before the provider goes on:
        # ``fetch`` reads records and then waits on the source, and a read left open on SQLite would
        # hold back every other writer's commit for that long.
        with self._rt.read(self._tenant) as conn:
            reader = RecordReader(conn, self._model, self._rt.config.limits, SYSTEM)
            return reader.rows(object_name, fields, filter=filter, order_by=order_by, limit=limit)

    def notify(self, user_ids: Sequence[str], *, title: str, body: str | None = None, object_name: str | None = None,
               record_id: str | None = None, key: str) -> list[str]:
        return notify(self._conn, self._tenant.id, user_ids, title=title, body=body, object_name=object_name,
                      record_id=record_id, source=f"connector:{self._connector.name}",
                      key=f"connector:{self._connector.id}:{key}")


def _failure(exc: BaseException) -> str:
    message = exc.message if isinstance(exc, TesseraError) else str(exc)
    return f"{type(exc).__name__}: {message}"


def _on_error(conn: sa.Connection, row: Mapping[str, Any], error: Exception, final: bool) -> None:
    payload = row["payload"]
    if final:
        finish_run(conn, payload["runId"], FAILED, f"page {payload['page']}: {failure_text(error)}")


@job_kind(SYNC_JOB, on_error=_on_error)
def sync_page(ctx: JobContext) -> None:
    assert ctx.tenant is not None
    tenant, payload = ctx.tenant, ctx.payload
    run_id, number = payload["runId"], payload["page"]
    # NOTE: the source is read before the job's transaction touches the database: a slow source (or
    # a Retry-After wait) must not hold SQLite's locks. The cursor read here is checked again, under
    # lock, before anything is written.
    with ctx.rt.read(tenant) as peek:
        status = peek.execute(sa.select(connector_runs.c.status).where(connector_runs.c.id == run_id)).scalar()
        connector = peek.execute(sa.select(connectors).where(
            connectors.c.id == payload["connectorId"], connectors.c.tenant_id == tenant.id)).first()
        if status != RUNNING or connector is None:
            return  # the run ended (or the connector was deleted) while this job waited
        model = ctx.rt.model(peek, tenant)  # immutable: usable on the job's connection too
        problem = _unrunnable(ctx.rt, peek, model, tenant, connector)
    if problem is not None:
        finish_run(ctx.conn, run_id, FAILED, problem)
        return
    spec = provider_spec(ctx.rt, connector.plugin, connector.provider)[1]
    config = runtime_config(ctx.rt, tenant.id, connector)
    try:  # a configuration saved before today's checks may be refused here: that fails the run too
        context = SyncContextImpl(ctx.rt, ctx.conn, model, tenant, connector, config, spec.rate_limit)
        provider = spec.factory(dict(config))
        page = provider.fetch(connector.cursor, context)
        items = list(provider.transform(page, context))
    except Exception as exc:  # whatever the provider raises fails the run clearly; earlier pages stay
        error = f"page {number}: {_failure(exc)}"
        log.warning("connector page failed", extra={"connector": connector.name, "tenant": tenant.slug,
                                                    "error": error})
        finish_run(ctx.conn, run_id, FAILED, error)
        return
    _write_page(ctx, connector, provider, context, model, page, items)


def _write_page(ctx: JobContext, peeked: Any, provider: Any, context: SyncContextImpl, model: TenantModel,
                page: FetchedPage, items: list[Any]) -> None:
    """Write the page, move the cursor, count the page, queue the next one (the job's transaction)."""
    conn, tenant, payload = ctx.conn, ctx.tenant, ctx.payload
    assert tenant is not None
    run_id, number = payload["runId"], payload["page"]
    query = sa.select(connectors).where(connectors.c.id == peeked.id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()  # one page of a connector at a time, whatever the workers
    connector = conn.execute(query).first()
    status = conn.execute(sa.select(connector_runs.c.status).where(connector_runs.c.id == run_id)).scalar()
    if connector is None or status != RUNNING:
        return
    if connector.cursor != peeked.cursor:
        raise RuntimeError("the connector's cursor moved while this page was read; the page is read again")
    context.begin_writing(conn, model)
    access = ctx.rt.access(conn, tenant, connector.run_as)
    writer = RecordWriter(conn, model, Actor(tenant, connector.run_as, "connector", access), ctx.rt.config.limits,
                          ctx.rt.plugins)
    mapping = [FieldMapping(**m) for m in connector.mapping] if connector.mapping else list(provider.default_mapping)
    result = PageWriter(writer, connector.id, connector.target_object, connector.match_key, mapping,
                        provider.child_targets, creates=getattr(provider, "creates_records", True)).write(items)
    after_page = getattr(provider, "after_page", None)
    if after_page is not None:
        after_page(result.synced, context)
    cursor = page.next_cursor if page.next_cursor is not None else page.resume_cursor
    conn.execute(connectors.update().where(connectors.c.id == connector.id).values(cursor=cursor_text(cursor)))
    add_page(conn, run_id, result.counts, connector.target_object,
             [{"page": number, "source": page.source, **s} for s in result.samples])
    log.info("connector page synced", extra={"connector": connector.name, "tenant": tenant.slug, "page": number,
                                             "counts": result.counts, "requests": context.http.requests})
    if page.next_cursor is not None:
        key = page_key(run_id, number + 1)
        enqueue(conn, tenant_id=tenant.id, kind=SYNC_JOB, key=key,
                payload={"connectorId": connector.id, "runId": run_id, "page": number + 1})
        conn.execute(connector_runs.update().where(connector_runs.c.id == run_id).values(job_key=key))
    else:
        finish_run(conn, run_id, SUCCEEDED)


def _unrunnable(rt: Runtime, conn: sa.Connection, model: TenantModel, tenant: TenantRef, connector: Any) -> str | None:
    if connector.plugin not in model.meta.plugins:
        return f"plugin {connector.plugin} is not installed in this tenant"
    if connector.provider not in rt.plugins.keyed.get("register_connectors", {}):
        return f"no connector provider '{connector.provider}' in this process (is its plugin installed?)"
    if model.meta.object(connector.target_object) is None:
        return f"no object '{connector.target_object}'"
    if connector.run_as is None or not conn.execute(sa.select(users.c.is_active).where(
            users.c.id == connector.run_as, users.c.tenant_id == tenant.id)).scalar():
        return "the connector's run-as user is gone or inactive: set another with updateConnector"
    return None

