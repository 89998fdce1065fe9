"""Scheduled report snapshots through the minute tick (``schedules.tick(rt, now=...)``), their trend
query, and KPI threshold alerts to the users of the roles a dashboard is shared with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.platform.reports.conftest import Sales

from tessera.services.automation import schedules

CREATE = "mutation($input: ReportInput!) { createReport(input: $input) { name } }"
CREATE_BOARD = "mutation($input: DashboardInput!) { createDashboard(input: $input) { name } }"
CREATE_OPP = "mutation($data: OpportunityCreateInput!) { createOpportunity(data: $data) { id } }"
SNAPSHOTS = "query($name: String!) { reportSnapshots(name: $name, first: 10) { takenAt rows totals rowCount } }"
NOTIFICATIONS = "{ notifications { title body source } }"
T0 = datetime(2026, 7, 1, 9, 0, 30, tzinfo=UTC)


def _tick(sales: Sales, hours: int) -> int:
    return schedules.tick(sales.rt, now=T0 + timedelta(hours=hours))


def _alerts(sales: Sales, user: str) -> list[dict[str, Any]]:
    found = sales.clients[user].data(NOTIFICATIONS)["notifications"]
    return [n for n in found if n["source"] == "dashboard:watch"]


def test_snapshots_and_kpi_alerts(sales: Sales) -> None:
    admin = sales.admin
    admin.data(CREATE, {"input": {"name": "snapCount", "snapshotCron": "0 * * * *", "definition": {
        "object": "opportunity", "filter": {"name": {"startsWith": "Snap"}},
        "measures": [{"function": "COUNT", "alias": "n"}]}}})
    admin.data(CREATE_BOARD, {"input": {"name": "watch", "roles": ["manager"], "widgets": [
        {"name": "snaps", "title": "Snap deals", "type": "KPI", "report": "snapCount", "measure": "n", "better": "LOWER",
         "thresholds": {"warning": 0, "critical": 1}}]}})

    # the first tick arms the schedule; the next hour's tick takes a snapshot (the job runs after the commit)
    _tick(sales, 0)
    assert admin.data(SNAPSHOTS, {"name": "snapCount"})["reportSnapshots"] == []
    assert _tick(sales, 1) >= 1
    first = admin.data(SNAPSHOTS, {"name": "snapCount"})["reportSnapshots"]
    assert [(s["takenAt"], s["totals"], s["rowCount"]) for s in first] == [("2026-07-01T10:00:00.000Z", {"n": 0}, 1)]
    assert _alerts(sales, "boss") == []  # ok

    # one Snap deal: warning, notified to the boss (role manager), not to reps (not shared with them)
    admin.data(CREATE_OPP, {"data": {"name": "Snap 1", "stage": "proposal", "closeDate": "2026-07-30"}})
    _tick(sales, 2)
    alerts = _alerts(sales, "boss")
    assert [a["title"] for a in alerts] == ["Snap deals on watch is warning"]
    assert _alerts(sales, "rep1") == []

    # unchanged: no new alert; a repeated tick queues nothing new
    _tick(sales, 3)
    _tick(sales, 3)
    assert len(_alerts(sales, "boss")) == 1

    # two: critical
    admin.data(CREATE_OPP, {"data": {"name": "Snap 2", "stage": "proposal", "closeDate": "2026-07-30"}})
    _tick(sales, 4)
    assert [a["title"] for a in _alerts(sales, "boss")] == ["Snap deals on watch is critical",
                                                            "Snap deals on watch is warning"]
    trend = admin.data(SNAPSHOTS, {"name": "snapCount"})["reportSnapshots"]
    assert [(s["takenAt"][11:16], s["totals"]["n"]) for s in trend] == [
        ("13:00", 2), ("12:00", 1), ("11:00", 1), ("10:00", 0)]

    # users read snapshots of reports shown on a dashboard shared with them
    assert len(sales.clients["boss"].data(SNAPSHOTS, {"name": "snapCount"})["reportSnapshots"]) == 4
    error = sales.clients["rep1"].error(SNAPSHOTS, {"name": "snapCount"})
    assert error["extensions"] == {"code": "FORBIDDEN", "field": "name"}


def test_snapshot_uses_the_fire_time_for_relative_ranges(sales: Sales) -> None:
    sales.admin.data(CREATE, {"input": {"name": "thisMonth", "snapshotCron": "0 0 1 * *", "definition": {
        "object": "opportunity", "measures": [{"function": "COUNT", "alias": "n"}],
        "dateRange": {"field": "closeDate", "range": "THIS_MONTH"}}}})
    _tick(sales, 0)  # arms
    schedules.tick(sales.rt, now=datetime(2026, 10, 1, 0, 0, 30, tzinfo=UTC))
    found = sales.admin.data(SNAPSHOTS, {"name": "thisMonth"})["reportSnapshots"]
    expected = sum(1 for d in sales.deals if d["closeDate"].startswith("2026-10"))
    assert [(s["takenAt"], s["totals"]["n"]) for s in found] == [("2026-10-01T00:00:00.000Z", expected)]
