"""Users look entities up in the registry by name, page by page, and link one to an account."""

from __future__ import annotations

from tests.plugins.registry.conftest import AMAZON, FUND, SHELL, Gleif, Registry

from tessera.testing import GraphQLClient

SEARCH = """query($q: String!, $p: Int) { connectorSearch(name: "gleif", query: $q, page: $p) {
  page lastPage total candidates { key title detail document } } }"""
LINK = """mutation($k: String!, $r: ID!) { linkExternalRecord(connector: "gleif", key: $k, record: $r) {
  record key changed counts } }"""
HISTORY = 'query($id: ID!) { recordHistory(object: "account", id: $id) { field newValue channel user { id } } }'


def _user(registry: Registry, email: str) -> tuple[str, GraphQLClient]:
    user = registry.admin.data("mutation($i: CreateUserInput!) { createUser(input: $i) { id } }",
                               {"i": {"email": email, "name": email}})["createUser"]["id"]
    token = registry.admin.data("mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { token } }",
                                {"i": {"name": email, "user": user}})["createApiToken"]["token"]
    return user, GraphQLClient(registry.admin.app, token)


def test_a_rep_finds_an_entity_and_links_it_to_their_account(registry: Registry, gleif: Gleif) -> None:
    rep_id, rep = _user(registry, "rep@example.com")
    registry.connector(gleif.base)
    [account] = registry.accounts([{"name": "Shell UK", "owner": rep_id}])
    # "shell" is in the legal name of many of Shell's entities: ten a page
    gleif.page_cap = 10
    first = rep.data(SEARCH, {"q": "shell", "p": 1})["connectorSearch"]
    expected = sorted(lei for lei, r in gleif.records.items()
                      if "shell" in r["attributes"]["entity"]["legalName"]["name"].casefold())
    assert first["total"] == len(expected) and first["lastPage"] == 2 and len(first["candidates"]) == 10
    second = rep.data(SEARCH, {"q": "shell", "p": 2})["connectorSearch"]
    assert [c["key"] for c in first["candidates"] + second["candidates"]] == expected
    shell = next(c for c in first["candidates"] if c["key"] == SHELL)
    assert shell["title"] == "SHELL PLC" and shell["detail"] == "LONDON, GB · GB · ACTIVE / ISSUED"
    assert shell["document"]["registrationNumber"] == "04366849"
    # linking writes the LEI and the registry's fields, as the rep, through the connector channel
    linked = rep.data(LINK, {"k": SHELL.lower(), "r": account})["linkExternalRecord"]
    assert (linked["record"], linked["key"], linked["changed"]) == (account, SHELL, True)
    got = registry.by_name()["Shell UK"]
    assert (got["lei"], got["registryLegalName"], got["registrationNumber"]) == (SHELL, "SHELL PLC", "04366849")
    history = rep.data(HISTORY, {"id": account})["recordHistory"]
    lei_change = next(h for h in history if h["field"] == "lei")
    assert (lei_change["newValue"], lei_change["channel"], lei_change["user"]["id"]) == (SHELL, "connector", rep_id)
    again = rep.data(LINK, {"k": SHELL, "r": account})["linkExternalRecord"]
    assert again["changed"] is False
    # the connector's next run finds the account unchanged
    assert registry.run()["counts"]["account"] == {"created": 0, "updated": 0, "unchanged": 1, "failed": 0}


def test_linking_a_lapsed_entity_raises_its_risk_event(registry: Registry, gleif: Gleif) -> None:
    registry.connector(gleif.base)
    [account] = registry.accounts([{"name": "Fund"}])
    linked = registry.admin.data(LINK, {"k": FUND, "r": account})["linkExternalRecord"]
    assert linked["counts"]["riskEvent"]["created"] == 1
    assert [(e["kind"], e["account"]["name"]) for e in registry.risks()] == [("registrationLapsed", "Fund")]
    assert [n["title"] for n in registry.admin.data("{ notifications { title } }")["notifications"]] == [
        "LEI registration lapsed: UK EQUITY FUND (OFFSHORE)"]


def test_refusals_are_clear(registry: Registry, gleif: Gleif) -> None:
    registry.connector(gleif.base)
    [mine, other] = registry.accounts([{"name": "Mine", "lei": AMAZON}, {"name": "Other"}])
    cases = [
        (SEARCH, {"q": " "}, "VALIDATION_ERROR", "query: give 1 to 200 characters"),
        (SEARCH, {"q": "x", "p": 0}, "VALIDATION_ERROR", "page: pages count from 1"),
        (LINK, {"k": "NOTANLEI", "r": other}, "VALIDATION_ERROR",
         "'NOTANLEI' is not an LEI (ISO 17442: 20 letters and digits ending in valid check digits)"),
        (LINK, {"k": "5493000TESSERA000010", "r": other}, "VALIDATION_ERROR",
         "the registry has no LEI 5493000TESSERA000010"),
        (LINK, {"k": AMAZON, "r": other}, "VALIDATION_ERROR", f"another account already has lei {AMAZON}"),
        (LINK, {"k": SHELL, "r": "00000000-0000-0000-0000-000000000000"}, "NOT_FOUND", None),
    ]
    for document, variables, code, message in cases:
        answer = registry.admin.execute(document, variables)
        assert "errors" in answer, (variables, answer)
        [error] = answer["errors"]
        assert error["extensions"]["code"] == code, (variables, error)
        if message is not None:
            assert error["message"] == message, error
    assert registry.by_name()["Other"]["lei"] is None and mine
    # the source failing is the source's fault, said as such
    gleif.faults = ["garbage"]
    [error] = registry.admin.execute(SEARCH, {"q": "shell"})["errors"]
    assert error["extensions"]["code"] == "SOURCE_UNAVAILABLE" and "did not answer JSON" in error["message"]


def test_who_may_search_and_link(registry: Registry, gleif: Gleif) -> None:
    registry.connector(gleif.base)
    registry.admin.data('mutation { updateObject(input: {name: "account", sharing: PRIVATE}) { name } }')
    [admins] = registry.accounts([{"name": "Admin's"}])
    _, rep = _user(registry, "rep2@example.com")
    assert rep.data(SEARCH, {"q": "puma"})["connectorSearch"]["total"] == 1
    asked = len(gleif.hits)
    [error] = rep.execute(LINK, {"k": SHELL, "r": admins})["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND"  # a record the rep cannot see is not told apart
    assert len(gleif.hits) == asked  # and the registry is not even asked
    registry.admin.data('mutation { updateObject(input: {name: "account", sharing: PUBLIC_READ}) { name } }')
    [error] = rep.execute(LINK, {"k": SHELL, "r": admins})["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert registry.by_name()["Admin's"]["lei"] is None
    registry.admin.data('mutation { updateConnector(input: {name: "gleif", active: false}) { name } }')
    [error] = rep.execute(SEARCH, {"q": "puma"})["errors"]
    assert (error["extensions"]["code"], error["message"]) == ("VALIDATION_ERROR", "connector 'gleif' is inactive")
