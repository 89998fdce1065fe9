"""The funnel's GraphQL extensions: metrics as queries, for tenants that installed the plugin.

Every resolver reads records through ``request_of(info)``, so each user gets the metrics of the
records they may read. Decimals travel as strings, like everywhere in the API; rates are percentages.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import graphene

from tessera.plugin import GraphQLExtension, PluginError, request_of
from tessera_funnel import analytics

OPPORTUNITY_FIELDS = ["id", "name", "stage", "amount", "probability", "closeDate", "owner", "createdAt",
                      "stageEnteredAt"]
HISTORY_FIELDS = ["opportunity", "toStage", "enteredAt", "leftAt"]
STAGE_FIELDS = ["stage", "label", "labelZh", "position", "probability", "kind", "stallDays"]
ACTIVITY_FIELDS = ["activityType", "status", "durationMinutes", "completedAt", "dueAt", "owner",
                   "effectiveFollowUp", "opportunity"]


def _load(info: Any, object_name: str, fields: list[str]) -> list[dict[str, Any]]:
    return request_of(info).records(object_name, fields=fields)


def _history(info: Any) -> list[dict[str, Any]]:
    """Stage history of the opportunities the caller may read (whatever the history's own sharing)."""
    readable = {o["id"] for o in _load(info, "opportunity", ["id"])}
    return [row for row in _load(info, "stageHistory", HISTORY_FIELDS) if row["opportunity"] in readable]


def _stages(info: Any) -> list[dict[str, Any]]:
    return _load(info, "salesStage", STAGE_FIELDS)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


class FunnelConversion(graphene.ObjectType):
    from_stage = graphene.String(required=True, name="fromStage")
    to_stage = graphene.String(required=True, name="toStage")
    cohort = graphene.Int(required=True, description="Deals that entered fromStage in the period.")
    converted = graphene.Int(required=True, description="Of those, deals that entered toStage afterwards.")
    rate = graphene.String(description="converted / cohort, in percent (null for an empty cohort).")


class FunnelWinRate(graphene.ObjectType):
    won = graphene.Int(required=True)
    lost = graphene.Int(required=True)
    rate = graphene.String(description="won / (won + lost), in percent.")


class FunnelSalesCycle(graphene.ObjectType):
    deals = graphene.Int(required=True, description="Deals won in the period.")
    average_days = graphene.String(name="averageDays",
                                   description="Average days from the first stage entered to won.")


class FunnelStageDuration(graphene.ObjectType):
    stage = graphene.String(required=True)
    exits = graphene.Int(required=True, description="Stays in the stage that ended in the period.")
    average_days = graphene.String(name="averageDays")


class FunnelPipeline(graphene.ObjectType):
    deals = graphene.Int(required=True)
    amount = graphene.String(required=True)
    weighted = graphene.String(required=True, description="Amounts times their probability.")


class FunnelForecastMonth(graphene.ObjectType):
    month = graphene.String(required=True, description="YYYY-MM of the close date, or none.")
    deals = graphene.Int(required=True)
    amount = graphene.String(required=True)
    weighted = graphene.String(required=True)


class FunnelStalledDeal(graphene.ObjectType):
    id = graphene.ID(required=True)
    name = graphene.String(required=True)
    stage = graphene.String(required=True)
    owner = graphene.ID()
    idle_days = graphene.Int(required=True, name="idleDays")
    stall_days = graphene.Int(required=True, name="stallDays")


class FunnelScorecard(graphene.ObjectType):
    owner = graphene.ID(required=True)
    visits = graphene.Int(required=True)
    calls = graphene.Int(required=True)
    call_minutes = graphene.Int(required=True, name="callMinutes")
    meetings = graphene.Int(required=True)
    effective_follow_ups = graphene.Int(required=True, name="effectiveFollowUps")
    won_deals = graphene.Int(required=True, name="wonDeals")
    lost_deals = graphene.Int(required=True, name="lostDeals")
    won_amount = graphene.String(required=True, name="wonAmount")
    win_rate = graphene.String(name="winRate")


def _period() -> dict[str, Any]:
    # NOTE: plain strings (ISO dates): graphene's own Date scalar would clash with Tessera's.
    return {"start": graphene.String(required=True, description="First day, YYYY-MM-DD (UTC)."),
            "end": graphene.String(required=True, description="Last day, YYYY-MM-DD (UTC), included.")}


def _day(value: str, name: str) -> date:
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise PluginError(f"{name}: '{value}' is not a date (YYYY-MM-DD)", field=name) from None


def _strings(row: dict[str, Any]) -> dict[str, Any]:
    """Snake-cased keys for graphene, decimals as text."""
    names = {"fromStage": "from_stage", "toStage": "to_stage", "averageDays": "average_days",
             "idleDays": "idle_days", "stallDays": "stall_days", "callMinutes": "call_minutes",
             "effectiveFollowUps": "effective_follow_ups", "wonDeals": "won_deals", "lostDeals": "lost_deals",
             "wonAmount": "won_amount", "winRate": "win_rate"}
    return {names.get(k, k): (str(v) if hasattr(v, "quantize") else v) for k, v in row.items()}


def _conversion(root: Any, info: Any, from_stage: str, to_stage: str, start: str, end: str) -> dict[str, Any]:
    history = _history(info)
    return _strings(analytics.conversion(history, from_stage, to_stage, _day(start, "start"), _day(end, "end")))


def _win_rate(root: Any, info: Any, start: str, end: str) -> dict[str, Any]:
    return _strings(analytics.win_rate(_history(info), _stages(info),
                                       _day(start, "start"), _day(end, "end")))


def _sales_cycle(root: Any, info: Any, start: str, end: str) -> dict[str, Any]:
    return _strings(analytics.sales_cycle(_load(info, "opportunity", OPPORTUNITY_FIELDS),
                                          _history(info), _stages(info),
                                          _day(start, "start"), _day(end, "end")))


def _durations(root: Any, info: Any, start: str, end: str) -> list[dict[str, Any]]:
    rows = analytics.stage_durations(_history(info), _stages(info),
                                     _day(start, "start"), _day(end, "end"))
    return [_strings(r) for r in rows]


def _pipeline(root: Any, info: Any) -> dict[str, Any]:
    return _strings(analytics.pipeline(_load(info, "opportunity", OPPORTUNITY_FIELDS), _stages(info)))


def _forecast(root: Any, info: Any) -> list[dict[str, Any]]:
    return [_strings(r) for r in analytics.forecast(_load(info, "opportunity", OPPORTUNITY_FIELDS), _stages(info))]


def _stalled(root: Any, info: Any, as_of: str | None = None) -> list[dict[str, Any]]:
    moment = analytics.moment(as_of) if as_of else datetime.now(UTC)
    if moment is None:
        raise PluginError("asOf: not a date and time", field="asOf")
    rows = analytics.stalled(_load(info, "opportunity", OPPORTUNITY_FIELDS), _stages(info),
                             _load(info, "activity", ACTIVITY_FIELDS), moment)
    return [_strings(r) for r in rows]


def _scorecard(root: Any, info: Any, start: str, end: str) -> list[dict[str, Any]]:
    rows = analytics.scorecard(_load(info, "opportunity", OPPORTUNITY_FIELDS),
                               _history(info), _stages(info),
                               _load(info, "activity", ACTIVITY_FIELDS), _day(start, "start"), _day(end, "end"))
    return [_strings(r) for r in rows]


def extension() -> GraphQLExtension:
    nn = graphene.NonNull
    return GraphQLExtension(queries={
        "funnelConversion": graphene.Field(
            nn(FunnelConversion), resolver=_conversion, description="Stage-to-stage conversion of a cohort.",
            from_stage=graphene.String(required=True, name="fromStage"),
            to_stage=graphene.String(required=True, name="toStage"), **_period()),
        "funnelWinRate": graphene.Field(nn(FunnelWinRate), resolver=_win_rate, **_period(),
                                        description="Won / closed deals of the period."),
        "funnelSalesCycle": graphene.Field(nn(FunnelSalesCycle), resolver=_sales_cycle, **_period(),
                                           description="Average days from creation to won."),
        "funnelStageDurations": graphene.Field(nn(graphene.List(nn(FunnelStageDuration))), resolver=_durations,
                                               **_period(), description="Average time spent in each stage."),
        "funnelPipeline": graphene.Field(nn(FunnelPipeline), resolver=_pipeline,
                                         description="Open deals, their amount and weighted amount."),
        "funnelForecast": graphene.Field(nn(graphene.List(nn(FunnelForecastMonth))), resolver=_forecast,
                                         description="Open deals by close month."),
        "funnelStalledDeals": graphene.Field(
            nn(graphene.List(nn(FunnelStalledDeal))), resolver=_stalled,
            as_of=graphene.String(name="asOf", description="ISO moment to judge at (default: now)."),
            description="Open deals with no stage change and no activity for their stage's stallDays."),
        "funnelScorecard": graphene.Field(nn(graphene.List(nn(FunnelScorecard))), resolver=_scorecard,
                                          **_period(), description="Rep activity and results of the period."),
    })
