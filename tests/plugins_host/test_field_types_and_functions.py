"""What plugins add for every tenant of the installation: field types validating on write, and
expression functions in formulas (SQL) and validation rules (Python). Plus sample data."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.services.demo import load_sample_data
from tessera.services.metadata import create_field
from tessera.services.runtime import Runtime
from tessera.services.tenants import CreatedTenant
from tessera.testing import GraphQLClient

INSTALL = "mutation($n: String!) { installPlugin(name: $n) { installed } }"
CREATE_SITE = "mutation($d: SiteCreateInput!) { createSite(data: $d) { id name code area doubledArea } }"
UPDATE_SITE = "mutation($id: ID!, $d: SiteUpdateInput!) { updateSite(id: $id, data: $d) { code } }"
CREATE_ACCOUNT = "mutation($d: AccountCreateInput!) { createAccount(data: $d) { id name atlasRegion } }"
UPDATE_ACCOUNT = "mutation($id: ID!, $d: AccountUpdateInput!) { updateAccount(id: $id, data: $d) { atlasRegion } }"
CODE_RULE = "code: a site code is three letters, a dash and three digits"


@pytest.fixture
def atlas(admin: GraphQLClient) -> GraphQLClient:
    """The admin of a tenant that installed atlas."""
    admin.data(INSTALL, {"n": "atlas"})
    return admin


def test_a_plugin_field_type_normalises_and_validates_on_create_and_update(atlas: GraphQLClient) -> None:
    # when sites are created with codes in atlas's ATLAS_SITE_CODE field
    created = atlas.data(CREATE_SITE, {"d": {"name": "North", "code": " abc-123 "}})["createSite"]
    # then a valid code is stored as the plugin normalised it
    assert created["code"] == "ABC-123"
    # and an invalid one is refused with the plugin's reason after the field's name
    error = atlas.error(CREATE_SITE, {"d": {"name": "South", "code": "12-ABC"}})
    assert error["message"] == CODE_RULE
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["extensions"]["field"] == "code"
    # and values the base type refuses never reach the plugin's rule
    base = atlas.error(CREATE_SITE, {"d": {"name": "East", "code": "X" * 300}})
    assert base["extensions"]["code"] == "VALIDATION_ERROR" and CODE_RULE not in base["message"]
    # and updates are checked too, leaving the record unchanged when refused
    assert atlas.error(UPDATE_SITE, {"id": created["id"], "d": {"code": "nope"}})["message"] == CODE_RULE
    assert atlas.data(UPDATE_SITE, {"id": created["id"], "d": {"code": "xyz-987"}}) == {"updateSite": {"code": "XYZ-987"}}
    # and the stored values filter like text
    found = atlas.data('{ sites(filter: {code: {startsWith: "XYZ"}}) { edges { node { name code } } } }')
    assert found["sites"]["edges"] == [{"node": {"name": "North", "code": "XYZ-987"}}]
    assert atlas.data("{ sites { totalCount } }") == {"sites": {"totalCount": 2}}  # North and Headquarters


def test_a_plugin_field_type_can_be_used_by_a_tenant_without_the_plugin(
    admin: GraphQLClient, prt: Runtime, ptenant: CreatedTenant, tools: Any
) -> None:
    # given a tenant that did not install atlas: field types belong to the whole installation
    # when the admin adds a field of atlas's type to account (through the service: in this process
    # the GraphQL FieldType enum was fixed before the fixture plugins were loaded)
    field = create_field(prt, tools.actor(prt, ptenant), {"object": "account", "name": "hqCode",
                                                         "type": "ATLAS_SITE_CODE"})
    assert (field.type, field.origin) == ("ATLAS_SITE_CODE", "custom")
    # then writes through the generated API are validated and normalised by the plugin's type
    create = "mutation($d: AccountCreateInput!) { createAccount(data: $d) { id hqCode } }"
    error = admin.error(create, {"d": {"name": "Acme", "hqCode": "xyz-9"}})
    assert error["message"] == "hqCode: a site code is three letters, a dash and three digits"
    assert admin.data(create, {"d": {"name": "Acme", "hqCode": "xyz-009"}})["createAccount"]["hqCode"] == "XYZ-009"
    assert admin.data("{ accounts { totalCount } }") == {"accounts": {"totalCount": 1}}


def test_a_plugin_function_works_in_formulas_computed_in_sql(atlas: GraphQLClient) -> None:
    # given sites with areas (site.doubledArea is the formula ATLASDOUBLE(area), scale 2)
    for name, area in (("Small", "1.25"), ("Large", "40"), ("Unknown", None)):
        atlas.data(CREATE_SITE, {"d": {"name": name, "area": area}})
    # then the formula gives twice the area, and null for a null area
    rows = atlas.data('{ sites(orderBy: [{name: AscNullsLast}]) { edges { node { name area doubledArea } } } }')
    assert [e["node"] for e in rows["sites"]["edges"]] == [
        {"name": "Headquarters", "area": None, "doubledArea": None},
        {"name": "Large", "area": "40.00", "doubledArea": "80.00"},
        {"name": "Small", "area": "1.25", "doubledArea": "2.50"},
        {"name": "Unknown", "area": None, "doubledArea": None},
    ]
    # and filtering and sorting by it run in SQL
    big = atlas.data('{ sites(filter: {doubledArea: {gt: "3"}}) { edges { node { name } } } }')
    assert [e["node"]["name"] for e in big["sites"]["edges"]] == ["Large"]
    by_formula = atlas.data('{ sites(orderBy: [{doubledArea: DescNullsLast}], first: 2) { edges { node { name } } } }')
    assert [e["node"]["name"] for e in by_formula["sites"]["edges"]] == ["Large", "Small"]
    # and the admin can write a formula of their own with it
    atlas.data('mutation { createField(input: {object: "opportunity", name: "twiceAmount", type: FORMULA, '
               'resultType: NUMBER, scale: 2, expression: "ATLASDOUBLE(amount) + 1"}) { name origin } }')
    opp = atlas.data('mutation { createOpportunity(data: {name: "Deal", amount: "10.50", stage: "prospecting", '
                     'closeDate: "2030-01-31"}) { twiceAmount } }')
    assert opp == {"createOpportunity": {"twiceAmount": "22.00"}}


def test_a_plugin_function_without_sql_is_refused_in_a_formula(atlas: GraphQLClient) -> None:
    # when the admin defines a formula with ATLASREGIONOK, which has no SQL implementation
    result = atlas.execute('mutation { createField(input: {object: "account", name: "regionOk", type: FORMULA, '
                           'resultType: BOOLEAN, expression: "ATLASREGIONOK(atlasRegion)"}) { name } }')
    # then the definition is refused naming the function (today it is accepted, and then
    # `{ accounts { edges { node { regionOk } } } }` fails on every request)
    assert result.get("errors"), result
    assert result["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert "ATLASREGIONOK" in result["errors"][0]["message"]
    fields = atlas.data('{ object(name: "account") { fields { name } } }')["object"]["fields"]
    assert "regionOk" not in {f["name"] for f in fields}


def test_a_plugin_function_works_in_validation_rules_evaluated_in_python(atlas: GraphQLClient) -> None:
    # given atlas's rule on account: NOT(ATLASREGIONOK(atlasRegion)) refuses the write
    # when accounts are written with a known region, no region, and an unknown one
    north = atlas.data(CREATE_ACCOUNT, {"d": {"name": "Northern", "atlasRegion": "North"}})["createAccount"]
    blank = atlas.data(CREATE_ACCOUNT, {"d": {"name": "Nowhere"}})["createAccount"]
    error = atlas.error(CREATE_ACCOUNT, {"d": {"name": "Middle", "atlasRegion": "middle"}})
    # then the known region and the null region (null in, null out: the rule is not TRUE) pass
    assert (north["atlasRegion"], blank["atlasRegion"]) == ("North", None)
    # and the unknown one is refused with the rule's message, on its field
    assert error["message"] == "The region must be north, south, east or west"
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["extensions"]["field"] == "atlasRegion"
    # and so is an update to an unknown region
    refused = atlas.error(UPDATE_ACCOUNT, {"id": north["id"], "d": {"atlasRegion": "centre"}})
    assert refused["message"] == "The region must be north, south, east or west"
    assert atlas.data(UPDATE_ACCOUNT, {"id": north["id"], "d": {"atlasRegion": "WEST"}}) == {
        "updateAccount": {"atlasRegion": "WEST"}}
    assert atlas.data("{ accounts { totalCount } }") == {"accounts": {"totalCount": 2}}


def test_a_plugin_function_in_a_validation_rule_the_admin_writes(atlas: GraphQLClient) -> None:
    atlas.data('mutation { createValidationRule(input: {object: "site", name: "bigEnough", '
               'expression: "ATLASDOUBLE(area) < 10", message: "Sites are at least 5", field: "area"}) { name } }')
    error = atlas.error(CREATE_SITE, {"d": {"name": "Tiny", "area": "4.99"}})
    assert (error["message"], error["extensions"]["field"]) == ("Sites are at least 5", "area")
    assert atlas.data(CREATE_SITE, {"d": {"name": "Fine", "area": "5"}})["createSite"]["doubledArea"] == "10.00"


def test_sample_data_of_an_installed_plugin_is_loaded_with_the_demo_data(
    atlas: GraphQLClient, prt: Runtime, ptenant: CreatedTenant, tools: Any
) -> None:
    load_sample_data(prt, tools.actor(prt, ptenant), accounts=2)
    names = [e["node"]["name"] for e in atlas.data("{ sites { edges { node { name } } } }")["sites"]["edges"]]
    assert any(name.startswith("Demo site") for name in names)
