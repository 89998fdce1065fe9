"""The demo's registry data (saved GLEIF responses, read offline) and scheduled refreshes."""

from __future__ import annotations

from datetime import timedelta

from tests.plugins.registry.conftest import AMAZON, FUND, RUNS, SHELL, Gleif, Registry, saved_records

from tessera.core.clock import utcnow
from tessera.services.automation.schedules import tick
from tessera.services.demo import demo_connectors, load_sample_data
from tessera.services.runtime import Actor

UPDATE = "mutation($i: UpdateConnectorInput!) { updateConnector(input: $i) { schedule } }"


def test_the_demo_refreshes_its_accounts_from_the_saved_responses(registry: Registry) -> None:
    rt, created = registry.rt, registry.created
    actor = Actor(rt.tenant(created.tenant.slug), created.admin_user_id, "import")
    load_sample_data(rt, actor, accounts=2)  # the standard sample's first two: Shell plc (with its LEI), Siemens
    [(name, run)] = demo_connectors(rt, actor)
    assert (name, run.status) == ("gleif", "SUCCEEDED")
    saved = saved_records()
    accounts = {a["lei"]: a for a in registry.by_name().values() if a["lei"]}
    refreshed = {lei for lei, a in accounts.items() if a["registryLegalName"]}
    # every saved entity is an account now, refreshed from its record; Siemens's LEI is not in the saved data
    assert refreshed == set(saved)
    assert run.failed == 1 and "no saved registry record has LEI" in run.error_samples[0]["reason"]
    assert {lei: accounts[lei]["registryLegalName"] for lei in saved} == {
        lei: r["attributes"]["entity"]["legalName"]["name"] for lei, r in saved.items()}
    kinds = {(e["lei"], e["kind"]) for e in registry.risks()}
    # the two accounts sampled with earlier registry values, and the lapsed registrations seen first
    assert (AMAZON, "legalNameChanged") in kinds and (FUND, "registrationLapsed") in kinds
    assert kinds == {(lei, "registrationLapsed") for lei, r in saved.items()
                     if r["attributes"]["registration"]["status"] == "LAPSED"} | {(AMAZON, "legalNameChanged")}
    assert accounts[SHELL]["name"] == "Shell plc"  # the account's own name is the admin's, never overwritten


def test_a_schedule_refreshes_the_accounts(registry: Registry, gleif: Gleif) -> None:
    registry.accounts([{"name": "Shell", "lei": SHELL}])
    registry.connector(gleif.base)
    registry.admin.data(UPDATE, {"i": {"name": "gleif", "schedule": "0 3 * * *"}})
    tick(registry.rt, utcnow() + timedelta(days=1, minutes=1))  # 03:00 has come once at least: one run
    runs = registry.admin.data(RUNS, {"n": "gleif"})["connectorRuns"]
    assert [(r["status"], r["updated"]) for r in runs] == [("SUCCEEDED", 1)]
    gleif.change(SHELL, "2026-12-01T00:00:00Z", entity__legalName={"name": "SHELL GROUP PLC", "language": "en"})
    tick(registry.rt, utcnow() + timedelta(days=2, minutes=1))
    latest = registry.admin.data(RUNS, {"n": "gleif"})["connectorRuns"][0]
    assert (latest["status"], latest["updated"]) == ("SUCCEEDED", 1)
    assert registry.by_name()["Shell"]["registryLegalName"] == "SHELL GROUP PLC"
    assert [e["title"] for e in registry.risks()] == ["Legal name changed: SHELL PLC → SHELL GROUP PLC"]
