"""``before_record_write``: installed plugins see every create and update in its transaction, may write
through the same path, and may refuse the write."""

from __future__ import annotations

from typing import Any

from tessera.plugin_host import PluginHost
from tessera.services.tenants import CreatedTenant
from tessera.testing import GraphQLClient

INSTALL = 'mutation($n: String!) { installPlugin(name: $n) { installed } }'
CREATE_ACCOUNT = 'mutation($d: AccountCreateInput!) { createAccount(data: $d) { id atlasRegion } }'
CREATE_SITE = 'mutation($d: SiteCreateInput!) { createSite(data: $d) { id name } }'
UPDATE_SITE = 'mutation($id: ID!, $d: SiteUpdateInput!) { updateSite(id: $id, data: $d) { id area } }'
ACCOUNT = 'query($id: ID!) { account(id: $id) { atlasRegion } }'
HISTORY = 'query($id: ID!) { recordHistory(object: "account", id: $id) { action field newValue channel } }'


def _calls(host: PluginHost, since: int) -> list[Any]:
    return [c for c in host.plugins["atlas"].module.CALLS[since:] if c[0] == "before_record_write"]


def test_the_hook_sees_creates_and_updates_with_old_values_and_writes_in_the_same_path(
    admin: GraphQLClient, ptenant: CreatedTenant, host: PluginHost
) -> None:
    admin.data(INSTALL, {"n": "atlas"})
    account = admin.data(CREATE_ACCOUNT, {"d": {"name": "Acme"}})["createAccount"]
    assert account["atlasRegion"] is None
    since = len(host.plugins["atlas"].module.CALLS)
    # when a site of the account is created
    site = admin.data(CREATE_SITE, {"d": {"name": "Plant", "account": account["id"], "area": "12.50"}})["createSite"]
    # then atlas saw one created site, and gave the account a region in the same transaction
    assert _calls(host, since) == [("before_record_write", ptenant.tenant.slug, "atlas", [(site["id"], True, {})])]
    assert admin.data(ACCOUNT, {"id": account["id"]})["account"]["atlasRegion"] == "north"
    history = admin.data(HISTORY, {"id": account["id"]})["recordHistory"]
    assert {"action": "UPDATE", "field": "atlasRegion", "newValue": "north", "channel": "plugin"} in history
    # and an update passes the old values of what changed only
    since = len(host.plugins["atlas"].module.CALLS)
    admin.data(UPDATE_SITE, {"id": site["id"], "d": {"area": "20.00", "name": "Plant"}})
    assert _calls(host, since) == [("before_record_write", ptenant.tenant.slug, "atlas",
                                    [(site["id"], False, {"area": "12.50"})])]


def test_a_refusing_hook_leaves_nothing_written(admin: GraphQLClient, host: PluginHost) -> None:
    admin.data(INSTALL, {"n": "atlas"})
    account = admin.data(CREATE_ACCOUNT, {"d": {"name": "Globex"}})["createAccount"]
    error = admin.error(CREATE_SITE, {"d": {"name": "Forbidden site", "account": account["id"]}})
    assert (error["extensions"]["code"], error["message"]) == ("PLUGIN_ERROR", "atlas refuses forbidden sites")
    # the site was not created, and the account got no region from the refused write
    count = 'query { sites(filter: {name: {eq: "Forbidden site"}}) { totalCount } }'
    assert admin.data(count)["sites"]["totalCount"] == 0
    assert admin.data(ACCOUNT, {"id": account["id"]})["account"]["atlasRegion"] is None


def test_tenants_without_the_plugin_do_not_call_it(admin: GraphQLClient, host: PluginHost) -> None:
    # atlas is not installed in this tenant: its hook never runs for the tenant's writes
    since = len(host.plugins["atlas"].module.CALLS)
    admin.data('mutation { createAccount(data: {name: "Initech"}) { id } }')
    assert _calls(host, since) == []
    assert "sites" not in {f["name"] for f in admin.data("{ __schema { queryType { fields { name } } } }")[
        "__schema"]["queryType"]["fields"]}
