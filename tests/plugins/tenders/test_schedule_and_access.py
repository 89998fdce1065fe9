"""Scheduled runs, the run-as user's permissions, and field history with channel ``connector``."""

from __future__ import annotations

from datetime import timedelta

from tests.plugins.tenders.conftest import RUNS, Feed, Tenders

from tessera.core.clock import utcnow
from tessera.services.automation.schedules import tick

UPDATE = "mutation($i: UpdateConnectorInput!) { updateConnector(input: $i) { schedule runAs } }"
CREATE_USER = "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }"
HISTORY = 'query($id: ID!) { recordHistory(object: "tender", id: $id) { field newValue channel user { id } } }'


def test_a_schedule_starts_one_run_per_fire_time(tenders: Tenders, feed: Feed) -> None:
    feed.publish("tender1")
    tenders.connector("feed", f"{feed.url}/releases")
    tenders.admin.data(UPDATE, {"i": {"name": "feed", "schedule": "* * * * *"}})
    later = utcnow() + timedelta(minutes=2)
    tick(tenders.rt, later)
    tick(tenders.rt, later)
    runs = tenders.admin.data(RUNS, {"n": "feed"})["connectorRuns"]
    assert [(r["status"], r["created"]) for r in runs] == [("SUCCEEDED", 1)]
    tick(tenders.rt, later + timedelta(minutes=1))
    assert len(tenders.admin.data(RUNS, {"n": "feed"})["connectorRuns"]) == 2


def test_writes_use_the_run_as_users_permissions_and_record_history(tenders: Tenders, feed: Feed) -> None:
    feed.publish("tender1")
    tenders.connector("feed", f"{feed.url}/releases")
    rep = tenders.admin.data(CREATE_USER, {"i": {"email": "rep@example.com", "name": "rep"}})["createUser"]["id"]
    tenders.admin.data(UPDATE, {"i": {"name": "feed", "runAs": rep}})
    refused = tenders.run("feed")
    assert refused["status"] == "SUCCEEDED" and refused["created"] == 0 and refused["failed"] == 1
    assert refused["errorSamples"][0]["reason"] == "you may not create tenders"
    tenders.admin.data(UPDATE, {"i": {"name": "feed", "runAs": tenders.created.admin_user_id, "resetCursor": True}})
    done = tenders.run("feed")
    assert done["created"] == 1
    [tender] = tenders.tenders()
    history = tenders.admin.data(HISTORY, {"id": tender["id"]})["recordHistory"]
    assert history and {h["channel"] for h in history} == {"connector"}
    assert history[0]["user"]["id"] == tenders.created.admin_user_id
