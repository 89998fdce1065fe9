"""Running reports: ad hoc (a definition) or saved (by name, with runtime parameters), or a plugin's
report type. One statement per report, executed with the caller's access."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.core.errors import NotFound
from tessera.model.reports import (
    ReportResult,
    Settings,
    bind_parameters,
    compile_report,
    grouped_result,
    listing_columns,
    listing_rows,
    parse_definition,
)
from tessera.model.reports.calendar import register_sqlite_functions
from tessera.model.reports.compiler import CompiledReport
from tessera.services.records.read import RecordReader
from tessera.services.runtime import Actor, Runtime
from tessera.storage.system_tables import reports, tenants


def report_settings(rt: Runtime, tenant_id: str, locale: str | None = None, *, conn: sa.Connection | None = None,
                    now: datetime | None = None) -> Settings:
    """The tenant's calendar (read on ``conn`` when given, e.g. inside a job's transaction)."""
    query = sa.select(tenants.c.timezone, tenants.c.fiscal_year_start_month).where(tenants.c.id == tenant_id)
    if conn is not None:
        row = conn.execute(query).one()
    else:
        with rt.db.system.connect() as own:
            row = own.execute(query).one()
    return Settings(timezone=row.timezone, fiscal_start=row.fiscal_year_start_month, now=now or utcnow(),
                    locale=locale)


def compile_for(rt: Runtime, actor: Actor, conn: sa.Connection, data: Mapping[str, Any],
                params: Mapping[str, Any] | None = None, *, unlimited: bool = False,
                settings: Settings | None = None) -> CompiledReport:
    settings = settings or report_settings(rt, actor.tenant.id)
    definition = parse_definition(bind_parameters(data, params))
    model = rt.model(conn, actor.tenant)
    fields = model.field_sql(conn.dialect.name, settings.now)
    if conn.dialect.name == "sqlite":
        register_sqlite_functions(conn.connection.driver_connection)
    return compile_report(definition, fields, actor.access, settings, unlimited=unlimited)


def run_definition(rt: Runtime, actor: Actor, data: Mapping[str, Any], params: Mapping[str, Any] | None = None,
                   settings: Settings | None = None) -> ReportResult:
    """Run a definition (its JSON form) for ``actor``."""
    with rt.read(actor.tenant) as conn:
        return result_in(rt, actor, conn, data, params, settings)


def result_in(rt: Runtime, actor: Actor, conn: sa.Connection, data: Mapping[str, Any],
              params: Mapping[str, Any] | None = None, settings: Settings | None = None) -> ReportResult:
    """Run a definition on an open connection of the tenant."""
    compiled = compile_for(rt, actor, conn, data, params, settings=settings)
    rows = conn.execute(compiled.statement)
    if not compiled.definition.grouped:
        return ReportResult(listing_columns(compiled), list(listing_rows(compiled, rows)), {},
                            {"type": "TABLE", **(compiled.definition.chart or {})})
    return grouped_result(compiled, rows.all())


def run_report(rt: Runtime, actor: Actor, definition: Mapping[str, Any] | None = None, *,
               type: str | None = None, params: Mapping[str, Any] | None = None) -> ReportResult:
    """``runReport``: a definition, or a plugin report type (installed in the tenant) with ``params``."""
    if type:
        return run_plugin_type(rt, actor, type, definition or {}, params or {})
    return run_definition(rt, actor, definition or {}, params)


def run_plugin_type(rt: Runtime, actor: Actor, key: str, definition: Mapping[str, Any],
                    params: Mapping[str, Any]) -> ReportResult:
    """A plugin's report type: ``run(tenant=, user_id=, definition=, params=, records=)`` returns the
    shared shape; ``records(object, fields, filter=...)`` reads with the caller's access."""
    found = rt.plugins.keyed["register_report_types"].get(key)
    with rt.read(actor.tenant) as conn:
        model = rt.model(conn, actor.tenant)
        if found is None or found[0] not in model.meta.plugins:
            raise NotFound(f"type: no report type '{key}' in this tenant", field="type")
        plugin, spec = found
        reader = RecordReader(conn, model, rt.config.limits, actor.access)

        def run() -> Any:
            return spec.run(tenant=actor.tenant.slug, user_id=actor.user_id, definition=dict(definition),
                            params=dict(params), records=reader.rows)

        out = rt.plugins.call_function(plugin, "register_report_types", run)
    if isinstance(out, ReportResult):
        return out
    return ReportResult(list(out.get("columns", [])), list(out.get("rows", [])), dict(out.get("totals") or {}),
                        dict(out.get("chart") or {}))


def saved_definition(rt: Runtime, actor: Actor, name: str) -> dict[str, Any]:
    with rt.db.system.connect() as conn:
        row = conn.execute(sa.select(reports.c.definition).where(
            reports.c.tenant_id == actor.tenant.id, reports.c.name == name)).first()
    if row is None:
        raise NotFound(f"name: no report '{name}'", field="name")
    return dict(row.definition)


def run_saved(rt: Runtime, actor: Actor, name: str, params: Mapping[str, Any] | None = None) -> ReportResult:
    """``report(name, params)``: a saved report run with the caller's access."""
    return run_definition(rt, actor, saved_definition(rt, actor, name), params)
