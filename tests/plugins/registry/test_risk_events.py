"""Registry changes become risk events on the account and notify its owner, once."""

from __future__ import annotations

from tests.plugins.registry.conftest import AMAZON, FUND, PUMA, SHELL, Gleif, Registry

from tessera.testing import GraphQLClient

NOTIFICATIONS = "{ notifications { title body objectName: object recordId } }"


def _rep(registry: Registry) -> tuple[str, GraphQLClient]:
    user = registry.admin.data("mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
                               {"i": {"email": "rep@example.com", "name": "Rep"}})["createUser"]["id"]
    token = registry.admin.data("mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { token } }",
                                {"i": {"name": "rep", "user": user}})["createApiToken"]["token"]
    return user, GraphQLClient(registry.admin.app, token)


def test_changes_become_risk_events_that_notify_the_owner_once(registry: Registry, gleif: Gleif) -> None:
    rep_id, rep = _rep(registry)
    # the rep's accounts, as the registry described them before
    registry.accounts([
        {"name": "Amazon", "lei": AMAZON, "registryLegalName": "AMAZON VIDEO LIMITED", "owner": rep_id},
        {"name": "Fund", "lei": FUND, "registrationStatus": "ISSUED", "entityStatus": "ACTIVE", "owner": rep_id},
        {"name": "Shell", "lei": SHELL, "owner": rep_id},
        {"name": "Puma", "lei": PUMA}])  # the administrator's
    registry.connector(gleif.base)
    first = registry.run()
    assert first["status"] == "SUCCEEDED"
    assert first["counts"]["riskEvent"] == {"created": 2, "updated": 0, "unchanged": 0, "failed": 0}
    events = {e["kind"]: e for e in registry.risks()}
    assert set(events) == {"legalNameChanged", "registrationLapsed"}  # Shell and Puma: first sight, in good standing
    renamed = events["legalNameChanged"]
    assert (renamed["previousValue"], renamed["newValue"], renamed["severity"]) == (
        "AMAZON VIDEO LIMITED", "Amazon Digital UK Limited", "low")
    assert renamed["account"]["name"] == "Amazon" and renamed["lei"] == AMAZON
    assert renamed["occurredAt"].startswith(gleif.records[AMAZON]["attributes"]["registration"]["lastUpdateDate"][:19])
    lapsed = events["registrationLapsed"]
    assert (lapsed["previousValue"], lapsed["newValue"], lapsed["severity"]) == ("ISSUED", "LAPSED", "medium")
    notes = rep.data(NOTIFICATIONS)["notifications"]
    assert sorted(n["title"] for n in notes) == ["LEI registration lapsed: UK EQUITY FUND (OFFSHORE)",
                                                 "Legal name changed: AMAZON VIDEO LIMITED → Amazon Digital UK Limited"]
    assert {n["objectName"] for n in notes} == {"riskEvent"}

    # the registry then reports Shell retired into a successor, and Puma no longer operating
    gleif.change(SHELL, "2026-11-01T08:00:00Z", registration__status="RETIRED", entity__status="INACTIVE",
                 entity__expiration={"date": "2026-10-30T00:00:00Z", "reason": "CORPORATE_ACTION"},
                 entity__successorEntity={"lei": PUMA, "name": "PUMA SE"})
    gleif.change(PUMA, "2026-11-02T08:00:00Z", entity__status="INACTIVE")
    second = registry.run()
    assert second["counts"]["account"] == {"created": 0, "updated": 2, "unchanged": 2, "failed": 0}
    kinds = sorted((e["account"]["name"], e["kind"], e["severity"]) for e in registry.risks())
    assert kinds == [("Amazon", "legalNameChanged", "low"), ("Fund", "registrationLapsed", "medium"),
                     ("Puma", "entityInactive", "high"), ("Shell", "entityInactive", "high"),
                     ("Shell", "registrationRetired", "high"), ("Shell", "successorEntity", "high")]
    shell = registry.by_name()["Shell"]
    assert (shell["successorLei"], shell["successorName"], shell["registrationStatus"]) == (PUMA, "PUMA SE", "RETIRED")
    notes = rep.data(NOTIFICATIONS)["notifications"]
    assert len(notes) == 5  # the rep owns Shell; Puma's owner (the administrator) got Puma's
    successor = next(n for n in notes if n["title"].startswith("SHELL PLC has a successor"))
    assert successor["title"] == f"SHELL PLC has a successor: PUMA SE ({PUMA})"
    assert successor["body"] == "Registry expiration: CORPORATE_ACTION on 2026-10-30."
    admin_titles = [n["title"] for n in registry.admin.data(NOTIFICATIONS)["notifications"]]
    assert admin_titles == ["Entity no longer operating: PUMA SE"]

    # running again over the same registry data adds nothing and notifies nobody
    third = registry.run()
    assert third["counts"]["account"]["unchanged"] == 4 and "riskEvent" not in (third["counts"] or {})
    assert len(registry.risks()) == 6
    assert len(rep.data(NOTIFICATIONS)["notifications"]) == 5


def test_a_status_back_to_normal_is_a_low_risk_change(registry: Registry, gleif: Gleif) -> None:
    registry.accounts([{"name": "Fund", "lei": FUND}])
    registry.connector(gleif.base)
    registry.run()
    gleif.change(FUND, "2026-11-05T00:00:00Z", registration__status="ISSUED",
                 registration__nextRenewalDate="2027-11-05T00:00:00Z")
    registry.run()
    events = sorted((e["kind"], e["previousValue"], e["newValue"], e["severity"]) for e in registry.risks())
    assert events == [("registrationLapsed", None, "LAPSED", "medium"),
                      ("registrationStatusChanged", "LAPSED", "ISSUED", "low")]
    assert registry.by_name()["Fund"]["nextRenewalDate"] == "2027-11-05"


def test_a_user_who_may_not_read_the_account_sees_none_of_its_events(registry: Registry, gleif: Gleif) -> None:
    rep_id, rep = _rep(registry)
    registry.admin.data('mutation { updateObject(input: {name: "account", sharing: PRIVATE}) { name } }')
    registry.accounts([{"name": "Fund", "lei": FUND}, {"name": "Mine", "lei": AMAZON, "owner": rep_id,
                                                        "registryLegalName": "AMAZON VIDEO LIMITED"}])
    registry.connector(gleif.base)
    registry.run()
    assert len(registry.risks()) == 2
    seen = rep.data("{ riskEvents(first: 10) { edges { node { kind account { name } } } } }")["riskEvents"]["edges"]
    assert [e["node"] for e in seen] == [{"kind": "legalNameChanged", "account": {"name": "Mine"}}]
