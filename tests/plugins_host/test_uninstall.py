"""Uninstalling a plugin: keeping its definitions and records for the tenant (origin ``custom``), or
dropping them with their data, leaving the tenant's own definitions and other plugins alone."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from tessera.plugin_host import PluginHost
from tessera.services.runtime import Runtime
from tessera.testing import GraphQLClient

UNINSTALL = "mutation($n: String!, $k: Boolean) { uninstallPlugin(name: $n, keepData: $k) { name installed installedVersion } }"
OBJECT = "query($n: String!) { object(name: $n) { origin fields { name origin } validationRules { name origin } } }"
ACCOUNT = "query($id: ID!) { account(id: $id) { name loyalty cairnNote } }"
SITE_FIELDS = ["name", "code", "account", "area", "doubledArea"]


@pytest.fixture
def world(prt: Runtime, papp: Any, tools: Any) -> Iterator[SimpleNamespace]:
    """A tenant with the admin's own account.loyalty (made before any plugin), atlas and cairn
    installed, the admin's own site.note (on atlas's object), and records in all of them."""
    with tools.plugin_tenant(prt) as created:
        admin = GraphQLClient(papp, created.token)
        admin.data('mutation { createField(input: {object: "account", name: "loyalty", type: INTEGER}) { name } }')
        for name in ("atlas", "cairn"):
            admin.data("mutation($n: String!) { installPlugin(name: $n) { installed } }", {"n": name})
        admin.data('mutation { createField(input: {object: "site", name: "note", type: TEXT}) { name } }')
        account = admin.data('mutation { createAccount(data: {name: "Acme", loyalty: 5, atlasRegion: "north", '
                             'cairnNote: "c"}) { id } }')["createAccount"]["id"]
        admin.data('mutation($a: ID!) { createSite(data: {name: "Depot", account: $a, area: "2", note: "n"}) { id } }',
                   {"a": account})
        admin.data('mutation { createCairn(data: {label: "Top"}) { id } }')
        world = SimpleNamespace(
            created=created, admin=admin, account=account,
            site_table=tools.table_of(prt, created, "site"), account_table=tools.table_of(prt, created, "account"),
            cairn_table=tools.table_of(prt, created, "cairn"),
        )
        assert {"atlas_region", "loyalty", "cairn_note"} <= tools.columns(prt, created, world.account_table)
        assert world.site_table in tools.tables(prt, created)
        yield world


def _installed(admin: GraphQLClient) -> dict[str, str]:
    return {p["name"]: p["installedVersion"] for p in admin.data("{ plugins { name installed installedVersion } }")[
        "plugins"] if p["installed"]}


def test_uninstall_keeping_data_hands_definitions_and_records_to_the_tenant(
    world: SimpleNamespace, prt: Runtime, host: PluginHost, tools: Any
) -> None:
    admin = world.admin
    calls = len(host.plugins["atlas"].module.CALLS)
    version = tools.metadata_version(prt, world.created)
    # when atlas is uninstalled with the default keepData (true)
    result = admin.data('mutation { uninstallPlugin(name: "atlas") { name installed installedVersion } }')
    # then it is no longer installed, in one metadata change, and before_uninstall was told keep_data
    assert result == {"uninstallPlugin": {"name": "atlas", "installed": False, "installedVersion": None}}
    assert tools.metadata_version(prt, world.created) == version + 1
    assert host.plugins["atlas"].module.CALLS[calls:] == [
        ("before_uninstall", world.created.tenant.slug, "atlas", True)]
    assert _installed(admin) == {"cairn": "1.0.0"}
    # and its object, fields and rule remain, owned by the tenant
    site = admin.data(OBJECT, {"n": "site"})["object"]
    assert site["origin"] == "custom"
    assert site["fields"] == [{"name": n, "origin": "custom"} for n in [*SITE_FIELDS, "note"]]
    account = admin.data(OBJECT, {"n": "account"})["object"]
    owned = {f["name"]: f["origin"] for f in account["fields"] if f["origin"] != "standard"}
    assert owned == {"loyalty": "custom", "atlasRegion": "custom", "atlasSiteCount": "custom",
                     "cairnNote": "cairn", "cairnOld": "cairn"}
    assert account["validationRules"] == [{"name": "atlasKnownRegion", "origin": "custom"}]
    # and so do the records, the rollup and the rule
    sites = admin.data("{ sites(orderBy: [{name: AscNullsLast}]) { edges { node { name note doubledArea } } } }")
    assert [e["node"] for e in sites["sites"]["edges"]] == [
        {"name": "Depot", "note": "n", "doubledArea": "4.00"}, {"name": "Headquarters", "note": None, "doubledArea": None}]
    acme = admin.data("query($id: ID!) { account(id: $id) { atlasRegion atlasSiteCount loyalty } }", {"id": world.account})
    assert acme == {"account": {"atlasRegion": "north", "atlasSiteCount": 1, "loyalty": 5}}
    assert admin.error('mutation { createAccount(data: {name: "X", atlasRegion: "up"}) { id } }')["message"] == (
        "The region must be north, south, east or west")
    # and the extension fields are gone from the schema
    assert admin.error("{ atlasSiteNames }")["message"] == "Cannot query field 'atlasSiteNames' on type 'Query'."
    # and installing atlas again is refused: its definitions belong to the tenant now
    again = admin.error('mutation { installPlugin(name: "atlas") { installed } }')
    assert again["extensions"] == {"code": "CONFLICT", "field": "name", "plugin": "atlas", "owner": "custom"}


def test_uninstall_dropping_data_removes_the_plugins_definitions_tables_columns_and_records(
    world: SimpleNamespace, prt: Runtime, host: PluginHost, tools: Any
) -> None:
    admin = world.admin
    calls = len(host.plugins["atlas"].module.CALLS)
    tables = tools.tables(prt, world.created)
    # when atlas is uninstalled with keepData false
    result = admin.data(UNINSTALL, {"n": "atlas", "k": False})
    assert result == {"uninstallPlugin": {"name": "atlas", "installed": False, "installedVersion": None}}
    assert host.plugins["atlas"].module.CALLS[calls:] == [
        ("before_uninstall", world.created.tenant.slug, "atlas", False)]
    # then its object is gone with its table (and the admin's own field on it), its records with them
    assert admin.data(OBJECT, {"n": "site"})["object"] is None
    assert tools.tables(prt, world.created) == tables - {world.site_table}
    assert admin.error("{ sites { totalCount } }")["message"].startswith("Cannot query field 'sites' on type 'Query'.")
    # and its fields and rule on account are gone, columns included
    account = admin.data(OBJECT, {"n": "account"})["object"]
    assert {f["name"]: f["origin"] for f in account["fields"] if f["origin"] != "standard"} == {
        "loyalty": "custom", "cairnNote": "cairn", "cairnOld": "cairn"}
    assert account["validationRules"] == []
    columns = tools.columns(prt, world.created, world.account_table)
    assert "atlas_region" not in columns and {"loyalty", "cairn_note"} <= columns
    # and the admin's own field on the standard object kept its data, as did the other plugin's
    assert admin.data(ACCOUNT, {"id": world.account}) == {"account": {"name": "Acme", "loyalty": 5, "cairnNote": "c"}}
    assert admin.data(OBJECT, {"n": "cairn"})["object"]["origin"] == "cairn"
    assert admin.data("{ cairns { edges { node { label } } } }") == {"cairns": {"edges": [{"node": {"label": "Top"}}]}}
    assert _installed(admin) == {"cairn": "1.0.0"}
    # and atlas can be installed afresh
    admin.data('mutation { installPlugin(name: "atlas") { installed } }')
    assert admin.data("{ atlasSiteNames }") == {"atlasSiteNames": ["Headquarters"]}


def test_uninstalling_a_plugin_that_extends_another_plugins_object_leaves_that_object(
    world: SimpleNamespace, prt: Runtime, tools: Any
) -> None:
    # given beacon (requires atlas) installed: its object beacon, and its rollup on atlas's site
    admin = world.admin
    admin.data('mutation { installPlugin(name: "beacon") { installed } }')
    beacon_table = tools.table_of(prt, world.created, "beacon")
    admin.data('mutation { createBeacon(data: {label: "B1", battery: 80}) { id } }')
    # when beacon is uninstalled dropping its data
    admin.data(UNINSTALL, {"n": "beacon", "k": False})
    # then its object and table are gone, and so is its rollup on site, but site keeps everything else
    assert admin.data(OBJECT, {"n": "beacon"})["object"] is None
    assert beacon_table not in tools.tables(prt, world.created)
    site = admin.data(OBJECT, {"n": "site"})["object"]
    assert (site["origin"], [f["name"] for f in site["fields"]]) == ("atlas", [*SITE_FIELDS, "note"])
    assert admin.data("{ atlasSiteNames }") == {"atlasSiteNames": ["Depot", "Headquarters"]}
    assert _installed(admin) == {"atlas": "1.0.0", "cairn": "1.0.0"}


def test_uninstalling_a_plugin_that_is_not_installed_is_not_found(world: SimpleNamespace) -> None:
    for keep in (True, False):
        error = world.admin.error(UNINSTALL, {"n": "beacon", "k": keep})
        assert (error["message"], error["extensions"]) == ("plugin beacon is not installed",
                                                           {"code": "NOT_FOUND", "field": "name"})
