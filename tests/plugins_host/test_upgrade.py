"""Upgrading a plugin in a tenant: the tenant installed cairn 1.0.0 through the main host (``prt``),
then the installation moves to cairn 2.0.0 (``prt_v2``, a host holding tests/fixtures/plugins/cairn_v2
under the name cairn, on the same database).

cairn 2.0.0 drops ``account.cairnOld``, ``cairn.legacyCode`` and the rule ``cairn.heightPositive``;
it adds ``cairn.marker``, ``account.cairnScore`` and the object ``cairnLog``, where its
``before_upgrade`` hook writes "upgraded from <from_version>".
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from tessera.plugin_host import PluginHost
from tessera.services.runtime import Runtime
from tessera.testing import GraphQLClient

UPGRADE = """mutation($d: Boolean) {
  upgradePlugin(name: "cairn", allowDestructive: $d) { name version installed installedVersion }
}"""
OBJECT = "query($n: String!) { object(name: $n) { origin fields { name origin } validationRules { name } } }"
REMOVED = ["field account.cairnOld", "field cairn.legacyCode", "validation rule cairn.heightPositive"]


@pytest.fixture
def cairn_tenant(prt: Runtime, papp: Any, papp_v2: Any, tools: Any) -> Iterator[SimpleNamespace]:
    """A tenant with cairn 1.0.0 and some data in its fields: clients on the old and the new installation."""
    with tools.plugin_tenant(prt) as created:
        v1 = GraphQLClient(papp, created.token)
        v1.data('mutation { installPlugin(name: "cairn") { installed } }')
        cairn = v1.data('mutation { createCairn(data: {label: "Top", height: "3.5", legacyCode: "L-1"}) { id } }')
        account = v1.data('mutation { createAccount(data: {name: "Acme", cairnNote: "kept", cairnOld: "gone"}) '
                          '{ id } }')
        yield SimpleNamespace(created=created, v1=v1, v2=GraphQLClient(papp_v2, created.token),
                              cairn_id=cairn["createCairn"]["id"], account_id=account["createAccount"]["id"])


def test_the_new_installation_lists_the_new_version_against_the_installed_one(cairn_tenant: SimpleNamespace) -> None:
    assert cairn_tenant.v2.data("{ plugins { name version installed installedVersion } }") == {"plugins": [
        {"name": "cairn", "version": "2.0.0", "installed": True, "installedVersion": "1.0.0"}]}


def test_an_upgrade_that_removes_definitions_is_refused_without_allow_destructive(
    cairn_tenant: SimpleNamespace, prt_v2: Runtime, tools: Any
) -> None:
    version = tools.metadata_version(prt_v2, cairn_tenant.created)
    # when the tenant is upgraded to 2.0.0 without allowing destructive changes (the default)
    for variables in ({}, {"d": False}):
        error = cairn_tenant.v2.error(UPGRADE, variables)
        # then it is refused, listing what 2.0.0 no longer defines
        assert error["message"] == (
            "version 2.0.0 of cairn no longer defines field account.cairnOld, field cairn.legacyCode, "
            "validation rule cairn.heightPositive; pass allowDestructive: true to delete them with their data")
        assert error["extensions"] == {"code": "UNSAFE_CHANGE", "field": "allowDestructive", "removes": REMOVED}
    # and nothing changed: same version, no new object or fields, still 1.0.0
    assert tools.metadata_version(prt_v2, cairn_tenant.created) == version
    v2 = cairn_tenant.v2
    assert v2.data(OBJECT, {"n": "cairnLog"})["object"] is None
    assert [f["name"] for f in v2.data(OBJECT, {"n": "cairn"})["object"]["fields"]] == ["label", "height", "legacyCode"]
    assert v2.data("{ plugins { installedVersion } }") == {"plugins": [{"installedVersion": "1.0.0"}]}


def test_a_destructive_upgrade_applies_the_new_version(
    cairn_tenant: SimpleNamespace, prt_v2: Runtime, hosts: Any, tools: Any
) -> None:
    created, v2 = cairn_tenant.created, cairn_tenant.v2
    version = tools.metadata_version(prt_v2, created)
    calls = len(hosts.cairn_v2.plugins["cairn"].module.CALLS)
    # when the tenant is upgraded with allowDestructive
    upgraded = v2.data(UPGRADE, {"d": True})["upgradePlugin"]
    # then it has 2.0.0, in one metadata change
    assert upgraded == {"name": "cairn", "version": "2.0.0", "installed": True, "installedVersion": "2.0.0"}
    assert tools.metadata_version(prt_v2, created) == version + 1
    # and account lost cairnOld (its column too), kept cairnNote with its data, gained cairnScore
    account = v2.data(OBJECT, {"n": "account"})["object"]
    assert [f for f in account["fields"] if f["origin"] == "cairn"] == [
        {"name": "cairnNote", "origin": "cairn"}, {"name": "cairnScore", "origin": "cairn"}]
    columns = tools.columns(prt_v2, created, tools.table_of(prt_v2, created, "account"))
    assert {"cairn_note", "cairn_score"} <= columns and "cairn_old" not in columns
    record = v2.data("query($id: ID!) { account(id: $id) { cairnNote cairnScore } }", {"id": cairn_tenant.account_id})
    assert record == {"account": {"cairnNote": "kept", "cairnScore": None}}
    # and cairn gained marker and lost its rule: a negative height is accepted now
    cairn = v2.data(OBJECT, {"n": "cairn"})["object"]
    assert {"name": "marker", "origin": "cairn"} in cairn["fields"]
    assert cairn["validationRules"] == []
    assert v2.data('mutation { createCairn(data: {label: "Pit", height: "-1"}) { height } }') == {
        "createCairn": {"height": "-1.0"}}
    # and the new object came with origin cairn, holding what before_upgrade wrote, told the old version
    assert v2.data(OBJECT, {"n": "cairnLog"})["object"] == {
        "origin": "cairn", "fields": [{"name": "note", "origin": "cairn"}], "validationRules": []}
    assert v2.data("{ cairnLogs { edges { node { note } } } }") == {
        "cairnLogs": {"edges": [{"node": {"note": "upgraded from 1.0.0"}}]}}
    assert hosts.cairn_v2.plugins["cairn"].module.CALLS[calls:] == [
        ("before_upgrade", created.tenant.slug, "cairn", "1.0.0")]


def test_a_destructive_upgrade_removes_a_field_the_plugins_own_object_no_longer_has(
    cairn_tenant: SimpleNamespace, prt_v2: Runtime, tools: Any
) -> None:
    cairn_tenant.v2.data(UPGRADE, {"d": True})
    fields = [f["name"] for f in cairn_tenant.v2.data(OBJECT, {"n": "cairn"})["object"]["fields"]]
    assert fields == ["label", "height", "marker"]
    assert "legacy_code" not in tools.columns(prt_v2, cairn_tenant.created,
                                              tools.table_of(prt_v2, cairn_tenant.created, "cairn"))
    # and a second upgrade finds nothing more to remove
    assert cairn_tenant.v2.data(UPGRADE, {"d": False})["upgradePlugin"]["installedVersion"] == "2.0.0"


def test_an_upgrade_is_audited_like_install_and_uninstall(cairn_tenant: SimpleNamespace) -> None:
    cairn_tenant.v2.data(UPGRADE, {"d": True})
    events = cairn_tenant.v2.data('{ auditEvents(kind: "security") { target } }')["auditEvents"]
    assert "upgradePlugin cairn" in [e["target"] for e in events]


def test_upgrading_a_plugin_the_tenant_has_not_installed_is_not_found(papp_v2: Any, prt: Runtime, tools: Any) -> None:
    with tools.plugin_tenant(prt) as created:
        error = GraphQLClient(papp_v2, created.token).error(UPGRADE, {"d": True})
        assert (error["message"], error["extensions"]) == ("plugin cairn is not installed",
                                                           {"code": "NOT_FOUND", "field": "name"})


def test_atlas_upgrade_to_the_same_version_changes_nothing_but_calls_before_upgrade(
    admin: GraphQLClient, prt: Runtime, ptenant: Any, host: PluginHost, tools: Any
) -> None:
    # given atlas 1.0.0 installed, and the installation still at atlas 1.0.0
    admin.data('mutation { installPlugin(name: "atlas") { installed } }')
    calls = len(host.plugins["atlas"].module.CALLS)
    fields = admin.data(OBJECT, {"n": "site"})["object"]["fields"]
    # when it is upgraded
    upgraded = admin.data('mutation { upgradePlugin(name: "atlas") { installedVersion } }')
    # then it stays at 1.0.0 with the same definitions, and before_upgrade was told the version it had
    assert upgraded == {"upgradePlugin": {"installedVersion": "1.0.0"}}
    assert admin.data(OBJECT, {"n": "site"})["object"]["fields"] == fields
    assert host.plugins["atlas"].module.CALLS[calls:] == [("before_upgrade", ptenant.tenant.slug, "atlas", "1.0.0")]
