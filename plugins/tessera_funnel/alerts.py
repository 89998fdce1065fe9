"""Funnel alerts: a daily job, for each tenant with the plugin, that tells reps and their managers
about deals going nowhere and about conversion falling off.

- **Stalled deal**: an open deal idle (no stage change, no completed activity) for longer than its
  stage's ``stallDays`` (see ``analytics.stalled``). Its owner and the owner's manager are notified;
  once per deal, stage and multiple of ``stallDays`` idle, so a deal still stalled a period later
  reminds them again, and one that moves and stalls anew alerts anew.
- **Low conversion**: for each rep and each step between consecutive open stages (and from the last
  open stage to won), the conversion of the deals that entered the step's first stage in the last
  ``WINDOW_DAYS`` (the cohort, see ``analytics.conversion``) against the same rep's rate over the
  ``TRAILING_WINDOWS`` windows before. Below ``DROP`` times the trailing rate, with at least
  ``MIN_COHORT`` deals in both, the rep and their manager are notified (at most once a week).

The job reads every record with system rights (it runs for the whole tenant); what it writes are
notifications only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from tessera.plugin import JobRunContext, JobSpec
from tessera_funnel import analytics
from tessera_funnel.graphql import ACTIVITY_FIELDS, HISTORY_FIELDS, OPPORTUNITY_FIELDS, STAGE_FIELDS

CRON = "0 6 * * *"
"""Every day at 06:00 UTC."""
WINDOW_DAYS = 30
TRAILING_WINDOWS = 3
DROP = Decimal("0.5")
MIN_COHORT = 5


def job() -> JobSpec:
    return JobSpec(key="funnelAlerts", description="Notify owners and managers of stalled deals and of "
                   "stage conversion far below their trailing average", run=run, cron=CRON)


def run(context: JobRunContext) -> None:
    stages = context.records("salesStage", fields=STAGE_FIELDS)
    opportunities = context.records("opportunity", fields=OPPORTUNITY_FIELDS)
    for deal in analytics.stalled(opportunities, stages, context.records("activity", fields=ACTIVITY_FIELDS),
                                  context.now):
        _tell(context, deal["owner"], key=f"stalled:{deal['id']}:{deal['stage']}:{deal['idleDays'] // deal['stallDays']}",
              title=f"Stalled deal: {deal['name']}",
              body=f"{deal['name']} has been idle for {deal['idleDays']} days in stage {deal['stage']} "
                   f"(the stage allows {deal['stallDays']}).",
              record_id=deal["id"])
    owners = {o["id"]: o.get("owner") for o in opportunities}
    history = context.records("stageHistory", fields=HISTORY_FIELDS)
    for alert in low_conversions(history, stages, owners, context.now):
        week = context.now.isocalendar()
        _tell(context, alert["owner"],
              key=f"conversion:{alert['owner']}:{alert['fromStage']}:{alert['toStage']}:{week.year}-W{week.week:02d}",
              title=f"Low conversion {alert['fromStage']} → {alert['toStage']}",
              body=f"{alert['converted']} of {alert['cohort']} deals that entered {alert['fromStage']} in the last "
                   f"{WINDOW_DAYS} days moved on to {alert['toStage']} ({alert['rate']}%), against "
                   f"{alert['trailingRate']}% over the {TRAILING_WINDOWS * WINDOW_DAYS} days before.",
              record_id=None)


def _tell(context: JobRunContext, owner: str | None, *, key: str, title: str, body: str, record_id: str | None) -> None:
    if not owner:
        return
    manager = context.manager_of(owner)
    context.notify([owner, *([manager] if manager else [])], title=title, body=body,
                   object_name="opportunity" if record_id else None, record_id=record_id, key=key)


def steps(stages: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """Consecutive open stages by position, and the last open stage to the first won stage."""
    ordered = sorted(stages, key=lambda s: (s.get("position") or 0, s["stage"]))
    open_stages = [s["stage"] for s in ordered if s["kind"] == "open"]
    won = [s["stage"] for s in ordered if s["kind"] == "won"]
    pairs = list(pairwise(open_stages))
    if open_stages and won:
        pairs.append((open_stages[-1], won[0]))
    return pairs


def low_conversions(history: Sequence[dict[str, Any]], stages: Sequence[dict[str, Any]],
                    owners: dict[str, str | None], now: datetime) -> list[dict[str, Any]]:
    """Per rep and step: this window's cohort conversion far below the rep's trailing rate."""
    by_owner: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in history:
        owner = owners.get(row["opportunity"])
        if owner:
            by_owner[owner].append(row)
    end = now.date()
    start = end - timedelta(days=WINDOW_DAYS - 1)
    trailing_start = start - timedelta(days=WINDOW_DAYS * TRAILING_WINDOWS)
    trailing_end = start - timedelta(days=1)
    found = []
    for owner, rows in sorted(by_owner.items()):
        for from_stage, to_stage in steps(stages):
            now_rate = analytics.conversion(rows, from_stage, to_stage, start, end)
            before = analytics.conversion(rows, from_stage, to_stage, trailing_start, trailing_end)
            if now_rate["cohort"] < MIN_COHORT or before["cohort"] < MIN_COHORT or not before["rate"]:
                continue
            if now_rate["rate"] < before["rate"] * DROP:
                found.append({"owner": owner, "fromStage": from_stage, "toStage": to_stage,
                              "cohort": now_rate["cohort"], "converted": now_rate["converted"],
                              "rate": now_rate["rate"], "trailingRate": before["rate"]})
    return found
