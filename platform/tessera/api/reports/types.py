"""GraphQL types of reports and dashboards: the definition input, the shared result shape, saved
reports, dashboards with their widgets (results computed for the caller when asked), snapshots and
the tenant's report settings."""

from __future__ import annotations

from typing import Any

import graphene

from tessera.api.scalars import JSON, DateTime
from tessera.model.reports.dashboard import filter_json, widget_json
from tessera.services.reports.dashboards import WidgetView, widget_view


class MeasureFunction(graphene.Enum):
    COUNT = "COUNT"
    COUNT_DISTINCT = "COUNT_DISTINCT"
    SUM = "SUM"
    AVG = "AVG"
    MIN = "MIN"
    MAX = "MAX"


class DateBucket(graphene.Enum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"
    QUARTER = "QUARTER"
    YEAR = "YEAR"
    FISCAL_QUARTER = "FISCAL_QUARTER"
    FISCAL_YEAR = "FISCAL_YEAR"


class ReportLayout(graphene.Enum):
    TABLE = "TABLE"
    MATRIX = "MATRIX"


class ReportOrderDirection(graphene.Enum):
    ASC = "ASC"
    DESC = "DESC"


class ReportGroupingInput(graphene.InputObjectType):
    field = graphene.String(required=True, description="A field path (``account.industry``).")
    bucket = DateBucket(description="For DATE and DATETIME fields, in the tenant's time zone.")


class ReportMeasureInput(graphene.InputObjectType):
    function = MeasureFunction(description="Omitted for a formula measure.")
    field = graphene.String(description="A field path; COUNT without one counts records.")
    alias = graphene.String(description="The measure's column name (default: function_field).")
    formula = graphene.String(description="Arithmetic over earlier measures' aliases (``won / total``).")
    filter = JSON(description="A structured filter: only matching records count (a conditional measure).")
    label = graphene.String()


class ReportOrderInput(graphene.InputObjectType):
    field = graphene.String(required=True, description="A grouping's field, a measure alias or a listed column.")
    direction = ReportOrderDirection(default_value="ASC")


class ReportDefinitionInput(graphene.InputObjectType):
    """A report definition (see docs/reports.md); the same keys are stored for saved reports."""

    object = graphene.String(required=True)
    columns = graphene.List(graphene.NonNull(graphene.String), description="Listed columns (no groupings).")
    filter = JSON(description="A structured filter, as the object's list field takes it.")
    expression = graphene.String(description="A filter expression (TRUE keeps the record).")
    dateRange = JSON(description="{field, range: THIS_QUARTER|LAST_N_DAYS:30|…, from, to, shiftYears}.")
    groupBy = graphene.List(graphene.NonNull(ReportGroupingInput))
    measures = graphene.List(graphene.NonNull(ReportMeasureInput))
    orderBy = graphene.List(graphene.NonNull(ReportOrderInput))
    limit = graphene.Int()
    others = graphene.Boolean(description="Fold the groups past the limit into one 'Others' row.")
    layout = ReportLayout()
    chart = JSON(description="{type: BAR|STACKED_BAR|LINE|AREA|PIE|FUNNEL|NUMBER|TABLE, …}.")
    parameters = JSON(description="[{name, type, default, required}]; values are {\"$param\": name}.")


class ReportColumn(graphene.ObjectType):
    name = graphene.String(required=True)
    label = graphene.String(required=True)
    type = graphene.String(required=True)

    @staticmethod
    def resolve_name(root: Any, info: Any) -> str:
        return root["name"]

    @staticmethod
    def resolve_label(root: Any, info: Any) -> str:
        return root["label"]

    @staticmethod
    def resolve_type(root: Any, info: Any) -> str:
        return root["type"]


class ReportResult(graphene.ObjectType):
    """The result shape of every report kind (plugin report types included)."""

    columns = graphene.List(graphene.NonNull(ReportColumn), required=True)
    rows = graphene.Field(JSON, required=True, description="A list of row lists, in column order.")
    totals = graphene.Field(JSON, required=True, description="Totals by measure alias.")
    chart = graphene.Field(JSON, required=True, description="The chart spec: type, x, series, y.")


class Report(graphene.ObjectType):
    """A saved report definition."""

    name = graphene.String(required=True)
    label = graphene.Field(JSON, required=True)
    description = graphene.String()
    object = graphene.String(required=True)
    definition = graphene.Field(JSON, required=True)
    snapshot_cron = graphene.String(name="snapshotCron")
    origin = graphene.String(required=True)
    updated_at = graphene.Field(DateTime, name="updatedAt", required=True)

    @staticmethod
    def resolve_label(root: Any, info: Any) -> Any:
        return dict(root.labels)

    @staticmethod
    def resolve_definition(root: Any, info: Any) -> Any:
        return dict(root.definition)


class ReportInput(graphene.InputObjectType):
    name = graphene.String(required=True)
    label = JSON(description="A string or a locale map.")
    description = graphene.String()
    definition = graphene.Field(ReportDefinitionInput)
    snapshotCron = graphene.String(description="Store the result at these times (five cron fields, UTC).")


class ReportSnapshot(graphene.ObjectType):
    id = graphene.ID(required=True)
    report = graphene.String(required=True)
    taken_at = graphene.Field(DateTime, name="takenAt", required=True)
    columns = graphene.List(graphene.NonNull(ReportColumn), required=True)
    rows = graphene.Field(JSON, required=True)
    totals = graphene.Field(JSON, required=True)
    row_count = graphene.Int(name="rowCount", required=True)


class KpiValue(graphene.ObjectType):
    value = graphene.Field(JSON, description="The measure's total (a string for decimals).")
    target = graphene.String()
    status = graphene.String(description="ok, warning or critical (null without thresholds).")


class DashboardWidget(graphene.ObjectType):
    """A widget; ``result``, ``kpi`` and ``error`` are computed for the caller when selected."""

    name = graphene.String(required=True)
    type = graphene.String(required=True, description="CHART, KPI or TABLE.")
    title = graphene.String()
    spec = graphene.Field(JSON, required=True, description="The widget as stored (report, chart, size, …).")
    size = graphene.Field(JSON, required=True)
    position = graphene.Field(JSON, required=True)
    result = graphene.Field(ReportResult)
    kpi = graphene.Field(KpiValue)
    error = graphene.Field(JSON, description="{message, code, field} when the widget cannot run for you.")

    @staticmethod
    def resolve_spec(root: Any, info: Any) -> Any:
        return widget_json(root.widget)

    @staticmethod
    def resolve_name(root: Any, info: Any) -> str:
        return root.widget.name

    @staticmethod
    def resolve_type(root: Any, info: Any) -> str:
        return root.widget.type

    @staticmethod
    def resolve_title(root: Any, info: Any) -> str | None:
        return root.widget.title

    @staticmethod
    def resolve_size(root: Any, info: Any) -> Any:
        return dict(root.widget.size)

    @staticmethod
    def resolve_position(root: Any, info: Any) -> Any:
        return dict(root.widget.position)

    @staticmethod
    def resolve_result(root: Any, info: Any) -> Any:
        return root.view().result

    @staticmethod
    def resolve_kpi(root: Any, info: Any) -> Any:
        kpi = root.view().kpi
        return None if kpi is None else KpiValue(**kpi)

    @staticmethod
    def resolve_error(root: Any, info: Any) -> Any:
        return root.view().error


class LazyWidget:
    """A widget whose result is computed on first use (a list of dashboards costs nothing extra)."""

    def __init__(self, ctx: Any, board: Any, values: dict[str, Any], widget: Any) -> None:
        self.ctx, self.board, self.values, self.widget = ctx, board, values, widget
        self._view: WidgetView | None = None

    def view(self) -> WidgetView:
        if self._view is None:
            self._view = widget_view(self.ctx.rt, self.ctx.actor, self.board, self.values, self.widget)
        return self._view


class Dashboard(graphene.ObjectType):
    name = graphene.String(required=True)
    label = graphene.Field(JSON, required=True)
    description = graphene.String()
    filters = graphene.Field(JSON, required=True, description="[{name, field, operator, value, label}].")
    filter_values = graphene.Field(JSON, name="filterValues", required=True,
                                   description="The filter values the widgets were computed with.")
    roles = graphene.List(graphene.NonNull(graphene.String), required=True, description="Shared with these roles.")
    widgets = graphene.List(graphene.NonNull(DashboardWidget), required=True)
    origin = graphene.String(required=True)
    updated_at = graphene.Field(DateTime, name="updatedAt", required=True)


def dashboard_out(ctx: Any, board: Any, values: dict[str, Any]) -> Dashboard:
    return Dashboard(
        name=board.name, label=dict(board.labels), description=board.description,
        filters=[filter_json(f) for f in board.filters], filter_values=values, roles=list(board.roles),
        widgets=[LazyWidget(ctx, board, values, w) for w in board.widgets], origin=board.origin,
        updated_at=board.updated_at,
    )


class DashboardInput(graphene.InputObjectType):
    name = graphene.String(required=True)
    label = JSON(description="A string or a locale map.")
    description = graphene.String()
    widgets = graphene.List(graphene.NonNull(JSON), description=(
        "[{name, type: CHART|KPI|TABLE, title, report | definition, params, chart, size: {width, height}, "
        "position: {x, y}, measure, target, thresholds: {warning, critical}, better: HIGHER|LOWER}]."))
    filters = graphene.List(graphene.NonNull(JSON), description="[{name, field, operator, value, label}].")
    roles = graphene.List(graphene.NonNull(graphene.String), description="Share with these roles (replaces).")


class ReportSettings(graphene.ObjectType):
    timezone = graphene.String(required=True, description="IANA zone that date buckets use.")
    fiscal_year_start_month = graphene.Int(name="fiscalYearStartMonth", required=True)

    @staticmethod
    def resolve_timezone(root: Any, info: Any) -> str:
        return root["timezone"]

    @staticmethod
    def resolve_fiscal_year_start_month(root: Any, info: Any) -> int:
        return root["fiscalYearStartMonth"]


class ReportSettingsInput(graphene.InputObjectType):
    timezone = graphene.String()
    fiscalYearStartMonth = graphene.Int()
