"""Refreshing accounts from the GLEIF API: fields, history, paging, faults, a truthful run log, crash safety."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from tests.plugins.registry.conftest import AMAZON, CREATE, FUND, PUMA, RUNS, SHELL, Gleif, Registry

from tessera.services.automation import outbox
from tessera.services.connectors import upsert
from tessera.storage.system_tables import connector_runs, connectors

HISTORY = """query($id: ID!) { recordHistory(object: "account", id: $id) { field oldValue newValue channel } }"""


def test_accounts_get_the_registry_fields_of_their_lei(registry: Registry, gleif: Gleif) -> None:
    unknown = "5493000TESSERA000010"  # well formed (its check digits hold), but no entity has it
    registry.accounts([{"name": "Shell", "lei": SHELL}, {"name": "A fund", "lei": FUND.lower()},
                       {"name": "Typo Ltd", "lei": "21380068P1DRHMJ8KU71"}, {"name": "Gone Ltd", "lei": unknown},
                       {"name": "No LEI Ltd"}])
    registry.connector(gleif.base)
    run = registry.run()
    assert run["status"] == "SUCCEEDED", run
    assert run["counts"]["account"] == {"created": 0, "updated": 2, "unchanged": 0, "failed": 2}
    assert sorted((s["key"], s["reason"]) for s in run["errorSamples"]) == [
        ("21380068P1DRHMJ8KU71", "account 'Typo Ltd': '21380068P1DRHMJ8KU71' is not an LEI (ISO 17442: 20 letters "
                                 "and digits ending in valid check digits)"),
        (unknown, f"account 'Gone Ltd': the registry has no LEI {unknown}")]
    # one request for the well-formed LEIs only
    assert gleif.hits == [f"/api/v1/lei-records?filter[lei]={SHELL},{unknown},{FUND}&page[size]=100"]
    accounts = registry.by_name()
    shell = accounts["Shell"]
    assert {k: shell[k] for k in ("registryLegalName", "registrationAuthority", "registrationNumber", "jurisdiction",
                                  "legalForm", "entityStatus", "registrationStatus", "legalCountry", "entityCreatedDate",
                                  "initialRegistrationDate", "nextRenewalDate", "successorLei")} == {
        "registryLegalName": "SHELL PLC", "registrationAuthority": "RA000585", "registrationNumber": "04366849",
        "jurisdiction": "GB", "legalForm": "B6ES", "entityStatus": "ACTIVE", "registrationStatus": "ISSUED",
        "legalCountry": "GB", "entityCreatedDate": "2002-02-05", "initialRegistrationDate": "2016-06-30",
        "nextRenewalDate": "2026-07-04", "successorLei": None}
    assert shell["legalAddress"] == shell["headquartersAddress"] == "SHELL CENTRE, LONDON GB-LND SE1 7NA, GB"
    assert shell["registryUpdatedAt"].startswith("2025-05-06T15:51:56")
    fund = accounts["A fund"]
    assert fund["lei"] == FUND  # the lower-case LEI an admin typed is stored as the registry writes it
    assert (fund["legalForm"], fund["registrationNumber"], fund["registrationStatus"]) == ("FUND", None, "LAPSED")
    assert accounts["No LEI Ltd"]["registryLegalName"] is None
    # field history says the connector changed it
    history = registry.admin.data(HISTORY, {"id": shell["id"]})["recordHistory"]
    changed = {e["field"]: e for e in history}
    assert changed["registryLegalName"]["newValue"] == "SHELL PLC"
    assert changed["registryLegalName"]["channel"] == "connector"
    # a second run finds nothing new: unchanged, no history, no risk events
    again = registry.run()
    assert again["counts"]["account"] == {"created": 0, "updated": 0, "unchanged": 2, "failed": 2}
    assert len(registry.admin.data(HISTORY, {"id": shell["id"]})["recordHistory"]) == len(history)


def test_answers_are_read_page_by_page_and_runs_go_in_batches(registry: Registry, gleif: Gleif) -> None:
    leis = sorted(gleif.records)[:7]
    registry.accounts([{"name": f"Account {n}", "lei": lei} for n, lei in enumerate(leis)])
    gleif.page_cap = 2
    registry.connector(gleif.base, batchSize=3)
    run = registry.run()
    assert run["status"] == "SUCCEEDED" and run["pages"] == 3  # 3 + 3 + 1 accounts
    assert run["counts"]["account"]["updated"] == 7
    asked = [h for h in gleif.hits if "filter[lei]" in h]
    assert len(asked) == 2 + 2 + 1  # 3 LEIs in pages of 2, twice; then 1
    assert sum("page[number]=2" in h for h in asked) == 2
    names = {a["lei"]: a["registryLegalName"] for a in registry.by_name().values()}
    assert names == {lei: gleif.records[lei]["attributes"]["entity"]["legalName"]["name"] for lei in leis}


def test_429_500_and_timeouts_are_retried(registry: Registry, gleif: Gleif) -> None:
    registry.accounts([{"name": "Shell", "lei": SHELL}, {"name": "Amazon", "lei": AMAZON}])
    gleif.faults = ["429", "500", "timeout"]
    registry.connector(gleif.base)
    run = registry.run()
    assert run["status"] == "SUCCEEDED", run
    assert run["counts"]["account"]["updated"] == 2
    assert len([h for h in gleif.hits if "filter[lei]" in h]) == 4


@pytest.mark.parametrize("fault", ["garbage", "not-jsonapi"])
def test_a_malformed_answer_fails_the_run_and_the_next_run_resumes(registry: Registry, gleif: Gleif,
                                                                    fault: str) -> None:
    registry.accounts([{"name": "Amazon", "lei": AMAZON}, {"name": "Shell", "lei": SHELL}, {"name": "Fund", "lei": FUND}])
    registry.connector(gleif.base, batchSize=1)
    gleif.faults = ["", fault]  # the second page's answer is broken
    run = registry.run()
    assert run["status"] == "FAILED" and run["pages"] == 1
    assert run["error"].startswith("page 2: MalformedPage:"), run["error"]
    assert ("did not answer JSON" in run["error"]) if fault == "garbage" else ("not a JSON:API document" in run["error"])
    refreshed = {n: a["registryLegalName"] for n, a in registry.by_name().items()}
    assert refreshed == {"Amazon": None, "Fund": None, "Shell": "SHELL PLC"}  # page 1 (LEI order) kept
    resumed = registry.run()
    assert resumed["status"] == "SUCCEEDED" and resumed["pages"] == 2  # Amazon, then the fund
    assert resumed["counts"]["account"] == {"created": 0, "updated": 2, "unchanged": 0, "failed": 0}
    runs = registry.admin.data(RUNS, {"n": "gleif"})["connectorRuns"]
    assert [r["status"] for r in runs] == ["SUCCEEDED", "FAILED"]


def test_next_links_must_stay_on_the_source(registry: Registry, gleif: Gleif) -> None:
    registry.accounts([{"name": "Shell", "lei": SHELL}, {"name": "Amazon", "lei": AMAZON}])
    registry.connector(gleif.base.replace("127.0.0.1", "localhost"))  # the server's links name 127.0.0.1
    gleif.page_cap = 1  # two answers: the first links to the second
    run = registry.run()
    assert run["status"] == "FAILED" and "links.next leaves the source" in run["error"], run
    assert len(gleif.hits) == 1


def test_an_account_deleted_during_the_fetch_is_not_created_again(registry: Registry, gleif: Gleif) -> None:
    [_, amazon] = registry.accounts([{"name": "Shell", "lei": SHELL}, {"name": "Amazon", "lei": AMAZON}])
    registry.connector(gleif.base)

    def delete_amazon() -> None:
        gleif.on_request = None
        registry.admin.data("mutation($id: ID!) { deleteAccount(id: $id) { id } }", {"id": amazon})

    gleif.on_request = delete_amazon
    run = registry.run()
    assert run["status"] == "SUCCEEDED"
    assert run["counts"]["account"] == {"created": 0, "updated": 1, "unchanged": 0, "failed": 1}
    assert run["errorSamples"][0]["reason"].startswith(f"no account with lei {AMAZON}")
    assert list(registry.by_name()) == ["Shell"]


class Killed(BaseException):
    """Stands for the worker dying: not an Exception, so no handler on the way catches it."""


def test_a_worker_killed_mid_page_resumes_without_duplicate_events(
        registry: Registry, gleif: Gleif, monkeypatch: pytest.MonkeyPatch) -> None:
    registry.accounts([{"name": "Amazon", "lei": AMAZON, "registryLegalName": "AMAZON VIDEO LIMITED"},
                       {"name": "Fund", "lei": FUND, "registrationStatus": "ISSUED"}, {"name": "Puma", "lei": PUMA}])
    registry.connector(gleif.base, batchSize=1)
    real = upsert.PageWriter.write
    calls = {"n": 0}

    def dying(self: Any, items: Any) -> Any:
        calls["n"] += 1
        result = real(self, items)
        if calls["n"] == 2:
            raise Killed()  # after page 2's writes (the fund and its lapse event), before its commit
        return result

    monkeypatch.setattr(upsert.PageWriter, "write", dying)
    with pytest.raises(Killed):
        registry.run()
    rt = registry.rt
    with rt.db.system.connect() as conn:
        job = conn.execute(sa.select(outbox.outbox).where(outbox.outbox.c.status == "RUNNING")).mappings().one()
        cursor = json.loads(conn.execute(sa.select(connectors.c.cursor)).scalar())
        pages = conn.execute(sa.select(connector_runs.c.pages)).scalar()
    assert pages == 1 and cursor == {"phase": "lei", "after": AMAZON}
    assert [r["kind"] for r in registry.risks()] == ["legalNameChanged"]  # page 1's event only
    assert outbox.release(rt, job["id"], from_status="RUNNING")
    outbox.run_due(rt)
    [last] = registry.admin.data(RUNS, {"n": "gleif"})["connectorRuns"]
    assert last["status"] == "SUCCEEDED" and last["pages"] == 3 and last["updated"] == 3
    assert sorted(r["kind"] for r in registry.risks()) == ["legalNameChanged", "registrationLapsed"]
    assert registry.by_name()["Fund"]["registrationStatus"] == "LAPSED"


def test_bad_configurations_are_refused_naming_the_key(registry: Registry, gleif: Gleif) -> None:
    for config, message in (({"batchSize": 500}, "config: batchSize: a whole number from 1 to 200 (LEIs asked for per request)"),
                            ({"requestsPerSecond": 0}, "config: requestsPerSecond: give a number above 0, not 0"),
                            ({"timeoutSeconds": "soon"}, "config: timeoutSeconds: give a number, not 'soon'"),
                            ({"source": ""}, "config.source: give an http(s) URL or a path")):
        answer = registry.admin.execute(CREATE, {"i": {"name": "bad", "plugin": "registry",
                                                       "config": {"source": gleif.base, **config}}})
        [error] = answer["errors"]
        assert (error["message"], error["extensions"]["code"]) == (message, "VALIDATION_ERROR"), error


def test_a_malformed_record_is_logged_and_the_others_refreshed(registry: Registry, gleif: Gleif) -> None:
    registry.accounts([{"name": "Shell", "lei": SHELL}, {"name": "Amazon", "lei": AMAZON}, {"name": "Fund", "lei": FUND}])
    del gleif.records[AMAZON]["attributes"]["entity"]  # the registry answers a record without its entity
    gleif.records[FUND]["attributes"]["registration"]["lastUpdateDate"] = "yesterday"
    registry.connector(gleif.base)
    run = registry.run()
    assert run["status"] == "SUCCEEDED"
    assert run["counts"]["account"] == {"created": 0, "updated": 1, "unchanged": 0, "failed": 2}
    assert sorted((s["key"], s["reason"]) for s in run["errorSamples"]) == [
        (AMAZON, f"LEI record {AMAZON}: attributes lack entity or registration"),
        (FUND, "registryUpdatedAt (registration.lastUpdateDate): 'yesterday' is not a date-time")]
    accounts = registry.by_name()
    assert accounts["Shell"]["registryLegalName"] == "SHELL PLC"
    assert accounts["Amazon"]["registryLegalName"] is None and accounts["Fund"]["registryLegalName"] is None
    assert registry.risks() == []  # the fund's lapse waits for a record that can be read
