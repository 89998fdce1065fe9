"""Syncing OCDS feeds end to end: files, HTTP with faults, incremental polls, crash safety, run logs."""

from __future__ import annotations

import json
import shutil
import time
from typing import Any

import pytest
import sqlalchemy as sa
from tests.plugins.tenders.conftest import OCDS, RUNS, Feed, Tenders, load

from tessera.services.automation import outbox
from tessera.services.connectors import upsert
from tessera.storage.system_tables import connector_runs, connectors

FICTIONAL = "fictional-1.1-release-package-ocds-213czf-000-00001.json"


def _files(tenders: Tenders, *names: str) -> str:
    folder = tenders.rt.config.data_dir / "connector-files" / tenders.created.tenant.slug
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(OCDS / name, folder / name.replace("/", "-"))
    return str(folder)


def test_a_folder_of_packages_syncs_compiled_tenders_with_releases_and_awards(tenders: Tenders) -> None:
    # given the fictional example in a folder
    folder = _files(tenders, FICTIONAL)
    shown = tenders.connector("radar", folder)
    assert shown["target"] == "tender" and shown["matchKey"] == "ocid"
    # when it runs
    run = tenders.run("radar")
    # then one tender compiled from its six releases, with its award, and a truthful log
    assert run["status"] == "SUCCEEDED" and run["pages"] == 1
    assert (run["created"], run["updated"], run["unchanged"], run["failed"]) == (1, 0, 0, 0)
    assert run["counts"]["tenderRelease"]["created"] == 6
    [tender] = tenders.tenders()
    assert tender["ocid"] == "ocds-213czf-000-00001" and tender["releaseCount"] == 6
    assert tender["compiledRelease"]["tag"] == ["compiled"]
    assert "CPV:45233130" in tender["classifications"]
    assert tenders.count("tenderReleases") == 6 and tenders.count("tenderAwards") >= 1
    # and a second run finds nothing new
    again = tenders.run("radar")
    assert again["status"] == "SUCCEEDED" and again["created"] == again["updated"] == 0


def test_http_incremental_polls_follow_the_worked_example(tenders: Tenders, feed: Feed) -> None:
    tenders.connector("feed", f"{feed.url}/releases")
    expected_values = {}
    for step, names in enumerate([["tender1"], ["tender2", "tender3"], ["award1", "award2"]]):
        feed.publish(*names)
        run = tenders.run("feed")
        assert run["status"] == "SUCCEEDED", run
        assert (run["created"], run["updated"]) == ((1, 0) if step == 0 else (0, 1))
        [tender] = tenders.tenders()
        expected_values[step] = tender["value"]
    assert "since=" in feed.hits[-1]  # later polls ask only for what is new
    merged = load("worked-example-updates/merged.json")["records"][0]["compiledRelease"]
    [tender] = tenders.tenders()
    assert tender["compiledRelease"] == merged
    assert tender["value"] == "2000.00" and tender["currency"] == "USD"
    assert tenders.count("tenderReleases") == 5 and tenders.count("tenderAwards") == 2
    # a poll with nothing new changes nothing
    quiet = tenders.run("feed")
    assert (quiet["created"], quiet["updated"], quiet["failed"]) == (0, 0, 0)


def test_a_late_release_recompiles_the_tender(tenders: Tenders, feed: Feed) -> None:
    tenders.connector("feed", f"{feed.url}/releases")
    feed.publish("tender1", "tender3", "award1", "award2")
    assert tenders.run("feed")["status"] == "SUCCEEDED"
    late = load("worked-example-updates/tender2.json")
    late["publishedDate"] = "2016-04-01T00:00:00Z"  # published after the others, dated before them
    feed.packages.append(late)
    assert tenders.run("feed")["updated"] == 1
    merged = load("worked-example-updates/merged.json")["records"][0]["compiledRelease"]
    assert tenders.tenders()[0]["compiledRelease"] == merged


def test_429_500_and_timeouts_are_retried(tenders: Tenders, feed: Feed) -> None:
    feed.publish("tender1")
    feed.faults.extend(["429", "500", "timeout"])
    tenders.connector("feed", f"{feed.url}/releases")
    run = tenders.run("feed")
    assert run["status"] == "SUCCEEDED" and run["created"] == 1
    assert len(feed.hits) == 4


def test_retries_spent_fail_the_run_clearly(tenders: Tenders, feed: Feed) -> None:
    feed.faults.extend(["500"] * 3)
    tenders.connector("feed", f"{feed.url}/releases", maxRetries=2)
    run = tenders.run("feed")
    assert run["status"] == "FAILED" and "HTTP 500" in run["error"] and "3 attempts" in run["error"]


def _chain(feed: Feed, second: Any) -> None:
    first = load(FICTIONAL)
    first["links"] = {"next": f"{feed.url}/pages/two"}
    feed.pages["one"] = first
    feed.pages["two"] = second


def test_a_malformed_page_fails_the_run_and_keeps_earlier_pages(tenders: Tenders, feed: Feed) -> None:
    _chain(feed, "{not json")
    tenders.connector("chain", f"{feed.url}/pages/one")
    run = tenders.run("chain")
    assert run["status"] == "FAILED" and run["pages"] == 1 and "page 2" in run["error"]
    assert len(tenders.tenders()) == 1
    # when the page is fixed, the next run resumes at it
    feed.pages["two"] = {"version": "1.1", "publishedDate": "2016-03-03T09:30:00Z",
                         "releases": load("worked-example-updates/tender1.json")["releases"]}
    run = tenders.run("chain")
    assert run["status"] == "SUCCEEDED" and run["created"] == 1
    assert feed.hits[-1] == "/pages/two?"
    assert len(tenders.tenders()) == 2


def test_malformed_records_are_logged_and_the_sync_goes_on(tenders: Tenders, feed: Feed) -> None:
    package = load(FICTIONAL)
    package["releases"].append({"ocid": "ocds-x", "id": "broken"})  # no date
    package["releases"].append({"ocid": "ocds-y", "id": "y1", "date": "2020-01-01T00:00:00Z", "tag": ["tender"],
                                "tender": {"id": "t", "title": "Big", "value": {"amount": "lots"}}})
    feed.pages["one"] = package
    tenders.connector("chain", f"{feed.url}/pages/one")
    run = tenders.run("chain")
    assert run["status"] == "SUCCEEDED" and run["created"] == 1 and run["failed"] == 2
    reasons = " ".join(s["reason"] for s in run["errorSamples"])
    assert "no date" in reasons and "value" in reasons
    assert [t["ocid"] for t in tenders.tenders()] == ["ocds-213czf-000-00001"]


class Killed(BaseException):
    """A worker dying mid-page: not an Exception, so nothing in the job catches it."""


def test_a_worker_killed_mid_page_resumes_at_the_last_committed_page(
        tenders: Tenders, feed: Feed, monkeypatch: pytest.MonkeyPatch) -> None:
    _chain(feed, {"version": "1.1", "publishedDate": "2016-03-03T09:30:00Z",
                  "releases": [r for n in ("tender1", "tender2") for r in load(f"worked-example-updates/{n}.json")["releases"]]})
    tenders.connector("chain", f"{feed.url}/pages/one")
    real = upsert.PageWriter.write
    calls = {"n": 0}

    def dying(self: Any, items: Any) -> Any:
        calls["n"] += 1
        result = real(self, items)
        if calls["n"] == 2:
            raise Killed()  # after page 2's writes, before its commit
        return result

    monkeypatch.setattr(upsert.PageWriter, "write", dying)
    with pytest.raises(Killed):
        tenders.run("chain")
    rt = tenders.rt
    with rt.db.system.connect() as conn:
        run = conn.execute(sa.select(connector_runs)).mappings().one()
        job = conn.execute(sa.select(outbox.outbox).where(outbox.outbox.c.status == "RUNNING")).mappings().one()
        cursor = conn.execute(sa.select(connectors.c.cursor)).scalar()
    assert run["pages"] == 1 and run["status"] == "RUNNING"  # page 1 committed, page 2 not
    assert json.loads(cursor)["next"].endswith("/pages/two")
    assert len(tenders.tenders()) == 1
    # when the reaper gives the abandoned job back, it redoes page 2 only
    assert outbox.release(rt, job["id"], from_status="RUNNING")
    outbox.run_due(rt)
    [last] = tenders.admin.data(RUNS, {"n": "chain"})["connectorRuns"]
    assert last["status"] == "SUCCEEDED" and last["pages"] == 2 and last["created"] == 2
    assert sorted(t["ocid"] for t in tenders.tenders()) == ["ocds-213czf-000-00001", "ocds-213czf-000-00002"]
    assert tenders.count("tenderReleases") == 8


SUBSCRIBE = "mutation($d: TenderSubscriptionCreateInput!) { createTenderSubscription(data: $d) { id } }"
NOTIFICATIONS = "{ notifications { title objectName: object recordId } }"


def test_a_matching_new_or_changed_tender_notifies_the_subscriber_once(tenders: Tenders, feed: Feed) -> None:
    tenders.admin.data(SUBSCRIBE, {"d": {"name": "Data tools", "keywords": "merging, data", "minValue": "500.00"}})
    tenders.admin.data(SUBSCRIBE, {"d": {"name": "Roads", "classifications": "4523"}})
    tenders.connector("feed", f"{feed.url}/releases")
    feed.publish("tender1")
    tenders.run("feed")
    notes = tenders.admin.data(NOTIFICATIONS)["notifications"]
    assert [n["title"] for n in notes] == ["Tender: Data merging tool"]
    tenders.run("feed")  # nothing changed: no new notification
    assert len(tenders.admin.data(NOTIFICATIONS)["notifications"]) == 1
    feed.publish("tender2")
    tenders.run("feed")
    assert len(tenders.admin.data(NOTIFICATIONS)["notifications"]) == 2


RECORD = "fictional-1.1-record-package-ocds-213czf-000-00001.json"
LINKED = "https://github.com/open-contracting/sample-data/raw/1.1/fictional-example/ocds-213czf-000-00001.json"


def test_record_packages_are_recompiled_from_their_linked_releases(tenders: Tenders, feed: Feed) -> None:
    # given a record package whose compiledRelease lies, linking releases the server also serves
    record = json.loads((OCDS / RECORD).read_text().replace(LINKED, f"{feed.url}/pages/release"))
    record["records"][0]["compiledRelease"]["tender"]["title"] = "NOT TRUSTED"
    feed.pages["record"] = record
    feed.pages["release"] = load(FICTIONAL)
    tenders.connector("records", f"{feed.url}/pages/record")
    run = tenders.run("records")
    assert run["status"] == "SUCCEEDED" and run["created"] == 1 and run["failed"] == 0
    [tender] = tenders.tenders()
    assert tender["title"] != "NOT TRUSTED" and tender["releaseCount"] == 6
    assert feed.hits.count("/pages/release?") == 1  # one GET for the six links


def test_offline_record_packages_use_releases_read_before(tenders: Tenders) -> None:
    folder = tenders.rt.config.data_dir / "connector-files" / tenders.created.tenant.slug
    (folder / "1-releases").mkdir(parents=True)
    (folder / "2-records").mkdir()
    shutil.copy(OCDS / FICTIONAL, folder / "1-releases" / FICTIONAL)
    shutil.copy(OCDS / RECORD, folder / "2-records" / RECORD)
    shutil.copy(OCDS / "worked-example-updates/merged.json", folder / "2-records" / "merged.json")
    tenders.connector("offline", str(folder))
    run = tenders.run("offline")
    # the fictional record's links are releases read from the first folder; the worked example's are not
    assert run["status"] == "SUCCEEDED" and run["pages"] == 3
    assert run["failed"] == 5 and all(s["key"] == "ocds-213czf-000-00002" for s in run["errorSamples"])
    assert [t["ocid"] for t in tenders.tenders()] == ["ocds-213czf-000-00001"]


def test_reading_the_source_holds_no_database_lock(tenders: Tenders, feed: Feed) -> None:
    # given a source that, while the sync waits for it, sees another process write to the database
    rt = tenders.rt
    waited: list[float] = []

    def write_elsewhere() -> None:
        started = time.monotonic()
        with rt.db.system.begin() as conn:
            conn.execute(sa.text("UPDATE tenants SET name = name WHERE slug = :s"), {"s": tenders.created.tenant.slug})
        waited.append(time.monotonic() - started)

    feed.on_request = write_elsewhere
    feed.publish("tender1")
    tenders.connector("feed", f"{feed.url}/releases")
    # when it runs, then the other write never waited for the sync
    assert tenders.run("feed")["status"] == "SUCCEEDED"
    assert waited and max(waited) < 2.0


def test_a_page_failing_to_write_is_retried_from_its_cursor(
        tenders: Tenders, feed: Feed, monkeypatch: pytest.MonkeyPatch) -> None:
    _chain(feed, load("worked-example-updates/tender1.json"))
    tenders.connector("chain", f"{feed.url}/pages/one")
    real = upsert.PageWriter.write
    calls = {"n": 0}

    def flaky(self: Any, items: Any) -> Any:
        calls["n"] += 1
        result = real(self, items)
        if calls["n"] == 2:
            raise sa.exc.OperationalError("INSERT", {}, Exception("database went away"))
        return result

    monkeypatch.setattr(upsert.PageWriter, "write", flaky)
    run = tenders.run("chain")
    # page 2's attempt failed and rolled back; its job waits for its retry
    assert (run["status"], run["pages"], run["created"]) == ("RUNNING", 1, 1)
    with tenders.rt.db.system.begin() as conn:
        conn.execute(outbox.outbox.update().where(outbox.outbox.c.status == "PENDING")
                     .values(available_at=outbox.utcnow()))
    outbox.run_due(tenders.rt)
    [last] = tenders.admin.data(RUNS, {"n": "chain"})["connectorRuns"]
    assert (last["status"], last["pages"], last["created"], last["failed"]) == ("SUCCEEDED", 2, 2, 0)
    assert tenders.count("tenderReleases") == 7


def test_a_run_whose_job_was_abandoned_does_not_block_the_next(
        tenders: Tenders, feed: Feed, monkeypatch: pytest.MonkeyPatch) -> None:
    _chain(feed, load("worked-example-updates/tender1.json"))
    tenders.connector("chain", f"{feed.url}/pages/one")
    real = upsert.PageWriter.write

    def dying(self: Any, items: Any) -> Any:
        real(self, items)
        raise Killed()

    monkeypatch.setattr(upsert.PageWriter, "write", dying)
    with pytest.raises(Killed):
        tenders.run("chain")
    rt = tenders.rt
    with rt.db.system.connect() as conn:
        job = conn.execute(sa.select(outbox.outbox).where(outbox.outbox.c.status == "RUNNING")).mappings().one()
    busy = tenders.admin.error('mutation { runConnector(name: "chain") { status } }')
    assert busy["message"] == "connector 'chain' is already running"
    # the reaper gives up on it (its worker died on every attempt)
    assert outbox.abandon(rt, job["id"], attempts=job["attempts"])
    monkeypatch.setattr(upsert.PageWriter, "write", real)
    run = tenders.run("chain")
    assert (run["status"], run["pages"], run["created"]) == ("SUCCEEDED", 2, 2)
    old = tenders.admin.data(RUNS, {"n": "chain"})["connectorRuns"][1]
    assert old["status"] == "FAILED" and "ended FAILED" in old["error"]
