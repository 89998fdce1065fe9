"""Dashboards: create, update, delete (administrators), list and show to the roles they are shared
with, each widget's result computed for the viewer with the dashboard-level filters applied.

A dashboard-level filter applies to every widget whose source object has the filter's first path
segment as a field (``closeDate``, ``account.industry``); other widgets are left as they are. A
widget that fails for the viewer (e.g. it groups by a field they may not read) reports its error
instead of failing the whole dashboard.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.core.errors import Conflict, NotFound, TesseraError, ValidationError
from tessera.core.ids import new_id
from tessera.model.names import check_name
from tessera.model.records.query import SYSTEM_FILTER_FIELDS
from tessera.model.reports.dashboard import (
    DashboardFilter,
    Widget,
    filter_for,
    filter_json,
    kpi_status,
    parse_filters,
    parse_widgets,
    widget_json,
    with_filter,
)
from tessera.model.reports.result import ReportResult
from tessera.services.audit import log_event
from tessera.services.reports.run import compile_for, run_definition, saved_definition
from tessera.services.reports.saved import _admin, system_actor
from tessera.services.runtime import Actor, Runtime
from tessera.storage.system_tables import dashboard_roles, dashboards, reports, roles


@dataclass(frozen=True)
class Dashboard:
    id: str
    name: str
    labels: Mapping[str, str]
    description: str | None
    filters: tuple[DashboardFilter, ...]
    widgets: tuple[Widget, ...]
    roles: tuple[str, ...]
    """Names of the roles it is shared with."""
    origin: str
    updated_at: datetime


@dataclass
class WidgetView:
    widget: Widget
    result: ReportResult | None = None
    error: dict[str, Any] | None = None
    kpi: dict[str, Any] | None = None


@dataclass
class DashboardView:
    dashboard: Dashboard
    filter_values: dict[str, Any] = field(default_factory=dict)
    widgets: list[WidgetView] = field(default_factory=list)


def _labels(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    return {"en": value} if isinstance(value, str) else dict(value)


def _load(conn: sa.Connection, tenant_id: str, name: str | None = None) -> list[Dashboard]:
    query = sa.select(dashboards).where(dashboards.c.tenant_id == tenant_id).order_by(dashboards.c.name)
    if name is not None:
        query = query.where(dashboards.c.name == name)
    rows = conn.execute(query).all()
    shared: dict[str, list[str]] = {}
    if rows:
        pairs = conn.execute(sa.select(dashboard_roles.c.dashboard_id, roles.c.name)
                             .join(roles, roles.c.id == dashboard_roles.c.role_id)
                             .where(dashboard_roles.c.dashboard_id.in_([r.id for r in rows])).order_by(roles.c.name))
        for dashboard_id, role in pairs:
            shared.setdefault(dashboard_id, []).append(role)
    return [Dashboard(r.id, r.name, r.labels or {}, r.description, parse_filters(r.filters), parse_widgets(r.widgets),
                      tuple(shared.get(r.id, ())), r.origin, r.updated_at) for r in rows]


def _visible(actor: Actor, dashboard: Dashboard, role_names: Mapping[str, str]) -> bool:
    if actor.access.profile.is_admin:
        return True
    role = role_names.get(actor.access.role_id or "")
    return role is not None and role in dashboard.roles


def _role_names(conn: sa.Connection, tenant_id: str) -> dict[str, str]:
    return dict(conn.execute(sa.select(roles.c.id, roles.c.name).where(roles.c.tenant_id == tenant_id)).all())


def list_dashboards(rt: Runtime, actor: Actor) -> list[Dashboard]:
    """The dashboards shared with the caller's role (all of them for administrators)."""
    with rt.db.system.connect() as conn:
        found = _load(conn, actor.tenant.id)
        names = _role_names(conn, actor.tenant.id)
    return [d for d in found if _visible(actor, d, names)]


def get_dashboard(rt: Runtime, actor: Actor, name: str) -> Dashboard:
    """One dashboard; one not shared with the caller is not found (its existence is not revealed)."""
    with rt.db.system.connect() as conn:
        found = _load(conn, actor.tenant.id, name)
        names = _role_names(conn, actor.tenant.id)
    if not found or not _visible(actor, found[0], names):
        raise NotFound(f"name: no dashboard '{name}'", field="name")
    return found[0]


# --- writing ---------------------------------------------------------------------------------------
def _check_widgets(rt: Runtime, actor: Actor, conn: sa.Connection, widgets: tuple[Widget, ...]) -> None:
    """Every widget's report exists and compiles; a KPI's measure is one of its measures."""
    system = system_actor(actor)
    for i, widget in enumerate(widgets):
        where = f"widgets.{i}"
        if widget.report is not None:
            exists = conn.execute(sa.select(reports.c.definition).where(
                reports.c.tenant_id == actor.tenant.id, reports.c.name == widget.report)).first()
            if exists is None:
                raise ValidationError(f"{where}.report: no report '{widget.report}'", field=f"{where}.report")
            data = exists.definition
        else:
            data = widget.definition or {}
        try:
            with rt.read(actor.tenant) as read:
                compiled = compile_for(rt, system, read, data, widget.params)
        except ValidationError as exc:
            raise ValidationError(f"{where}: {exc.message}", field=f"{where}.{exc.field or 'definition'}") from None
        if widget.measure is not None and widget.measure not in {m.alias for m in compiled.measures}:
            raise ValidationError(f"{where}.measure: the report has no measure '{widget.measure}'",
                                  field=f"{where}.measure")


def _role_ids(conn: sa.Connection, tenant_id: str, names: Any) -> list[str]:
    if names is None:
        return []
    if not isinstance(names, list | tuple):
        raise ValidationError("roles: a list of role names", field="roles")
    by_name = {v: k for k, v in _role_names(conn, tenant_id).items()}
    ids = []
    for i, name in enumerate(names):
        if name not in by_name:
            raise ValidationError(f"roles.{i}: no role '{name}'", field=f"roles.{i}")
        ids.append(by_name[name])
    return sorted(set(ids))


def save_dashboard_in(conn: sa.Connection, rt: Runtime, actor: Actor, data: Mapping[str, Any], *, create: bool,
                      origin: str = "custom") -> None:
    name = check_name(data.get("name"), what="dashboard")
    existing = conn.execute(sa.select(dashboards).where(dashboards.c.tenant_id == actor.tenant.id,
                                                        dashboards.c.name == name)).first()
    if create and existing is not None:
        raise Conflict(f"name: a dashboard '{name}' exists", field="name")
    if not create and existing is None:
        raise NotFound(f"name: no dashboard '{name}'", field="name")
    values: dict[str, Any] = {"updated_at": utcnow()}
    if create or "widgets" in data:
        widgets = parse_widgets(data.get("widgets"))
        _check_widgets(rt, actor, conn, widgets)
        values["widgets"] = [widget_json(w) for w in widgets]
    if create or "filters" in data:
        values["filters"] = [filter_json(f) for f in parse_filters(data.get("filters"))]
    if create or "label" in data:
        values["labels"] = _labels(data.get("label"))
    if create or "description" in data:
        values["description"] = data.get("description")
    if create:
        dashboard_id = new_id()
        conn.execute(dashboards.insert().values(id=dashboard_id, tenant_id=actor.tenant.id, name=name, origin=origin,
                                                created_by=actor.user_id, created_at=values["updated_at"], **values))
    else:
        dashboard_id = existing.id
        conn.execute(dashboards.update().where(dashboards.c.id == dashboard_id).values(**values))
    if create or "roles" in data:
        role_ids = _role_ids(conn, actor.tenant.id, data.get("roles"))
        conn.execute(dashboard_roles.delete().where(dashboard_roles.c.dashboard_id == dashboard_id))
        if role_ids:
            conn.execute(dashboard_roles.insert(), [{"dashboard_id": dashboard_id, "role_id": r} for r in role_ids])
    log_event(conn, actor.tenant.id, "metadata", target=f"dashboard {name}", user_id=actor.user_id,
              details={"after": {k: v for k, v in values.items() if k != "updated_at"}, "roles": data.get("roles")})


def create_dashboard(rt: Runtime, actor: Actor, data: dict[str, Any]) -> Dashboard:
    _admin(actor)
    with rt.db.system.begin() as conn:
        save_dashboard_in(conn, rt, actor, data, create=True)
    return get_dashboard(rt, actor, data["name"])


def update_dashboard(rt: Runtime, actor: Actor, data: dict[str, Any]) -> Dashboard:
    """Change the keys given (``roles`` replaces the sharing)."""
    _admin(actor)
    with rt.db.system.begin() as conn:
        save_dashboard_in(conn, rt, actor, data, create=False)
    return get_dashboard(rt, actor, data["name"])


def delete_dashboard(rt: Runtime, actor: Actor, data: dict[str, Any]) -> Dashboard:
    _admin(actor)
    found = get_dashboard(rt, actor, str(data.get("name")))
    with rt.db.system.begin() as conn:
        conn.execute(dashboards.delete().where(dashboards.c.id == found.id))
        log_event(conn, actor.tenant.id, "metadata", target=f"dashboard {found.name}", user_id=actor.user_id,
                  details={"before": {"widgets": [widget_json(w) for w in found.widgets]}})
    return found


# --- viewing ---------------------------------------------------------------------------------------
def widget_definition(rt: Runtime, actor: Actor, widget: Widget) -> dict[str, Any]:
    data = saved_definition(rt, actor, widget.report) if widget.report else dict(widget.definition or {})
    if widget.chart is not None:
        data["chart"] = dict(widget.chart)
    return data


def _applies(rt: Runtime, actor: Actor, object_name: Any, path: str) -> bool:
    with rt.read(actor.tenant) as conn:
        obj = rt.model(conn, actor.tenant).meta.object(str(object_name))
    head = path.split(".")[0]
    return obj is not None and (obj.field(head) is not None or head in SYSTEM_FILTER_FIELDS)


def kpi_value(result: ReportResult, measure: str) -> Any:
    """A KPI card's figure: the measure's total (a report without groupings has one row, the same)."""
    return result.totals.get(measure)


def filter_values(dashboard: Dashboard, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """Each dashboard filter's value: the one given, else its default."""
    given = dict(given or {})
    for key in given:
        if all(f.name != key for f in dashboard.filters):
            raise ValidationError(f"filters.{key}: the dashboard has no such filter", field=f"filters.{key}")
    return {f.name: given.get(f.name, f.value) for f in dashboard.filters}


def widget_view(rt: Runtime, actor: Actor, dashboard: Dashboard, values: Mapping[str, Any], widget: Widget
                ) -> WidgetView:
    """One widget's result for ``actor``, with the dashboard's filters applied; errors are kept."""
    shown = WidgetView(widget)
    try:
        data = widget_definition(rt, actor, widget)
        for item in dashboard.filters:
            if values.get(item.name) is not None and _applies(rt, actor, data.get("object"), item.field):
                data = with_filter(data, filter_for(item.field, item.operator, values[item.name]))
        shown.result = run_definition(rt, actor, data, widget.params)
    except TesseraError as exc:
        shown.error = {"message": exc.message, **exc.extensions()}
    if shown.result is not None and widget.type == "KPI" and widget.measure is not None:
        value = kpi_value(shown.result, widget.measure)
        shown.kpi = {"value": value, "target": None if widget.target is None else str(widget.target),
                     "status": kpi_status(value, widget)}
    return shown


def view_dashboard(rt: Runtime, actor: Actor, name: str, given: Mapping[str, Any] | None = None) -> DashboardView:
    """The dashboard with each widget's result for ``actor`` (``given`` filter values override the defaults)."""
    dashboard = get_dashboard(rt, actor, name)
    values = filter_values(dashboard, given)
    return DashboardView(dashboard, values, [widget_view(rt, actor, dashboard, values, w) for w in dashboard.widgets])
