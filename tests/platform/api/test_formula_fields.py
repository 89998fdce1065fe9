"""FORMULA fields through the metadata and data APIs: values of every result type computed in SQL on
read (nulls, rounding to the scale, lookup paths, formulas of formulas), filtering, sorting and cursor
pagination by a formula, formulas in nested selections, TODAY(), refused definitions and changes, and
the metadata changes a formula keeps from breaking (IN_USE)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tessera.core.errors import ValidationError
from tessera.services.records import create_records
from tessera.services.runtime import Actor, Runtime
from tessera.services.tenants import CreatedTenant
from tessera.testing import GraphQLClient, tenant_scope

CREATE_FIELD = """
mutation($input: CreateFieldInput!) { createField(input: $input) {
  name type computed resultType expression scale graphqlType readOnly options } }
"""
UPDATE_FIELD = """
mutation($input: UpdateFieldInput!) { updateField(input: $input) {
  name type resultType expression scale graphqlType } }
"""
DELETE_FIELD = "mutation($input: DeleteFieldInput!) { deleteField(input: $input) { name } }"
FIELD = """
query($object: String!, $name: String!) { object(name: $object) { field(name: $name) {
  name type computed resultType expression scale options graphqlType readOnly
  childObject childField function summarizedField filter } } }
"""
FIELD_NAMES = "query($object: String!) { object(name: $object) { fields { name } } }"
CREATE_ACCOUNTS = "mutation($data: [AccountCreateInput!]!) { createAccounts(data: $data) { id name } }"
CREATE_OPPORTUNITY = """
mutation($data: OpportunityCreateInput!) { createOpportunity(data: $data) { id name weighted } }
"""
CREATE_OPPORTUNITIES = """
mutation($data: [OpportunityCreateInput!]!) { createOpportunities(data: $data) { id name } }
"""
UPDATE_OPPORTUNITY = """
mutation($id: ID!, $data: OpportunityUpdateInput!) { updateOpportunity(id: $id, data: $data) { id } }
"""
EVERY_TYPE = """
query($filter: OpportunityFilter) {
  opportunities(filter: $filter, orderBy: [{name: AscNullsLast}]) { edges { node {
    name weighted doubled third thirdOfProbability label industry size followUp daysFromNewYear large
    nextDay } } } }
"""
ROUNDING = """
query($filter: OpportunityFilter) {
  opportunities(filter: $filter, orderBy: [{name: AscNullsLast}]) { edges { node {
    name roundedUp roundedDown whole third } } } }
"""
FILTERED = """
query($filter: OpportunityFilter) {
  opportunities(filter: $filter, orderBy: [{name: AscNullsLast}]) { totalCount edges { node { name } } } }
"""
SORTED = """
query($filter: OpportunityFilter, $orderBy: [OpportunityOrderBy!]) {
  opportunities(filter: $filter, orderBy: $orderBy) { edges { node { name } } } }
"""
PAGE = """
query($filter: OpportunityFilter, $orderBy: [OpportunityOrderBy!], $first: Int, $after: String,
      $last: Int, $before: String) {
  opportunities(filter: $filter, orderBy: $orderBy, first: $first, after: $after, last: $last,
                before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { name } } } }
"""
NESTED = """
query($prefix: String!) {
  accounts(filter: {name: {startsWith: $prefix}}, orderBy: [{name: AscNullsLast}]) { edges { node {
    name shout
    opportunities(orderBy: [{weighted: DescNullsLast}, {name: AscNullsLast}]) {
      totalCount edges { node { name weighted label } } }
    priced: opportunities(filter: {weighted: {isNull: false}}) { totalCount } } } } }
"""
OPPORTUNITY_WITH_ACCOUNT = """
query($id: ID!) { opportunity(id: $id) { weighted label account { name shout } } }
"""
TODAY_VALUES = """
query($filter: OpportunityFilter) {
  opportunities(filter: $filter, orderBy: [{closeDate: AscNullsLast}]) { edges { node {
    name daysLeft overdue } } } }
"""
GET_BONUS = "query($id: ID!) { opportunity(id: $id) { bonus } }"
COUNT_OPPORTUNITIES = "query($filter: OpportunityFilter) { opportunities(filter: $filter) { totalCount } }"
RECORD_FIELDS = "query($type: String!) { __type(name: $type) { fields { name type { name kind } } } }"
INPUT_FIELDS = """
query($type: String!) { __type(name: $type) { inputFields { name type { name inputFields { name } } } } }
"""

OPPORTUNITY_FORMULAS: list[dict[str, Any]] = [
    {"name": "weighted", "resultType": "CURRENCY", "expression": "amount * probability / 100"},
    {"name": "doubled", "resultType": "CURRENCY", "expression": "weighted * 2"},
    {"name": "third", "resultType": "NUMBER", "expression": "amount / 3", "scale": 3},
    {"name": "thirdOfProbability", "resultType": "PERCENT", "expression": "probability / 3"},
    {"name": "roundedUp", "resultType": "CURRENCY", "expression": "amount + 0.005"},
    {"name": "roundedDown", "resultType": "CURRENCY", "expression": "-amount - 0.005"},
    {"name": "whole", "resultType": "NUMBER", "expression": "amount", "scale": 0},
    {"name": "label", "resultType": "TEXT", "expression": 'name & " @ " & account.name'},
    {"name": "industry", "resultType": "TEXT", "expression": "account.industry"},
    {"name": "size", "resultType": "TEXT", "expression": 'IF(amount >= 500, "big", "small")'},
    {"name": "followUp", "resultType": "DATE", "expression": "ADDDAYS(closeDate, 30)"},
    {
        "name": "daysFromNewYear",
        "resultType": "INTEGER",
        "expression": 'DATEDIFF("days", #2026-01-01#, closeDate)',
    },
    {"name": "large", "resultType": "BOOLEAN", "expression": "amount >= 1000"},
    {"name": "nextDay", "resultType": "DATETIME", "expression": "ADDDAYS(stageEnteredAt, 1)"},
    {"name": "daysLeft", "resultType": "INTEGER", "expression": "closeDate - TODAY()"},
    {"name": "overdue", "resultType": "BOOLEAN", "expression": "closeDate < TODAY()"},
]
ACCOUNT_FORMULAS: list[dict[str, Any]] = [
    {"name": "shout", "resultType": "TEXT", "expression": 'UPPER(name) & "!"'},
]


def _formula(object_name: str, definition: dict[str, Any]) -> dict[str, Any]:
    return {"object": object_name, "type": "FORMULA", **definition}


def _define(gql: GraphQLClient, name: str, result_type: str, expression: str) -> dict[str, Any]:
    """Create an opportunity formula through createField."""
    definition = {"name": name, "resultType": result_type, "expression": expression}
    return gql.data(CREATE_FIELD, {"input": _formula("opportunity", definition)})["createField"]


def _refused(
    gql: GraphQLClient, name: str, result_type: str, expression: str, **options: Any
) -> dict[str, Any]:
    """The error of creating an opportunity formula that must be refused."""
    definition = {"name": name, "resultType": result_type, "expression": expression, **options}
    return gql.error(CREATE_FIELD, {"input": _formula("opportunity", definition)})


@pytest.fixture(scope="module")
def shared_tenant(runtime: Runtime, app: Any) -> Iterator[CreatedTenant]:
    """A tenant shared by the tests that read the module's formulas over records of their own."""
    with tenant_scope(runtime) as created:
        client = GraphQLClient(app, created.token)
        for definition in OPPORTUNITY_FORMULAS:
            client.data(CREATE_FIELD, {"input": _formula("opportunity", definition)})
        for definition in ACCOUNT_FORMULAS:
            client.data(CREATE_FIELD, {"input": _formula("account", definition)})
        yield created


@pytest.fixture(scope="module")
def crm(app: Any, shared_tenant: CreatedTenant) -> GraphQLClient:
    return GraphQLClient(app, shared_tenant.token)


@pytest.fixture(scope="module")
def deals(crm: GraphQLClient) -> dict[str, Any]:
    """Five opportunities of two accounts, named ``<prefix>-o1`` ... ``-o5``; their formula values:

    | name | amount  | probability | closeDate  | account | weighted | large | followUp   |
    | o1   | 1000.00 | 50          | 2026-03-01 | acme    | 500.00   | true  | 2026-03-31 |
    | o2   | 200.00  | 10          | 2026-01-15 | bolt    | 20.00    | false | 2026-02-14 |
    | o3   | null    | 30          | 2026-06-30 | none    | null     | null  | 2026-07-30 |
    | o4   | 100.00  | 20          | 2026-01-01 | acme    | 20.00    | false | 2026-01-31 |
    | o5   | 999.99  | null        | 2026-12-31 | bolt    | null     | false | 2027-01-30 |
    """
    prefix = f"D{uuid.uuid4().hex[:8]}"
    accounts = crm.data(
        CREATE_ACCOUNTS,
        {
            "data": [
                {"name": f"{prefix}-acme", "industry": "technology"},
                {"name": f"{prefix}-bolt", "industry": "energy"},
            ]
        },
    )["createAccounts"]
    acme, bolt = accounts[0]["id"], accounts[1]["id"]
    rows = [
        ("o1", "1000.00", "50", "2026-03-01", acme),
        ("o2", "200.00", "10", "2026-01-15", bolt),
        ("o3", None, "30", "2026-06-30", None),
        ("o4", "100.00", "20", "2026-01-01", acme),
        ("o5", "999.99", None, "2026-12-31", bolt),
    ]
    data = [
        {"name": f"{prefix}-{n}", "amount": a, "probability": p, "closeDate": d, "account": acc}
        for n, a, p, d, acc in rows
    ]
    created = crm.data(CREATE_OPPORTUNITIES, {"data": data})["createOpportunities"]
    return {"prefix": prefix, "ids": {o["name"].removeprefix(f"{prefix}-"): o["id"] for o in created}}


def _within(prefix: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    """A filter for the records named with ``prefix`` (and ``condition``)."""
    own = {"name": {"startsWith": f"{prefix}-"}}
    return {"and": [own, condition]} if condition else own


def _names(connection: dict[str, Any], prefix: str) -> list[str]:
    return [edge["node"]["name"].removeprefix(f"{prefix}-") for edge in connection["edges"]]


def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


# --- definitions ------------------------------------------------------------------------------
def test_formula_definition_is_computed_read_only_and_typed_by_its_result(crm: GraphQLClient) -> None:
    # given the module's formulas, created through createField
    # when the definition of a decimal one, a date one and a stored field are read
    weighted = crm.data(FIELD, {"object": "opportunity", "name": "weighted"})["object"]["field"]
    follow_up = crm.data(FIELD, {"object": "opportunity", "name": "followUp"})["object"]["field"]
    amount = crm.data(FIELD, {"object": "opportunity", "name": "amount"})["object"]["field"]
    # then the formula reports its result type, expression, default scale 2 and data API type
    assert weighted == {
        "name": "weighted",
        "type": "FORMULA",
        "computed": True,
        "resultType": "CURRENCY",
        "expression": "amount * probability / 100",
        "scale": 2,
        "options": {"resultType": "CURRENCY", "expression": "amount * probability / 100", "scale": 2},
        "graphqlType": "Decimal",
        "readOnly": True,
        "childObject": None,
        "childField": None,
        "function": None,
        "summarizedField": None,
        "filter": None,
    }
    # and a non-decimal result has no scale, while a stored field is not computed
    assert (follow_up["resultType"], follow_up["scale"], follow_up["graphqlType"]) == ("DATE", None, "Date")
    assert (amount["computed"], amount["resultType"], amount["expression"]) == (False, None, None)


def test_formula_fields_have_the_scalar_of_their_result_type_in_the_data_api(crm: GraphQLClient) -> None:
    # given formulas of every result type on opportunity
    # when the generated types are introspected
    fields = crm.data(RECORD_FIELDS, {"type": "Opportunity"})["__type"]["fields"]
    scalars = {f["name"]: f["type"]["name"] for f in fields}
    filters = {
        f["name"]: {op["name"] for op in f["type"]["inputFields"] or []}
        for f in crm.data(INPUT_FIELDS, {"type": "OpportunityFilter"})["__type"]["inputFields"]
    }
    order_keys = {
        f["name"] for f in crm.data(INPUT_FIELDS, {"type": "OpportunityOrderBy"})["__type"]["inputFields"]
    }
    create_keys = {
        f["name"] for f in crm.data(INPUT_FIELDS, {"type": "OpportunityCreateInput"})["__type"]["inputFields"]
    }
    update_keys = {
        f["name"] for f in crm.data(INPUT_FIELDS, {"type": "OpportunityUpdateInput"})["__type"]["inputFields"]
    }
    # then each formula is the scalar of its result type
    assert {n: scalars[n] for n in ("weighted", "third", "thirdOfProbability", "label", "followUp")} == {
        "weighted": "Decimal",
        "third": "Decimal",
        "thirdOfProbability": "Decimal",
        "label": "String",
        "followUp": "Date",
    }
    assert (scalars["nextDay"], scalars["daysFromNewYear"], scalars["large"]) == (
        "DateTime",
        "Int",
        "Boolean",
    )
    # and it filters with the operators of that type and sorts
    comparison = {"eq", "neq", "gt", "gte", "lt", "lte", "in", "notIn", "isNull"}
    assert filters["weighted"] == comparison
    assert filters["followUp"] == comparison
    assert filters["label"] == comparison | {"contains", "startsWith"}
    assert filters["large"] == {"eq", "neq", "isNull"}
    assert {"weighted", "label", "followUp", "large", "nextDay"} <= order_keys
    # and it is never an input of the record mutations
    formulas = {d["name"] for d in OPPORTUNITY_FORMULAS}
    assert not formulas & create_keys
    assert not formulas & update_keys
    assert {"amount", "probability", "closeDate"} <= create_keys


# --- values -----------------------------------------------------------------------------------
def test_values_of_every_result_type_are_computed_with_null_semantics(crm: GraphQLClient) -> None:
    # given an account and three opportunities: all operands set, no amount nor account, no probability
    prefix = _unique("V")
    account = crm.data(CREATE_ACCOUNTS, {"data": [{"name": "Acme", "industry": "technology"}]})[
        "createAccounts"
    ][0]["id"]
    rows = [
        {
            "name": f"{prefix}-r1",
            "amount": "1234.56",
            "probability": "12.3456",
            "closeDate": "2026-03-01",
            "account": account,
            "stageEnteredAt": "2026-02-03T23:30:00Z",
        },
        {"name": f"{prefix}-r2", "amount": None, "probability": "50", "closeDate": "2024-02-29"},
        {"name": f"{prefix}-r3", "amount": "0.05", "probability": None, "closeDate": "2026-01-01"},
    ]
    crm.data(CREATE_OPPORTUNITIES, {"data": rows})
    # when they are read
    nodes = [e["node"] for e in crm.data(EVERY_TYPE, {"filter": _within(prefix)})["opportunities"]["edges"]]
    # then each formula holds the value computed by hand
    assert nodes[0] == {
        "name": f"{prefix}-r1",
        "weighted": "152.41",  # 1234.56 × 12.3456 / 100 = 152.41383936
        "doubled": "304.82",  # 2 × the rounded 152.41, not 2 × 152.4138... (= 304.83)
        "third": "411.520",  # 1234.56 / 3, at scale 3
        "thirdOfProbability": "4.12",  # 12.3456 / 3 = 4.1152
        "label": f"{prefix}-r1 @ Acme",
        "industry": "technology",
        "size": "big",
        "followUp": "2026-03-31",
        "daysFromNewYear": 59,  # 31 days of January + 28 of February
        "large": True,
        "nextDay": "2026-02-04T23:30:00.000Z",
    }
    # and a null operand gives null, except where & (null is empty text) and IF (null is FALSE) say otherwise
    assert nodes[1] == {
        "name": f"{prefix}-r2",
        "weighted": None,
        "doubled": None,
        "third": None,
        "thirdOfProbability": "16.67",  # 50 / 3 = 16.666...
        "label": f"{prefix}-r2 @ ",
        "industry": None,
        "size": "small",
        "followUp": "2024-03-30",  # leap day + 30 days
        "daysFromNewYear": -672,  # 2024-02-29 → 2025-02-28 is 365 days, → 2026-01-01 another 307
        "large": None,
        "nextDay": None,
    }
    assert nodes[2] == {
        "name": f"{prefix}-r3",
        "weighted": None,
        "doubled": None,
        "third": "0.017",  # 0.05 / 3 = 0.01666...
        "thirdOfProbability": None,
        "label": f"{prefix}-r3 @ ",
        "industry": None,
        "size": "small",
        "followUp": "2026-01-31",
        "daysFromNewYear": 0,
        "large": False,
        "nextDay": None,
    }


def test_formula_values_are_returned_by_the_write_and_follow_the_update(crm: GraphQLClient) -> None:
    # given an opportunity created with an amount and a probability
    created = crm.data(
        CREATE_OPPORTUNITY,
        {"data": {"name": _unique("W"), "closeDate": "2026-01-01", "amount": "80.00", "probability": "25"}},
    )["createOpportunity"]
    # when its probability changes
    crm.data(UPDATE_OPPORTUNITY, {"id": created["id"], "data": {"probability": "75"}})
    after = crm.data(OPPORTUNITY_WITH_ACCOUNT, {"id": created["id"]})["opportunity"]
    # then the create returned 80 × 25% and the next read 80 × 75%
    assert created["weighted"] == "20.00"
    assert after["weighted"] == "60.00"


def test_decimal_results_are_rounded_half_away_from_zero_to_their_scale(crm: GraphQLClient) -> None:
    # given amounts whose formulas land exactly halfway between two values of the scale
    prefix = _unique("R")
    amounts = ["2.67", "-2.67", "2.50", "-2.50", "1.00", "2.00"]
    rows = [{"name": f"{prefix}-{i}", "amount": a, "closeDate": "2026-01-01"} for i, a in enumerate(amounts)]
    crm.data(CREATE_OPPORTUNITIES, {"data": rows})
    # when amount + 0.005, -amount - 0.005 (scale 2), amount (scale 0) and amount / 3 (scale 3) are read
    nodes = crm.data(ROUNDING, {"filter": _within(prefix)})["opportunities"]["edges"]
    values = [
        (n["node"]["roundedUp"], n["node"]["roundedDown"], n["node"]["whole"], n["node"]["third"])
        for n in nodes
    ]
    # then halves go away from zero, and the text has exactly the scale's places
    assert values == [
        ("2.68", "-2.68", "3", "0.890"),  # 2.675 → 2.68, -2.675 → -2.68, 2.67 → 3, 0.89
        ("-2.67", "2.67", "-3", "-0.890"),  # -2.665 → -2.67, 2.665 → 2.67
        ("2.51", "-2.51", "3", "0.833"),  # 2.505 → 2.51, 2.5 → 3, 0.8333...
        ("-2.50", "2.50", "-3", "-0.833"),  # -2.495 → -2.50, -2.5 → -3
        ("1.01", "-1.01", "1", "0.333"),
        ("2.01", "-2.01", "2", "0.667"),  # 0.6666... → 0.667
    ]


def test_lookup_path_formula_and_formula_on_the_looked_up_record(crm: GraphQLClient) -> None:
    # given an opportunity of an account
    name = _unique("acct")
    account = crm.data(CREATE_ACCOUNTS, {"data": [{"name": name}]})["createAccounts"][0]["id"]
    opportunity = crm.data(
        CREATE_OPPORTUNITY, {"data": {"name": "Deal", "closeDate": "2026-01-01", "account": account}}
    )["createOpportunity"]
    # when it is read with the account's formula through the lookup
    read = crm.data(OPPORTUNITY_WITH_ACCOUNT, {"id": opportunity["id"]})["opportunity"]
    # then the lookup path reads the account's name, and the account's own formula is computed
    assert read == {
        "weighted": None,
        "label": f"Deal @ {name}",
        "account": {"name": name, "shout": f"{name.upper()}!"},
    }
    # and renaming the account changes the opportunity's formula on the next read
    crm.data('mutation($id: ID!) { updateAccount(id: $id, data: {name: "Renamed"}) { id } }', {"id": account})
    again = crm.data(OPPORTUNITY_WITH_ACCOUNT, {"id": opportunity["id"]})["opportunity"]
    assert (again["label"], again["account"]["shout"]) == ("Deal @ Renamed", "RENAMED!")


# --- filters ----------------------------------------------------------------------------------
FORMULA_FILTERS = [
    # weighted: o1 500.00, o2 20.00, o4 20.00, o3 and o5 null
    pytest.param({"weighted": {"eq": "20"}}, ["o2", "o4"], id="decimal-eq"),
    pytest.param({"weighted": {"neq": "20"}}, ["o1", "o3", "o5"], id="decimal-neq-keeps-nulls"),
    pytest.param({"weighted": {"gt": "20"}}, ["o1"], id="decimal-gt"),
    pytest.param({"weighted": {"gte": "20.00"}}, ["o1", "o2", "o4"], id="decimal-gte-skips-nulls"),
    pytest.param({"weighted": {"lt": "500"}}, ["o2", "o4"], id="decimal-lt"),
    pytest.param({"weighted": {"lte": "500"}}, ["o1", "o2", "o4"], id="decimal-lte"),
    pytest.param({"weighted": {"in": ["500", "1"]}}, ["o1"], id="decimal-in"),
    pytest.param({"weighted": {"notIn": ["20", "500"]}}, ["o3", "o5"], id="decimal-notIn-keeps-nulls"),
    pytest.param({"weighted": {"isNull": True}}, ["o3", "o5"], id="decimal-isNull"),
    pytest.param({"weighted": {"isNull": False}}, ["o1", "o2", "o4"], id="decimal-isNotNull"),
    pytest.param({"weighted": {"gt": "10", "lt": "100"}}, ["o2", "o4"], id="decimal-range"),
    # large: o1 true, o2 o4 o5 false, o3 null
    pytest.param({"large": {"eq": True}}, ["o1"], id="boolean-eq-true"),
    pytest.param({"large": {"eq": False}}, ["o2", "o4", "o5"], id="boolean-eq-false"),
    pytest.param({"large": {"neq": False}}, ["o1", "o3"], id="boolean-neq-keeps-nulls"),
    pytest.param({"large": {"isNull": True}}, ["o3"], id="boolean-isNull"),
    # label: "<name> @ <account name>", the account's part empty for o3
    pytest.param({"label": {"contains": "ACME"}}, ["o1", "o4"], id="text-contains-ignores-case"),
    pytest.param({"label": {"contains": "-bolt"}}, ["o2", "o5"], id="text-contains"),
    pytest.param({"label": {"notIn": ["x"]}}, ["o1", "o2", "o3", "o4", "o5"], id="text-notIn"),
    # industry: account.industry (technology for acme, energy for bolt, null without account)
    pytest.param({"industry": {"eq": "technology"}}, ["o1", "o4"], id="lookup-path-eq"),
    pytest.param({"industry": {"in": ["energy"]}}, ["o2", "o5"], id="lookup-path-in"),
    pytest.param({"industry": {"neq": "technology"}}, ["o2", "o3", "o5"], id="lookup-path-neq"),
    pytest.param({"industry": {"isNull": True}}, ["o3"], id="lookup-path-isNull"),
    pytest.param({"industry": {"gt": "energy"}}, ["o1", "o4"], id="text-gt"),
    # size: IF(amount >= 500, "big", "small"): a null amount is "small"
    pytest.param({"size": {"eq": "small"}}, ["o2", "o3", "o4"], id="if-null-condition-is-else"),
    # followUp: o4 2026-01-31, o2 02-14, o1 03-31, o3 07-30, o5 2027-01-30
    pytest.param({"followUp": {"lt": "2026-02-14"}}, ["o4"], id="date-lt"),
    pytest.param({"followUp": {"lte": "2026-02-14"}}, ["o2", "o4"], id="date-lte"),
    pytest.param({"followUp": {"gt": "2026-07-30"}}, ["o5"], id="date-gt"),
    pytest.param({"followUp": {"gte": "2026-03-31"}}, ["o1", "o3", "o5"], id="date-gte"),
    pytest.param({"followUp": {"eq": "2026-07-30"}}, ["o3"], id="date-eq"),
    # daysFromNewYear: o4 0, o2 14, o1 59, o3 180, o5 364
    pytest.param({"daysFromNewYear": {"lte": 14}}, ["o2", "o4"], id="integer-lte"),
    pytest.param({"daysFromNewYear": {"in": [0, 180]}}, ["o3", "o4"], id="integer-in"),
    # combinations: a null leaf is FALSE, so NOT keeps it
    pytest.param({"not": {"weighted": {"gt": "20"}}}, ["o2", "o3", "o4", "o5"], id="not-keeps-nulls"),
    pytest.param(
        {"or": [{"large": {"eq": True}}, {"industry": {"isNull": True}}]}, ["o1", "o3"], id="or-of-formulas"
    ),
]


@pytest.mark.parametrize(("condition", "expected"), FORMULA_FILTERS)
def test_filter_by_formula(
    crm: GraphQLClient, deals: dict[str, Any], condition: dict[str, Any], expected: list[str]
) -> None:
    # given the five deals
    prefix = deals["prefix"]
    # when they are filtered by a formula
    found = crm.data(FILTERED, {"filter": _within(prefix, condition)})["opportunities"]
    # then exactly the records computed by hand match, and totalCount counts them
    assert _names(found, prefix) == expected
    assert found["totalCount"] == len(expected)


def test_filter_values_are_parsed_as_the_result_type(crm: GraphQLClient, deals: dict[str, Any]) -> None:
    # given the five deals
    # when a decimal formula is compared with text that is no number
    error = crm.error(FILTERED, {"filter": _within(deals["prefix"], {"weighted": {"gt": "lots"}})})
    # then the filter is refused naming where
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["extensions"]["field"].endswith("weighted.gt")


def test_total_count_under_a_formula_filter_ignores_the_page_size(
    crm: GraphQLClient, deals: dict[str, Any]
) -> None:
    # given the five deals, three of which weigh at least 20
    prefix = deals["prefix"]
    # when one page of one record is asked for
    page = crm.data(
        PAGE,
        {
            "filter": _within(prefix, {"weighted": {"gte": "20"}}),
            "orderBy": [{"weighted": "DescNullsLast"}],
            "first": 1,
        },
    )["opportunities"]
    # then the page holds the heaviest, while totalCount counts all three
    assert _names(page, prefix) == ["o1"]
    assert page["totalCount"] == 3
    assert page["pageInfo"]["hasNextPage"] is True


# --- sorting and paging -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("order", "expected"),
    [
        pytest.param({"weighted": "AscNullsFirst"}, ["o3", "o5", "o2", "o4", "o1"], id="asc-nulls-first"),
        pytest.param({"weighted": "AscNullsLast"}, ["o2", "o4", "o1", "o3", "o5"], id="asc-nulls-last"),
        pytest.param({"weighted": "DescNullsFirst"}, ["o3", "o5", "o1", "o2", "o4"], id="desc-nulls-first"),
        pytest.param({"weighted": "DescNullsLast"}, ["o1", "o2", "o4", "o3", "o5"], id="desc-nulls-last"),
        pytest.param({"followUp": "DescNullsLast"}, ["o5", "o3", "o1", "o2", "o4"], id="date-formula"),
        pytest.param({"industry": "AscNullsFirst"}, ["o3", "o2", "o5", "o1", "o4"], id="lookup-path-formula"),
        pytest.param({"label": "DescNullsLast"}, ["o5", "o4", "o3", "o2", "o1"], id="text-formula"),
    ],
)
def test_sort_by_formula_places_nulls_as_asked(
    crm: GraphQLClient, deals: dict[str, Any], order: dict[str, str], expected: list[str]
) -> None:
    # given the five deals (ties broken by name)
    prefix = deals["prefix"]
    # when they are sorted by a formula
    found = crm.data(SORTED, {"filter": _within(prefix), "orderBy": [order, {"name": "AscNullsLast"}]})
    # then the order is the one computed by hand, with empty values where asked
    assert _names(found["opportunities"], prefix) == expected


def test_cursor_pagination_over_a_formula_sort_with_ties_and_nulls(
    crm: GraphQLClient, deals: dict[str, Any]
) -> None:
    # given the five deals sorted by weighted alone: o1 (500), the two 20s and the two nulls by id
    prefix, ids = deals["prefix"], deals["ids"]
    by_id = lambda names: sorted(names, key=lambda n: ids[n])  # noqa: E731 - the tie-breaker
    expected = ["o1", *by_id(["o2", "o4"]), *by_id(["o3", "o5"])]
    variables: dict[str, Any] = {"filter": _within(prefix), "orderBy": [{"weighted": "DescNullsLast"}]}
    # when they are read forwards two at a time
    pages, after = [], None
    for _ in range(3):
        page = crm.data(PAGE, {**variables, "first": 2, "after": after})["opportunities"]
        pages.append(page)
        after = page["pageInfo"]["endCursor"]
    # then the pages follow each other without gaps or repeats, across the ties and into the nulls
    assert [_names(p, prefix) for p in pages] == [expected[0:2], expected[2:4], expected[4:]]
    assert [p["pageInfo"]["hasNextPage"] for p in pages] == [True, True, False]
    assert [p["pageInfo"]["hasPreviousPage"] for p in pages] == [False, True, True]
    # and reading backwards from the last record gives the two before it
    last_cursor = pages[2]["edges"][0]["cursor"]
    back = crm.data(PAGE, {**variables, "last": 2, "before": last_cursor})["opportunities"]
    assert _names(back, prefix) == expected[2:4]


def test_cursor_pagination_over_a_boolean_formula_sort(crm: GraphQLClient, deals: dict[str, Any]) -> None:
    # given the five deals sorted by large (false, true, then null), ties by name
    prefix = deals["prefix"]
    variables: dict[str, Any] = {
        "filter": _within(prefix),
        "orderBy": [{"large": "AscNullsLast"}, {"name": "AscNullsLast"}],
    }
    # when they are read two at a time
    names, after = [], None
    for _ in range(3):
        page = crm.data(PAGE, {**variables, "first": 2, "after": after})["opportunities"]
        names += _names(page, prefix)
        after = page["pageInfo"]["endCursor"]
    # then every record comes once, in the order computed by hand
    assert names == ["o2", "o4", "o5", "o1", "o3"]


def test_formulas_in_a_nested_relation_and_its_filter(crm: GraphQLClient, deals: dict[str, Any]) -> None:
    # given the two accounts of the deals
    prefix = deals["prefix"]

    def deal(name: str, weighted: str | None, account: str) -> dict[str, Any]:
        label = f"{prefix}-{name} @ {prefix}-{account}"
        return {"node": {"name": f"{prefix}-{name}", "weighted": weighted, "label": label}}

    # when the accounts are read with their opportunities' formulas, sorted and filtered by one
    accounts = [e["node"] for e in crm.data(NESTED, {"prefix": f"{prefix}-"})["accounts"]["edges"]]
    # then each account's formula and its opportunities' formulas are computed per record
    assert accounts == [
        {
            "name": f"{prefix}-acme",
            "shout": f"{prefix.upper()}-ACME!",
            "opportunities": {
                "totalCount": 2,
                "edges": [deal("o1", "500.00", "acme"), deal("o4", "20.00", "acme")],
            },
            "priced": {"totalCount": 2},
        },
        {
            "name": f"{prefix}-bolt",
            "shout": f"{prefix.upper()}-BOLT!",
            "opportunities": {
                "totalCount": 2,
                "edges": [deal("o2", "20.00", "bolt"), deal("o5", None, "bolt")],
            },
            "priced": {"totalCount": 1},
        },
    ]


def test_today_formula_agrees_between_value_and_filter(crm: GraphQLClient) -> None:
    # given opportunities closing yesterday, today and tomorrow (UTC)
    prefix = _unique("T")
    today = datetime.now(UTC).date()
    rows = [
        {"name": f"{prefix}-{label}", "closeDate": (today + timedelta(days=offset)).isoformat()}
        for label, offset in (("yesterday", -1), ("today", 0), ("tomorrow", 1))
    ]
    crm.data(CREATE_OPPORTUNITIES, {"data": rows})
    # when they are read, and filtered by the TODAY()-based formulas
    every = crm.data(TODAY_VALUES, {"filter": _within(prefix)})["opportunities"]["edges"]
    due_today = crm.data(TODAY_VALUES, {"filter": _within(prefix, {"daysLeft": {"eq": 0}})})["opportunities"]
    overdue = crm.data(TODAY_VALUES, {"filter": _within(prefix, {"overdue": {"eq": True}})})["opportunities"]
    # then closeDate - TODAY() is -1, 0 and 1, and only yesterday's is overdue
    assert [(e["node"]["daysLeft"], e["node"]["overdue"]) for e in every] == [
        (-1, True),
        (0, False),
        (1, False),
    ]
    # and the filters select by the same values the records show
    assert [e["node"] for e in due_today["edges"]] == [
        {"name": f"{prefix}-today", "daysLeft": 0, "overdue": False}
    ]
    assert [e["node"] for e in overdue["edges"]] == [
        {"name": f"{prefix}-yesterday", "daysLeft": -1, "overdue": True}
    ]


# --- refused definitions ----------------------------------------------------------------------
def test_unknown_field_is_refused_with_its_line_and_column(crm: GraphQLClient) -> None:
    # given an expression misspelling a field on its second line
    expression = "amount *\n  probabilty / 100"
    # when a formula is created with it
    error = _refused(crm, "broken", "NUMBER", expression)
    # then it is refused at line 2, column 3, with a suggestion, and no field is added
    extensions = error["extensions"]
    assert (extensions["code"], extensions["field"], extensions["kind"]) == (
        "VALIDATION_ERROR",
        "expression",
        "unknown_field",
    )
    assert (extensions["line"], extensions["column"]) == (2, 3)
    assert error["message"].startswith("2:3: ")
    assert "probabilty" in error["message"] and "did you mean 'probability'" in error["message"]
    names = [f["name"] for f in crm.data(FIELD_NAMES, {"object": "opportunity"})["object"]["fields"]]
    assert "broken" not in names


@pytest.mark.parametrize(
    ("result_type", "expression", "kind", "column"),
    [
        pytest.param("NUMBER", '"x" & name', "type_mismatch", 5, id="text-for-number"),
        pytest.param("INTEGER", "amount / 2", "type_mismatch", 8, id="division-is-no-integer"),
        pytest.param("BOOLEAN", "amount", "type_mismatch", 1, id="number-for-boolean"),
        pytest.param("DATE", "closeDate > TODAY()", "type_mismatch", 11, id="boolean-for-date"),
        pytest.param("NUMBER", 'amount + "x"', "type_mismatch", 8, id="operator-mismatch"),
        pytest.param("NUMBER", "amount *", "syntax", 9, id="syntax"),
        pytest.param("TEXT", 'ISCHANGED(name) & ""', "not_allowed", 1, id="record-change-function"),
    ],
)
def test_expression_of_the_wrong_type_is_refused(
    crm: GraphQLClient, result_type: str, expression: str, kind: str, column: int
) -> None:
    # given an expression that does not give the declared result type (or does not parse)
    # when a formula is created with it
    error = _refused(crm, "broken", result_type, expression)
    # then it is refused naming the expression, the kind of problem and where it is
    extensions = error["extensions"]
    assert (extensions["code"], extensions["field"], extensions["kind"]) == (
        "VALIDATION_ERROR",
        "expression",
        kind,
    )
    assert (extensions["line"], extensions["column"]) == (1, column)


def test_scale_is_dropped_for_a_result_that_is_no_decimal(crm: GraphQLClient) -> None:
    # given a TEXT formula given a scale
    # when it is created
    created = crm.data(
        CREATE_FIELD,
        {
            "input": _formula(
                "opportunity", {"name": "plain", "resultType": "TEXT", "expression": "name", "scale": 2}
            )
        },
    )["createField"]
    crm.data(DELETE_FIELD, {"input": {"object": "opportunity", "name": "plain"}})
    # then the scale is dropped: a text has no decimals
    assert (created["resultType"], created["scale"], created["graphqlType"]) == ("TEXT", None, "String")
    assert created["options"] == {"resultType": "TEXT", "expression": "name"}


def test_formula_cannot_be_required(crm: GraphQLClient) -> None:
    # given a formula marked required
    # when it is created
    error = _refused(crm, "broken", "NUMBER", "amount", required=True)
    # then it is refused: a computed value is never input
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("VALIDATION_ERROR", "required")


def test_formula_using_itself_is_refused_as_a_cycle(gql: GraphQLClient) -> None:
    # given a formula
    _define(gql, "loop", "NUMBER", "amount")
    # when its expression is changed to use itself
    error = gql.error(
        UPDATE_FIELD, {"input": {"object": "opportunity", "name": "loop", "expression": "loop + 1"}}
    )
    # then the change is refused as a cycle, and the formula keeps its expression
    assert (error["extensions"]["code"], error["extensions"]["field"], error["extensions"]["kind"]) == (
        "VALIDATION_ERROR",
        "expression",
        "cycle",
    )
    assert "opportunity.loop → opportunity.loop" in error["message"]
    field = gql.data(FIELD, {"object": "opportunity", "name": "loop"})["object"]["field"]
    assert field["expression"] == "amount"


def test_new_formula_using_itself_is_refused_as_a_cycle(crm: GraphQLClient) -> None:
    # given no formula named loop
    # when one is created that uses itself
    error = _refused(crm, "loop", "NUMBER", "loop + 1")
    # then it is refused as a cycle
    assert (error["extensions"]["code"], error["extensions"]["field"], error["extensions"]["kind"]) == (
        "VALIDATION_ERROR",
        "expression",
        "cycle",
    )


def test_formulas_using_each_other_are_refused_as_a_cycle(gql: GraphQLClient) -> None:
    # given a formula, a second one using it, and a third using the second
    for name, expression in (("first", "amount"), ("second", "first * 2"), ("third", "second + 1")):
        _define(gql, name, "NUMBER", expression)
    # when the first is changed to use the third
    error = gql.error(
        UPDATE_FIELD, {"input": {"object": "opportunity", "name": "first", "expression": "third - 1"}}
    )
    # then the change is refused as a cycle naming its path, and nothing changes
    assert (error["extensions"]["code"], error["extensions"]["field"], error["extensions"]["kind"]) == (
        "VALIDATION_ERROR",
        "expression",
        "cycle",
    )
    assert (
        "opportunity.first → opportunity.third → opportunity.second → opportunity.first" in error["message"]
    )
    assert (
        gql.data(FIELD, {"object": "opportunity", "name": "first"})["object"]["field"]["expression"]
        == "amount"
    )


def test_stored_and_formula_fields_cannot_turn_into_each_other(crm: GraphQLClient) -> None:
    # given a stored TEXT field and a formula
    # when the stored field is made a formula, and the formula a stored NUMBER field
    to_formula = crm.error(
        UPDATE_FIELD,
        {
            "input": {
                "object": "opportunity",
                "name": "nextStep",
                "type": "FORMULA",
                "resultType": "TEXT",
                "expression": "name",
            }
        },
    )
    to_stored = crm.error(
        UPDATE_FIELD, {"input": {"object": "opportunity", "name": "third", "type": "NUMBER"}}
    )
    # and when the formula is made a rollup
    to_rollup = crm.error(
        UPDATE_FIELD,
        {
            "input": {
                "object": "opportunity",
                "name": "third",
                "type": "ROLLUP",
                "childObject": "activity",
                "childField": "opportunity",
                "function": "COUNT",
            }
        },
    )
    # then each is refused as an unsafe change of the type, and both fields stay as they were
    for error in (to_formula, to_stored, to_rollup):
        assert (error["extensions"]["code"], error["extensions"]["field"]) == ("UNSAFE_CHANGE", "type")
    next_step = crm.data(FIELD, {"object": "opportunity", "name": "nextStep"})["object"]["field"]
    third = crm.data(FIELD, {"object": "opportunity", "name": "third"})["object"]["field"]
    assert (next_step["type"], next_step["computed"]) == ("TEXT", False)
    assert (third["type"], third["expression"], third["scale"]) == ("FORMULA", "amount / 3", 3)


def test_writing_a_formula_is_refused(crm: GraphQLClient) -> None:
    # given an opportunity
    name = _unique("X")
    created = crm.data(CREATE_OPPORTUNITY, {"data": {"name": name, "closeDate": "2026-01-01"}})[
        "createOpportunity"
    ]
    # when a formula value is written in a create literal, in create variables and in an update
    literal = crm.error(
        'mutation { createOpportunity(data: {name: "X", closeDate: "2026-01-01", weighted: "1"}) { id } }'
    )
    variables = crm.error(
        CREATE_OPPORTUNITY, {"data": {"name": name, "closeDate": "2026-01-01", "weighted": "1"}}
    )
    update = crm.error(
        'mutation($id: ID!) { updateOpportunity(id: $id, data: {weighted: "1"}) { id } }',
        {"id": created["id"]},
    )
    # then GraphQL refuses each: the inputs have no such field
    for error, input_type in (
        (literal, "OpportunityCreateInput"),
        (variables, "OpportunityCreateInput"),
        (update, "OpportunityUpdateInput"),
    ):
        assert error["extensions"]["code"] == "VALIDATION_ERROR"
        assert f"Field 'weighted' is not defined by type '{input_type}'" in error["message"]
    found = crm.data(COUNT_OPPORTUNITIES, {"filter": {"name": {"eq": name}}})["opportunities"]["totalCount"]
    assert found == 1


def test_writing_a_formula_through_the_service_is_refused_naming_it(
    crm: GraphQLClient, runtime: Runtime, shared_tenant: CreatedTenant
) -> None:
    # given the shared tenant's formulas, and the service that GraphQL writes through
    ref = runtime.tenant(shared_tenant.tenant.slug)
    actor = Actor(ref, shared_tenant.admin_user_id)
    with runtime.db.system.connect() as conn:
        model = runtime.model(conn, ref)
    name = _unique("S")
    # when a record is created with a formula value
    with pytest.raises(ValidationError) as refused:
        create_records(
            runtime, actor, model, "opportunity", [{"name": name, "closeDate": "2026-01-01", "weighted": "9"}]
        )
    # then the formula is named as computed, and nothing is created
    assert refused.value.field == "weighted"
    assert "computed" in refused.value.message
    assert (
        crm.data(COUNT_OPPORTUNITIES, {"filter": {"name": {"eq": name}}})["opportunities"]["totalCount"] == 0
    )


# --- changes and dependents -------------------------------------------------------------------
def test_deleting_a_field_a_formula_uses_is_refused_until_the_formula_is_gone(gql: GraphQLClient) -> None:
    # given a custom discount field, a formula using it, and a record
    gql.data(CREATE_FIELD, {"input": {"object": "opportunity", "name": "discount", "type": "NUMBER"}})
    _define(gql, "net", "CURRENCY", "amount - discount")
    record = gql.data(
        'mutation { createOpportunity(data: {name: "N", closeDate: "2026-01-01", amount: "100", '
        'discount: "15.5"}) { id net } }'
    )["createOpportunity"]
    # when the discount field is deleted, or changed to a type the formula cannot subtract
    deleted = gql.error(
        DELETE_FIELD, {"input": {"object": "opportunity", "name": "discount", "confirm": True}}
    )
    retyped = gql.error(
        UPDATE_FIELD, {"input": {"object": "opportunity", "name": "discount", "type": "TEXT"}}
    )
    # then both are refused as IN_USE, naming the formula that depends on the field
    for error in (deleted, retyped):
        assert error["extensions"]["code"] == "IN_USE"
        dependents = error["extensions"]["dependents"]
        assert len(dependents) == 1 and dependents[0].startswith("formula opportunity.net: ")
    assert "unknown field 'discount'" in deleted["extensions"]["dependents"][0]
    assert "type mismatch" in retyped["extensions"]["dependents"][0]
    # and the formula still computes 100 - 15.50
    assert record["net"] == "84.50"
    read = gql.data("query($id: ID!) { opportunity(id: $id) { net discount } }", {"id": record["id"]})
    assert read["opportunity"] == {"net": "84.50", "discount": "15.50"}
    # when the formula is deleted first, then the field
    gql.data(DELETE_FIELD, {"input": {"object": "opportunity", "name": "net"}})
    gql.data(DELETE_FIELD, {"input": {"object": "opportunity", "name": "discount", "confirm": True}})
    # then both are gone
    names = {f["name"] for f in gql.data(FIELD_NAMES, {"object": "opportunity"})["object"]["fields"]}
    assert not {"net", "discount"} & names


def test_deleting_a_formula_another_formula_uses_is_refused(gql: GraphQLClient) -> None:
    # given a formula used by a second one
    _define(gql, "base", "NUMBER", "amount")
    _define(gql, "twice", "NUMBER", "base * 2")
    # when the first is deleted
    error = gql.error(DELETE_FIELD, {"input": {"object": "opportunity", "name": "base"}})
    # then it is refused as IN_USE naming the second
    assert error["extensions"]["code"] == "IN_USE"
    assert [d.split(":")[0] for d in error["extensions"]["dependents"]] == ["formula opportunity.twice"]


def test_changed_expression_and_result_type_apply_to_the_next_read(gql: GraphQLClient) -> None:
    # given a formula of 10% of the amount and a record of 123.45
    _define(gql, "bonus", "CURRENCY", "amount * 0.1")
    record = gql.data(
        'mutation { createOpportunity(data: {name: "B", closeDate: "2026-01-01", amount: "123.45"}) { id bonus } }'
    )["createOpportunity"]
    # when the expression becomes 20%
    updated = gql.data(
        UPDATE_FIELD, {"input": {"object": "opportunity", "name": "bonus", "expression": "amount * 0.2"}}
    )["updateField"]
    after = gql.data(GET_BONUS, {"id": record["id"]})["opportunity"]["bonus"]
    by_filter = gql.data(COUNT_OPPORTUNITIES, {"filter": {"bonus": {"eq": "24.69"}}})["opportunities"][
        "totalCount"
    ]
    # then 12.345 became 12.35 before, and 24.69 now, in values and filters alike
    assert record["bonus"] == "12.35"
    assert updated["expression"] == "amount * 0.2"
    assert (after, by_filter) == ("24.69", 1)
    # when its result becomes TEXT (its scale of 2 is not mentioned)
    retyped = gql.data(
        UPDATE_FIELD,
        {
            "input": {
                "object": "opportunity",
                "name": "bonus",
                "resultType": "TEXT",
                "expression": 'TEXT(amount) & " EUR"',
            }
        },
    )["updateField"]
    # then the scale is dropped, and the data API serves it as a String holding the new value
    assert (retyped["resultType"], retyped["scale"], retyped["graphqlType"]) == ("TEXT", None, "String")
    fields = gql.data(RECORD_FIELDS, {"type": "Opportunity"})["__type"]["fields"]
    assert next(f["type"]["name"] for f in fields if f["name"] == "bonus") == "String"
    assert gql.data(GET_BONUS, {"id": record["id"]})["opportunity"]["bonus"] == "123.45 EUR"
