"""Accounts without an LEI find theirs by legal name when exactly one registry entity carries it."""

from __future__ import annotations

import copy

from tests.plugins.registry.conftest import PUMA, SHELL, Gleif, Registry


def test_unique_exact_names_get_their_lei_and_the_rest_are_explained(registry: Registry, gleif: Gleif) -> None:
    twin = copy.deepcopy(gleif.records[SHELL])
    twin["id"] = twin["attributes"]["lei"] = "5493000TESSERA000010"
    gleif.records[twin["id"]] = twin  # a second entity with Shell's legal name
    registry.accounts([{"name": "puma se"}, {"name": "Shell PLC"}, {"name": "Nowhere Trading Ltd"},
                       {"name": "Amazon", "lei": "254900LNRYNOQ9YPU758"}])
    registry.connector(gleif.base, matchByName=True)
    run = registry.run()
    assert run["status"] == "SUCCEEDED", run
    assert run["counts"]["account"] == {"created": 0, "updated": 2, "unchanged": 0, "failed": 2}
    assert sorted(s["reason"] for s in run["errorSamples"]) == [
        "account 'Nowhere Trading Ltd': no registry entity has this legal name",
        f"account 'Shell PLC': 2 registry entities have this legal name (SHELL PLC ({SHELL}), "
        "SHELL PLC (5493000TESSERA000010)); set the account's LEI by hand"]
    accounts = registry.by_name()
    assert (accounts["puma se"]["lei"], accounts["puma se"]["registryLegalName"]) == (PUMA, "PUMA SE")
    assert accounts["Shell PLC"]["lei"] is None and accounts["Nowhere Trading Ltd"]["lei"] is None
    searched = [h for h in gleif.hits if "legalName" in h]
    assert len(searched) == 3  # one search per account without an LEI
    # the next run refreshes Puma by its LEI like any other account
    again = registry.run()
    assert again["counts"]["account"] == {"created": 0, "updated": 0, "unchanged": 2, "failed": 2}


def test_without_match_by_name_accounts_without_lei_are_left_alone(registry: Registry, gleif: Gleif) -> None:
    registry.accounts([{"name": "PUMA SE"}])
    registry.connector(gleif.base)
    run = registry.run()
    assert run["status"] == "SUCCEEDED" and run["counts"] in ({}, None) and gleif.hits == []
    assert registry.by_name()["PUMA SE"]["lei"] is None
