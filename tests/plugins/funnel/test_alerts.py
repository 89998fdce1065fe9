"""Funnel alerts: the plugin's daily job (a ``JobSpec`` with a cron, run by the schedule tick) notifies
a stalled deal's owner and the owner's manager, once per stall period; the low-conversion rule
compares a rep's cohort conversion with the rep's own trailing rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tessera.core.clock import utcnow
from tessera.services.automation.schedules import tick
from tessera.testing import GraphQLClient
from tessera_funnel import alerts

NOTIFICATIONS = "{ notifications { title body object recordId source } }"
CREATE_USER = "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }"
CREATE_TOKEN = "mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { token } }"


def _user(funnel: Any, email: str, manager: str | None = None) -> tuple[str, GraphQLClient]:
    data: dict[str, Any] = {"email": email, "name": email.split("@")[0], "permissionSets": ["standardUser"]}
    if manager:
        data["manager"] = manager
    user_id = funnel.admin.data(CREATE_USER, {"i": data})["createUser"]["id"]
    token = funnel.admin.data(CREATE_TOKEN, {"i": {"name": "t", "user": user_id}})["createApiToken"]["token"]
    return user_id, GraphQLClient(funnel.admin.app, token)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_stalled_deals_notify_owner_and_manager_once_per_stall_period(funnel: Any) -> None:
    boss, boss_client = _user(funnel, "boss@example.com")
    rep, rep_client = _user(funnel, "rep@example.com", manager=boss)
    _, other_client = _user(funnel, "other@example.com")
    # a day after tomorrow's 06:00 run time: the job's fire time is after the plugin was installed
    now = (utcnow() + timedelta(days=2)).replace(hour=7, minute=0, second=0, microsecond=0)
    fire = now.replace(hour=6)
    stalled = funnel.opportunity("Quiet deal", "prospecting", _iso(fire - timedelta(days=20)), owner=rep)
    funnel.opportunity("Busy deal", "prospecting", _iso(fire - timedelta(days=3)), owner=rep)
    funnel.opportunity("Slow but allowed", "proposal", _iso(fire - timedelta(days=20)), owner=rep)
    funnel.opportunity("Won long ago", "closedWon", _iso(fire - timedelta(days=90)), owner=rep)

    tick(funnel.rt, now=now)
    tick(funnel.rt, now=now + timedelta(minutes=5))  # the same fire time: queued once

    for client in (rep_client, boss_client):
        notes = client.data(NOTIFICATIONS)["notifications"]
        assert [(n["title"], n["recordId"], n["object"], n["source"]) for n in notes] == [
            ("Stalled deal: Quiet deal", stalled, "opportunity", "plugin:funnel")]
        assert "idle for 20 days in stage prospecting (the stage allows 14)" in notes[0]["body"]
    assert other_client.data(NOTIFICATIONS)["notifications"] == []
    # the next day's run finds it still stalled in the same period: no second alert
    tick(funnel.rt, now=now + timedelta(days=1))
    assert len(rep_client.data(NOTIFICATIONS)["notifications"]) == 1
    # two stall periods idle: a reminder
    tick(funnel.rt, now=now + timedelta(days=9))
    titles = [n["title"] for n in rep_client.data(NOTIFICATIONS)["notifications"]]
    assert titles == ["Stalled deal: Quiet deal", "Stalled deal: Quiet deal"]


def test_the_alert_job_runs_only_for_tenants_with_the_plugin(runtime: Any, gql: GraphQLClient) -> None:
    # a tenant without the funnel has no stages and no job: the tick queues nothing for it
    now = utcnow() + timedelta(days=2)
    jobs_before = gql.data("{ jobs { kind } }")["jobs"]
    tick(runtime, now=now)
    assert gql.data("{ jobs { kind } }")["jobs"] == jobs_before


STAGES = [
    {"stage": "a", "position": 1, "kind": "open"},
    {"stage": "b", "position": 2, "kind": "open"},
    {"stage": "won", "position": 3, "kind": "won"},
    {"stage": "lost", "position": 4, "kind": "lost"},
]


def test_steps_are_consecutive_open_stages_then_the_last_one_to_won() -> None:
    assert alerts.steps(STAGES) == [("a", "b"), ("b", "won")]


def _cohort(owner_deals: list[str], when: datetime, converted: int, history: list[dict[str, Any]]) -> None:
    for index, deal in enumerate(owner_deals):
        history.append({"opportunity": deal, "toStage": "a", "enteredAt": _iso(when)})
        if index < converted:
            history.append({"opportunity": deal, "toStage": "b", "enteredAt": _iso(when + timedelta(days=2))})


def test_low_conversion_compares_a_rep_with_their_own_trailing_rate() -> None:
    now = datetime(2026, 6, 30, 6, tzinfo=UTC)
    history: list[dict[str, Any]] = []
    owners: dict[str, str | None] = {}
    # rep x: 8 of 10 converted before the window, 2 of 10 in it (20% < half of 80%)
    # rep y: 8 of 10 before, 5 of 10 now (50% is not below 40%): no alert
    # rep z: too few deals in the window to judge
    for rep, before, now_converted, now_count in (("x", 8, 2, 10), ("y", 8, 5, 10), ("z", 8, 0, 4)):
        old = [f"{rep}-old-{i}" for i in range(10)]
        new = [f"{rep}-new-{i}" for i in range(now_count)]
        owners.update(dict.fromkeys(old + new, rep))
        _cohort(old, now - timedelta(days=60), before, history)
        _cohort(new, now - timedelta(days=10), now_converted, history)
    found = alerts.low_conversions(history, STAGES, owners, now)
    assert found == [{"owner": "x", "fromStage": "a", "toStage": "b", "cohort": 10, "converted": 2,
                      "rate": Decimal("20.00"), "trailingRate": Decimal("80.00")}]
