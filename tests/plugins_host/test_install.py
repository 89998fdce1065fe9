"""Installing plugins into a tenant through GraphQL (``plugins``, ``installPlugin``) and the service:
origin of what a plugin defines, one transaction, conflicts, requirements, permissions and the
``before_install`` hook."""

from __future__ import annotations

from typing import Any

from tessera.plugin_host import PluginHost
from tessera.services.runtime import Runtime
from tessera.services.tenants import CreatedTenant
from tessera.testing import GraphQLClient

PLUGINS = "{ plugins { name version description requires installed installedVersion } }"
INSTALL = "mutation($n: String!) { installPlugin(name: $n) { name version installed installedVersion } }"
UNINSTALL = "mutation($n: String!, $k: Boolean) { uninstallPlugin(name: $n, keepData: $k) { name installed } }"
UPGRADE = "mutation($n: String!) { upgradePlugin(name: $n) { name installedVersion } }"
OBJECT = """query($n: String!) {
  object(name: $n) { name origin sharing label fields { name origin } validationRules { name origin } }
}"""
OBJECT_NAMES = "{ objects { name origin } }"
STANDARD_OBJECTS = [
    {"name": "account", "origin": "standard"},
    {"name": "contact", "origin": "standard"},
    {"name": "lead", "origin": "standard"},
    {"name": "opportunity", "origin": "standard"},
    {"name": "activity", "origin": "standard"},
]


def _listing(installed: dict[str, str]) -> list[dict[str, Any]]:
    """The ``plugins`` answer, written out by hand, with the tenant's installed versions."""
    rows = [
        ("atlas", "1.0.0", "Sites of accounts", []),
        ("beacon", "0.3.0", "Beacons at sites", ["atlas"]),
        ("cairn", "1.0.0", "Trail markers", []),
        ("dud", "0.0.1", "Broken on purpose", []),
        ("quarry", "1.0.0", "Quarries (always refuses to install)", []),
        ("siteclash", "1.0.0", "Another plugin's site object", []),
        ("stdclash", "1.0.0", "Redefines a standard field", []),
    ]
    return [
        {"name": name, "version": version, "description": description, "requires": requires,
         "installed": name in installed, "installedVersion": installed.get(name)}
        for name, version, description, requires in rows
    ]


def _installed(admin: GraphQLClient) -> dict[str, str]:
    return {p["name"]: p["installedVersion"] for p in admin.data(PLUGINS)["plugins"] if p["installed"]}


def test_plugins_lists_every_plugin_of_the_installation_with_the_tenants_installs(
    admin: GraphQLClient, papp: Any, prt: Runtime, tools: Any
) -> None:
    # given a fresh tenant, and another tenant that installed atlas
    with tools.plugin_tenant(prt) as other:
        tools.install(prt, other, "atlas")
        # then the fresh tenant sees every plugin, none installed
        assert admin.data(PLUGINS)["plugins"] == _listing({})
        # and the other tenant sees atlas installed at 1.0.0
        assert GraphQLClient(papp, other.token).data(PLUGINS)["plugins"] == _listing({"atlas": "1.0.0"})


def test_install_applies_the_package_with_the_plugins_origin_in_one_transaction(
    admin: GraphQLClient, prt: Runtime, ptenant: CreatedTenant, tools: Any, host: PluginHost
) -> None:
    # given a fresh tenant at some metadata version
    before = tools.metadata_version(prt, ptenant)
    calls = len(host.plugins["atlas"].module.CALLS)
    # when atlas is installed
    installed = admin.data(INSTALL, {"n": "atlas"})["installPlugin"]
    # then it is installed at its version, in one metadata change
    assert installed == {"name": "atlas", "version": "1.0.0", "installed": True, "installedVersion": "1.0.0"}
    assert tools.metadata_version(prt, ptenant) == before + 1
    assert _installed(admin) == {"atlas": "1.0.0"}
    # and its own object has origin atlas, with all its fields
    assert admin.data(OBJECT_NAMES)["objects"] == [*STANDARD_OBJECTS, {"name": "site", "origin": "atlas"}]
    site = admin.data(OBJECT, {"n": "site"})["object"]
    assert site == {
        "name": "site", "origin": "atlas", "sharing": "PUBLIC_READ_WRITE", "label": "Site",
        "fields": [{"name": n, "origin": "atlas"} for n in ("name", "code", "account", "area", "doubledArea")],
        "validationRules": [],
    }
    # and the standard account keeps its origin and header, gaining atlas's field, rollup and rule
    account = admin.data(OBJECT, {"n": "account"})["object"]
    assert (account["origin"], account["label"], account["sharing"]) == ("standard", "Account", "PUBLIC_READ_WRITE")
    assert {f["name"]: f["origin"] for f in account["fields"] if f["origin"] != "standard"} == {
        "atlasRegion": "atlas", "atlasSiteCount": "atlas"}
    assert account["fields"][-2:] == [{"name": "atlasRegion", "origin": "atlas"},
                                     {"name": "atlasSiteCount", "origin": "atlas"}]
    assert account["validationRules"] == [{"name": "atlasKnownRegion", "origin": "atlas"}]
    assert "atlas_region" in tools.columns(prt, ptenant, tools.table_of(prt, ptenant, "account"))
    # and before_install ran once, for this tenant, after the metadata: its reference site exists (and
    # its write went through atlas's own before_record_write, installed by then)
    new_calls = host.plugins["atlas"].module.CALLS[calls:]
    assert new_calls[0] == ("before_install", ptenant.tenant.slug, "atlas", None)
    assert [(kind, [(created, before) for _, created, before in changes]) for kind, _, _, changes in new_calls[1:]] == [
        ("before_record_write", [(True, {})])]
    assert admin.data("{ sites { edges { node { name code } } } }")["sites"]["edges"] == [
        {"node": {"name": "Headquarters", "code": "HQS-001"}}]


def test_install_and_uninstall_are_audited(admin: GraphQLClient, ptenant: CreatedTenant) -> None:
    admin.data(INSTALL, {"n": "cairn"})
    admin.data(UNINSTALL, {"n": "cairn", "k": True})
    events = admin.data('{ auditEvents(kind: "security") { kind target userId details } }')["auditEvents"]
    plugin_events = [e for e in events if "Plugin" in (e["target"] or "")]
    assert plugin_events == [  # newest first
        {"kind": "security", "target": "uninstallPlugin cairn", "userId": ptenant.admin_user_id,
         "details": {"keepData": True}},
        {"kind": "security", "target": "installPlugin cairn", "userId": ptenant.admin_user_id,
         "details": {"version": "1.0.0"}},
    ]


def test_installing_twice_is_a_conflict(admin: GraphQLClient, prt: Runtime, ptenant: CreatedTenant, tools: Any) -> None:
    admin.data(INSTALL, {"n": "cairn"})
    version = tools.metadata_version(prt, ptenant)
    error = admin.error(INSTALL, {"n": "cairn"})
    assert error["message"] == "plugin cairn is already installed (version 1.0.0)"
    assert error["extensions"] == {"code": "CONFLICT", "field": "name"}
    assert tools.metadata_version(prt, ptenant) == version


def test_an_unknown_plugin_is_not_found_naming_the_available_ones(admin: GraphQLClient) -> None:
    error = admin.error(INSTALL, {"n": "ghost"})
    assert error["message"] == (
        "no plugin 'ghost' in this installation (available: atlas, beacon, cairn, dud, quarry, siteclash, stdclash)")
    assert error["extensions"] == {"code": "NOT_FOUND", "field": "name"}


def test_only_administrators_install_upgrade_and_uninstall(
    admin: GraphQLClient, prt: Runtime, ptenant: CreatedTenant, tools: Any
) -> None:
    # given atlas installed, and a user with the standard user set
    admin.data(INSTALL, {"n": "atlas"})
    _, user = tools.user(admin, "rep@example.com")
    version = tools.metadata_version(prt, ptenant)
    # then the user may see the plugins, but changes are forbidden
    assert user.data(PLUGINS)["plugins"] == _listing({"atlas": "1.0.0"})
    for query, name in ((INSTALL, "cairn"), (UPGRADE, "atlas"), (UNINSTALL, "atlas")):
        assert user.error(query, {"n": name})["extensions"]["code"] == "FORBIDDEN"
    # and nothing changed
    assert _installed(admin) == {"atlas": "1.0.0"}
    assert tools.metadata_version(prt, ptenant) == version


def test_requires_is_enforced_on_install_and_on_uninstall(admin: GraphQLClient, prt: Runtime,
                                                         ptenant: CreatedTenant, tools: Any) -> None:
    # when beacon (requires atlas) is installed first
    version = tools.metadata_version(prt, ptenant)
    error = admin.error(INSTALL, {"n": "beacon"})
    # then it is refused naming the requirement, and nothing is applied
    assert error["message"] == "plugin beacon requires atlas: install it first"
    assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": "name", "requires": ["atlas"]}
    assert tools.metadata_version(prt, ptenant) == version
    assert admin.data(OBJECT, {"n": "beacon"})["object"] is None
    # when atlas is installed, then beacon
    admin.data(INSTALL, {"n": "atlas"})
    assert admin.data(INSTALL, {"n": "beacon"})["installPlugin"]["installedVersion"] == "0.3.0"
    # then beacon's object exists, and its rollup was added to atlas's object with origin beacon
    assert admin.data(OBJECT, {"n": "beacon"})["object"]["origin"] == "beacon"
    site = admin.data(OBJECT, {"n": "site"})["object"]
    assert site["origin"] == "atlas"
    assert site["fields"][-1] == {"name": "beaconCount", "origin": "beacon"}
    # when atlas is uninstalled while beacon needs it
    for keep in (True, False):
        refused = admin.error(UNINSTALL, {"n": "atlas", "k": keep})
        # then it is refused as in use, naming the dependant
        assert refused["message"] == "plugins beacon require atlas: uninstall them first"
        assert refused["extensions"] == {"code": "IN_USE", "field": "name", "dependents": ["beacon"]}
    assert _installed(admin) == {"atlas": "1.0.0", "beacon": "0.3.0"}
    # and once beacon is gone, atlas may go too
    assert admin.data(UNINSTALL, {"n": "beacon", "k": False})["uninstallPlugin"] == {"name": "beacon",
                                                                                    "installed": False}
    assert admin.data(UNINSTALL, {"n": "atlas", "k": False})["uninstallPlugin"] == {"name": "atlas", "installed": False}
    assert _installed(admin) == {}


def test_a_field_the_standard_metadata_defines_is_a_conflict_naming_both(
    admin: GraphQLClient, prt: Runtime, ptenant: CreatedTenant, tools: Any
) -> None:
    version = tools.metadata_version(prt, ptenant)
    error = admin.error(INSTALL, {"n": "stdclash"})
    assert error["message"] == "plugin stdclash defines field account.industry, which the standard metadata already defines"
    assert error["extensions"] == {"code": "CONFLICT", "field": "name", "plugin": "stdclash", "owner": "standard"}
    # and nothing of it was applied (its other field neither)
    assert tools.metadata_version(prt, ptenant) == version
    fields = admin.data(OBJECT, {"n": "account"})["object"]["fields"]
    assert "stdclashNote" not in {f["name"] for f in fields}
    assert {"name": "industry", "origin": "standard"} in fields
    assert _installed(admin) == {}


def test_an_object_another_plugin_defines_is_a_conflict_naming_both(
    admin: GraphQLClient, prt: Runtime, ptenant: CreatedTenant, tools: Any
) -> None:
    # given atlas (which defines object site) installed
    admin.data(INSTALL, {"n": "atlas"})
    version = tools.metadata_version(prt, ptenant)
    # when siteclash, which defines its own object site, is installed
    error = admin.error(INSTALL, {"n": "siteclash"})
    # then it is refused naming both plugins, and atlas's site is untouched
    assert error["message"] == "plugin siteclash defines field site.name, which plugin atlas already defines"
    assert error["extensions"] == {"code": "CONFLICT", "field": "name", "plugin": "siteclash", "owner": "atlas"}
    assert tools.metadata_version(prt, ptenant) == version
    assert [f["name"] for f in admin.data(OBJECT, {"n": "site"})["object"]["fields"]] == [
        "name", "code", "account", "area", "doubledArea"]
    assert _installed(admin) == {"atlas": "1.0.0"}


def test_a_field_the_tenant_defined_itself_is_a_conflict_naming_both(
    admin: GraphQLClient, prt: Runtime, ptenant: CreatedTenant, tools: Any
) -> None:
    # given the admin's own field account.atlasRegion
    admin.data('mutation { createField(input: {object: "account", name: "atlasRegion", type: INTEGER}) { name } }')
    version = tools.metadata_version(prt, ptenant)
    # when atlas (which defines account.atlasRegion) is installed
    error = admin.error(INSTALL, {"n": "atlas"})
    # then it is refused naming the tenant's own metadata, and nothing of atlas is applied
    assert error["message"] == (
        "plugin atlas defines field account.atlasRegion, which the tenant's own metadata already defines")
    assert error["extensions"] == {"code": "CONFLICT", "field": "name", "plugin": "atlas", "owner": "custom"}
    assert tools.metadata_version(prt, ptenant) == version
    assert admin.data(OBJECT, {"n": "site"})["object"] is None


def test_a_plugin_error_in_before_install_rolls_back_the_whole_install(
    admin: GraphQLClient, prt: Runtime, ptenant: CreatedTenant, tools: Any
) -> None:
    # given a tenant at some metadata version, with its tables
    version = tools.metadata_version(prt, ptenant)
    tables = tools.tables(prt, ptenant)
    account_columns = tools.columns(prt, ptenant, tools.table_of(prt, ptenant, "account"))
    # when quarry is installed: its before_install writes a pit and an account, then raises PluginError
    error = admin.error(INSTALL, {"n": "quarry"})
    # then the refusal is the plugin's own message, as PLUGIN_ERROR naming it
    assert error["message"] == f"quarry needs a licence for tenant {ptenant.tenant.slug}"
    assert error["extensions"] == {"code": "PLUGIN_ERROR", "plugin": "quarry"}
    # and nothing is left: no object, no table, no column, no records, no install, same version
    assert tools.metadata_version(prt, ptenant) == version
    assert admin.data(OBJECT_NAMES)["objects"] == STANDARD_OBJECTS
    assert tools.tables(prt, ptenant) == tables
    assert tools.columns(prt, ptenant, tools.table_of(prt, ptenant, "account")) == account_columns
    assert admin.data("{ accounts { totalCount } }")["accounts"]["totalCount"] == 0
    assert _installed(admin) == {}


def test_a_failing_hook_refuses_the_change_as_plugin_error_naming_plugin_and_hook(
    admin: GraphQLClient, prt: Runtime, ptenant: CreatedTenant, tools: Any
) -> None:
    # given dud (whose before_uninstall raises KeyError) and atlas installed
    admin.data(INSTALL, {"n": "dud"})
    admin.data(INSTALL, {"n": "atlas"})
    version = tools.metadata_version(prt, ptenant)
    # when dud is uninstalled
    error = admin.error(UNINSTALL, {"n": "dud", "k": False})
    # then the change is refused naming the plugin and the hook, and dud stays installed
    assert error["message"] == "plugin dud failed in before_uninstall: 'dudState'"
    assert error["extensions"] == {"code": "PLUGIN_ERROR", "plugin": "dud", "hook": "before_uninstall"}
    assert _installed(admin) == {"atlas": "1.0.0", "dud": "0.0.1"}
    assert tools.metadata_version(prt, ptenant) == version
    # and the other plugin keeps working in the same tenant
    assert admin.data("{ atlasSiteNames }") == {"atlasSiteNames": ["Headquarters"]}
    assert admin.data(UNINSTALL, {"n": "atlas", "k": False})["uninstallPlugin"]["installed"] is False


def test_install_leaves_the_sharing_of_a_standard_object_it_extends_alone(admin: GraphQLClient) -> None:
    # given the admin made accounts private
    admin.data('mutation { updateObject(input: {name: "account", sharing: PRIVATE}) { sharing } }')
    # when atlas, which adds fields to account, is installed
    admin.data(INSTALL, {"n": "atlas"})
    # then accounts are still private (docs/plugin_hooks.md: "its header (labels, sharing) is left alone")
    assert admin.data(OBJECT, {"n": "account"})["object"]["sharing"] == "PRIVATE"
