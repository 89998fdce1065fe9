"""Report and dashboard root fields: ``runReport``, ``report``, ``reports``, ``reportSnapshots``,
``dashboard``, ``dashboards``, ``reportSettings``, and the mutations changing them (administrators)."""

from __future__ import annotations

from typing import Any

import graphene

from tessera.api.inputs import plain, service_mutation
from tessera.api.reports.types import (
    Dashboard,
    DashboardInput,
    Report,
    ReportDefinitionInput,
    ReportInput,
    ReportResult,
    ReportSettings,
    ReportSettingsInput,
    ReportSnapshot,
    dashboard_out,
)
from tessera.api.scalars import JSON
from tessera.api.security.schema import DeleteByNameInput
from tessera.core.errors import ValidationError
from tessera.model.access import Action
from tessera.services.reports import dashboards as dashboard_service
from tessera.services.reports import saved as report_service
from tessera.services.reports.run import run_report, run_saved
from tessera.services.reports.settings import get_report_settings, update_report_settings
from tessera.services.reports.snapshots import list_snapshots


def _params(value: Any) -> dict[str, Any] | None:
    if value is not None and not isinstance(value, dict):
        raise ValidationError("params: an object of parameter values", field="params")
    return value


class ReportQuery(graphene.ObjectType):
    run_report = graphene.Field(
        graphene.NonNull(ReportResult), name="runReport", definition=ReportDefinitionInput(),
        type=graphene.String(description="A plugin's report type (its definition and params are its own)."),
        params=JSON(), description="Run a report definition (or a plugin report type) with your access.")
    report = graphene.Field(graphene.NonNull(ReportResult), name=graphene.String(required=True), params=JSON(),
                            description="Run a saved report with your access.")
    reports = graphene.List(graphene.NonNull(Report), required=True, object=graphene.String(),
                            description="Saved reports on objects you may read.")
    report_snapshots = graphene.List(
        graphene.NonNull(ReportSnapshot), required=True, name="reportSnapshots",
        args={"name": graphene.String(required=True), "first": graphene.Int(default_value=50)},
        description="A saved report's stored snapshots, newest first (administrators, or shown on a "
                    "dashboard shared with you).")
    dashboard = graphene.Field(Dashboard, name=graphene.String(required=True), filters=JSON(
        description="Values of the dashboard's filters by name (default: their stored values)."),
        description="A dashboard shared with you; widgets are computed with your access.")
    dashboards = graphene.List(graphene.NonNull(Dashboard), required=True,
                               description="Dashboards shared with your role (all, for administrators).")
    report_settings = graphene.Field(graphene.NonNull(ReportSettings), name="reportSettings")

    @staticmethod
    def resolve_run_report(root: Any, info: Any, definition: Any = None, type: str | None = None,
                           params: Any = None) -> Any:
        if definition is None and type is None:
            raise ValidationError("definition: give a definition or a report type", field="definition")
        ctx = info.context
        data = None if definition is None else plain(dict(definition))
        return run_report(ctx.rt, ctx.actor, data, type=type, params=_params(params))

    @staticmethod
    def resolve_report(root: Any, info: Any, name: str, params: Any = None) -> Any:
        ctx = info.context
        return run_saved(ctx.rt, ctx.actor, name, _params(params))

    @staticmethod
    def resolve_reports(root: Any, info: Any, object: str | None = None) -> Any:
        ctx = info.context
        meta = ctx.model.meta
        found = report_service.list_reports(ctx.rt, ctx.actor)
        readable = [r for r in found if meta.object(r.object) is not None and ctx.access.can(r.object, Action.READ)]
        return [r for r in readable if object is None or r.object == object]

    @staticmethod
    def resolve_report_snapshots(root: Any, info: Any, name: str, first: int) -> Any:
        ctx = info.context
        return list_snapshots(ctx.rt, ctx.actor, name, first)

    @staticmethod
    def resolve_dashboard(root: Any, info: Any, name: str, filters: Any = None) -> Any:
        ctx = info.context
        if filters is not None and not isinstance(filters, dict):
            raise ValidationError("filters: an object of filter values", field="filters")
        board = dashboard_service.get_dashboard(ctx.rt, ctx.actor, name)
        return dashboard_out(ctx, board, dashboard_service.filter_values(board, filters))

    @staticmethod
    def resolve_dashboards(root: Any, info: Any) -> Any:
        ctx = info.context
        return [dashboard_out(ctx, b, dashboard_service.filter_values(b, None))
                for b in dashboard_service.list_dashboards(ctx.rt, ctx.actor)]

    @staticmethod
    def resolve_report_settings(root: Any, info: Any) -> Any:
        ctx = info.context
        return get_report_settings(ctx.rt, ctx.actor)


class _Out:
    """What a dashboard mutation returns: the dashboard, its widgets computed for the caller."""

    def __init__(self, rt: Any, actor: Any, board: Any) -> None:
        self.rt, self.actor, self.board = rt, actor, board


def _resolve_out(out: _Out) -> Any:
    return dashboard_out(out, out.board, dashboard_service.filter_values(out.board, None))


def _create_dashboard(rt: Any, actor: Any, data: dict[str, Any]) -> Any:
    return _resolve_out(_Out(rt, actor, dashboard_service.create_dashboard(rt, actor, data)))


def _update_dashboard(rt: Any, actor: Any, data: dict[str, Any]) -> Any:
    return _resolve_out(_Out(rt, actor, dashboard_service.update_dashboard(rt, actor, data)))


def _delete_dashboard(rt: Any, actor: Any, data: dict[str, Any]) -> Any:
    return _resolve_out(_Out(rt, actor, dashboard_service.delete_dashboard(rt, actor, data)))


class ReportMutation(graphene.ObjectType):
    create_report = service_mutation(report_service.create_report, ReportInput, Report,
                                     "Save a report definition (administrators).")
    update_report = service_mutation(report_service.update_report, ReportInput, Report,
                                     "Change a saved report: the keys given.")
    delete_report = service_mutation(report_service.delete_report, DeleteByNameInput, Report,
                                     "Delete a saved report (and its snapshots).")
    create_dashboard = service_mutation(_create_dashboard, DashboardInput, Dashboard,
                                        "Create a dashboard (administrators).")
    update_dashboard = service_mutation(_update_dashboard, DashboardInput, Dashboard,
                                        "Change a dashboard: the keys given (roles replace its sharing).")
    delete_dashboard = service_mutation(_delete_dashboard, DeleteByNameInput, Dashboard, "Delete a dashboard.")
    update_report_settings = service_mutation(update_report_settings, ReportSettingsInput, ReportSettings,
                                              "Set the tenant's report time zone and fiscal-year start (administrators).")
