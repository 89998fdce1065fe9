"""What a plugin adds to a tenant's GraphQL schema (its objects' types and ``register_graphql_extensions``
fields) exists for the tenants that installed it only; extension resolvers read records with the
caller's permissions; bad extensions are left out without breaking the schema."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tessera.services.runtime import Runtime
from tessera.services.tenants import CreatedTenant
from tessera.testing import GraphQLClient

INTROSPECT = """{
  __schema { queryType { fields { name } } mutationType { fields { name } } types { name } }
  account: __type(name: "Account") { fields { name } }
}"""
ATLAS_QUERIES = {"atlasSiteNames", "atlasAccountNames", "atlasWho", "site", "sites"}
ATLAS_MUTATIONS = {"atlasEcho", "createSite", "updateSite", "deleteSite"}
ATLAS_ACCOUNT_FIELDS = {"atlasRegion", "atlasSiteCount", "sites"}
INSTALL = "mutation($n: String!) { installPlugin(name: $n) { installed } }"
CREATE_ACCOUNT = "mutation($d: AccountCreateInput!) { createAccount(data: $d) { id } }"


def _schema(client: GraphQLClient) -> dict[str, set[str]]:
    data = client.data(INTROSPECT)
    return {
        "queries": {f["name"] for f in data["__schema"]["queryType"]["fields"]},
        "mutations": {f["name"] for f in data["__schema"]["mutationType"]["fields"]},
        "types": {t["name"] for t in data["__schema"]["types"]},
        "account": {f["name"] for f in data["account"]["fields"]},
    }


def _extension_logs(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [r.fields for r in caplog.records if r.getMessage() == "plugin_extension_skipped"]  # type: ignore[attr-defined]


def test_only_tenants_that_installed_the_plugin_see_its_types_and_fields(
    admin: GraphQLClient, papp: Any, prt: Runtime, tools: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # given two tenants on the same installation; the admin's tenant installs atlas, the other does not
    with tools.plugin_tenant(prt) as other:
        bystander = GraphQLClient(papp, other.token)
        before = _schema(bystander)
        with caplog.at_level(logging.ERROR, logger="tessera.plugins"):
            admin.data(INSTALL, {"n": "atlas"})
            mine = _schema(admin)
        theirs = _schema(bystander)
        # then the installing tenant has atlas's extension fields, object type and account fields
        assert mine["queries"] >= ATLAS_QUERIES
        assert mine["mutations"] >= ATLAS_MUTATIONS
        assert "Site" in mine["types"]
        assert mine["account"] >= ATLAS_ACCOUNT_FIELDS
        # but not the extension named outside atlas's prefix, which was left out and logged
        assert "siteTotal" not in mine["queries"]
        assert {"plugin": "atlas", "error": "field siteTotal does not start with the plugin's name"} in \
            _extension_logs(caplog)
        # and the other tenant sees none of it, exactly as before
        assert theirs == before
        assert not ATLAS_QUERIES & theirs["queries"]
        assert not ATLAS_MUTATIONS & theirs["mutations"]
        assert "Site" not in theirs["types"]
        assert not ATLAS_ACCOUNT_FIELDS & theirs["account"]
        error = bystander.error("{ atlasSiteNames }")
        assert error["message"] == "Cannot query field 'atlasSiteNames' on type 'Query'."


def test_extension_resolvers_use_the_request_view(admin: GraphQLClient, ptenant: CreatedTenant) -> None:
    # given atlas installed (its before_install created the site Headquarters) and two more sites
    admin.data(INSTALL, {"n": "atlas"})
    for name in ("Zeta", "Alpha"):
        admin.data("mutation($d: SiteCreateInput!) { createSite(data: $d) { id } }", {"d": {"name": name}})
    # then the extension lists them through request_of(info).records, sorted by name
    assert admin.data("{ atlasSiteNames }") == {"atlasSiteNames": ["Alpha", "Headquarters", "Zeta"]}
    # and the view tells the tenant, the user and the locale asked for
    slug, user = ptenant.tenant.slug, ptenant.admin_user_id
    assert admin.data("{ atlasWho }") == {"atlasWho": f"{slug}/{user}/None"}
    assert admin.post({"query": "{ atlasWho }"}, headers={"Accept-Language": "zh-CN"}) == {
        "data": {"atlasWho": f"{slug}/{user}/zh"}}
    # and extension mutations run as mutations
    assert admin.data('mutation { atlasEcho(text: "hello") }') == {"atlasEcho": "HELLO"}


def test_extension_resolvers_respect_the_callers_permissions(admin: GraphQLClient, tools: Any) -> None:
    # given atlas installed, a rep with the standard user set, and private accounts: one the rep owns
    admin.data(INSTALL, {"n": "atlas"})
    rep_id, rep = tools.user(admin, "rep@example.com")
    admin.data(CREATE_ACCOUNT, {"d": {"name": "Alpha", "owner": rep_id}})
    admin.data(CREATE_ACCOUNT, {"d": {"name": "Beta"}})
    admin.data(CREATE_ACCOUNT, {"d": {"name": "Gamma"}})
    admin.data('mutation { updateObject(input: {name: "account", sharing: PRIVATE}) { sharing } }')
    # then the extension shows the admin every account, and the rep only the rep's own
    assert admin.data("{ atlasAccountNames }") == {"atlasAccountNames": ["Alpha", "Beta", "Gamma"]}
    assert rep.data("{ atlasAccountNames }") == {"atlasAccountNames": ["Alpha"]}
    # and filters given by the resolver apply on top of the permissions
    assert admin.data('{ atlasAccountNames(prefix: "G") }') == {"atlasAccountNames": ["Gamma"]}
    assert rep.data('{ atlasAccountNames(prefix: "G") }') == {"atlasAccountNames": []}
    # and the install let the standard set read atlas's own site
    assert rep.data("{ atlasSiteNames }") == {"atlasSiteNames": ["Headquarters"]}
    # while for a user without any permission set the object is not found, and the generated API does
    # not even offer it
    _, stranger = tools.user(admin, "stranger@example.com", sets=[])
    error = stranger.error("{ atlasSiteNames }")
    assert (error["message"], error["extensions"]) == ("no object 'site'", {"code": "NOT_FOUND", "field": "object"})
    assert stranger.error("{ sites { totalCount } }")["message"].startswith(
        "Cannot query field 'sites' on type 'Query'.")
    assert admin.data("{ atlasSiteNames }") == {"atlasSiteNames": ["Headquarters"]}


def test_a_failing_extensions_hook_leaves_the_schema_working_without_that_plugins_fields(
    admin: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    # given atlas and dud installed; dud's register_graphql_extensions raises
    admin.data(INSTALL, {"n": "atlas"})
    with caplog.at_level(logging.ERROR, logger="tessera.plugins"):
        admin.data(INSTALL, {"n": "dud"})
        # when the tenant's schema is used
        schema = _schema(admin)
    # then it works, with atlas's extensions and without any of dud's
    assert schema["queries"] >= ATLAS_QUERIES
    assert not {name for name in schema["queries"] | schema["mutations"] if name.startswith("dud")}
    assert admin.data("{ atlasSiteNames accounts { totalCount } }") == {
        "atlasSiteNames": ["Headquarters"], "accounts": {"totalCount": 0}}
    # and the problem was logged naming the plugin and hook
    assert {"plugin": "dud",
            "error": "plugin dud failed in register_graphql_extensions: dud cannot build its extensions"} in \
        _extension_logs(caplog)
    # and the plugins listing still reports dud as installed
    plugins = admin.data("{ plugins { name installed } }")["plugins"]
    assert {"name": "dud", "installed": True} in plugins


def test_extensions_follow_installs_and_uninstalls(admin: GraphQLClient) -> None:
    # the schema is cached per metadata version: install and uninstall each give a new one
    assert "atlasSiteNames" not in _schema(admin)["queries"]
    admin.data(INSTALL, {"n": "atlas"})
    assert admin.data("{ atlasSiteNames }") == {"atlasSiteNames": ["Headquarters"]}
    admin.data('mutation { uninstallPlugin(name: "atlas", keepData: true) { installed } }')
    assert admin.error("{ atlasSiteNames }")["message"] == "Cannot query field 'atlasSiteNames' on type 'Query'."
    # the kept object stays in the generated API
    assert admin.data("{ sites { totalCount } }") == {"sites": {"totalCount": 1}}
