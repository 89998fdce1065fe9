"""销售漏斗 — the sales funnel scenario, and the reference every scenario plugin copies.

It installs configurable stages (``salesStage``), keeps a stage history of every opportunity
(``stageHistory``, written by ``before_record_write`` on each stage change), marks effective
follow-ups on activities, and answers funnel metrics as GraphQL queries (``funnelConversion``,
``funnelWinRate``, ``funnelSalesCycle``, ``funnelStageDurations``, ``funnelPipeline``,
``funnelForecast``, ``funnelStalledDeals``, ``funnelScorecard``), each with the caller's permissions,
and a daily job alerting owners and managers of stalled deals and falling conversion (``alerts.py``).
Definitions of every metric: docs/scenarios/funnel.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tessera.plugin import (
    GraphQLExtension,
    JobSpec,
    MetadataPackage,
    PluginInfo,
    ReportTypeSpec,
    SampleDataSpec,
    hookimpl,
)
from tessera_funnel import alerts, graphql, reports, sample, stages

VERSION = "1.0.0"


@hookimpl
def register_plugin() -> PluginInfo:
    return PluginInfo(name="funnel", version=VERSION,
                      description="Sales funnel: stages, stage history, conversion, win rate, forecast, rep scorecard")


@hookimpl
def register_metadata_packages() -> list[MetadataPackage]:
    return [MetadataPackage(Path(__file__).parent / "metadata")]


@hookimpl
def register_graphql_extensions() -> list[GraphQLExtension]:
    return [graphql.extension()]


@hookimpl
def register_report_types() -> list[ReportTypeSpec]:
    return reports.report_types()


@hookimpl
def register_jobs() -> list[JobSpec]:
    return [alerts.job()]


@hookimpl
def register_sample_data() -> list[SampleDataSpec]:
    return [SampleDataSpec(description="Deals moving through the funnel over a year, with activities",
                           generate=sample.generate)]


@hookimpl
def before_install(context: Any) -> None:
    context.create("salesStage", list(stages.DEFAULT_STAGES))


@hookimpl
def before_record_write(context: Any) -> None:
    stages.record_stage_changes(context)
