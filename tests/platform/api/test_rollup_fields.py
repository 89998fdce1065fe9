"""ROLLUP fields through the metadata and data APIs: COUNT, SUM, MIN, MAX and AVG of the live child
records (with and without a filter) after every kind of child change, rollups of formulas and formulas
of rollups, filtering and sorting parents by a rollup, refused definitions and the changes a rollup keeps
from breaking, concurrent child inserts (PostgreSQL), and YAML packages carrying computed fields."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from tessera.model.registry import TenantModel, load_metadata
from tessera.services.packages import apply_package, export_metadata
from tessera.services.records import create_records
from tessera.services.records.write import RecordWriter
from tessera.services.runtime import Actor, Runtime
from tessera.services.tenants import CreatedTenant
from tessera.testing import GraphQLClient, tenant_scope

NO_CHANGE = {
    "objectsCreated": 0,
    "objectsUpdated": 0,
    "fieldsCreated": 0,
    "fieldsUpdated": 0,
    "rulesCreated": 0,
    "rulesUpdated": 0,
    "workflowsCreated": 0,
    "workflowsUpdated": 0,
    "automationApplied": 0,
}
CREATE_FIELD = """
mutation($input: CreateFieldInput!) { createField(input: $input) {
  name type computed resultType scale graphqlType readOnly expression
  childObject childField function summarizedField filter } }
"""
UPDATE_FIELD = "mutation($input: UpdateFieldInput!) { updateField(input: $input) { name options } }"
DELETE_FIELD = "mutation($input: DeleteFieldInput!) { deleteField(input: $input) { name } }"
FIELD = """
query($object: String!, $name: String!) { object(name: $object) { field(name: $name) {
  name type computed resultType scale graphqlType readOnly expression
  childObject childField function summarizedField filter } } }
"""
FIELD_NAMES = "query($object: String!) { object(name: $object) { fields { name } } }"
CREATE_ACCOUNT = "mutation($data: AccountCreateInput!) { createAccount(data: $data) { id name } }"
CREATE_ACCOUNTS = "mutation($data: [AccountCreateInput!]!) { createAccounts(data: $data) { id name } }"
DELETE_ACCOUNT = "mutation($id: ID!) { deleteAccount(id: $id) { id } }"
CREATE_OPPORTUNITY = "mutation($data: OpportunityCreateInput!) { createOpportunity(data: $data) { id } }"
CREATE_OPPORTUNITIES = """
mutation($data: [OpportunityCreateInput!]!) { createOpportunities(data: $data) { id name } }
"""
UPDATE_OPPORTUNITY = """
mutation($id: ID!, $data: OpportunityUpdateInput!) { updateOpportunity(id: $id, data: $data) { id } }
"""
DELETE_OPPORTUNITY = "mutation($id: ID!) { deleteOpportunity(id: $id) { id } }"
RESTORE_OPPORTUNITY = "mutation($id: ID!) { restoreOpportunity(id: $id) { id } }"
SUMMARY = """
query($id: ID!) { account(id: $id) {
  oppCount wonCount total wonTotal smallest largest average firstClose lastEntered } }
"""
ACCOUNT_VALUES = """
query($id: ID!) { account(id: $id) { oppCount total weightedTotal bigWeighted winRate childEmployees } }
"""
ACCOUNT_LIST = """
query($filter: AccountFilter, $orderBy: [AccountOrderBy!], $first: Int, $after: String) {
  accounts(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { name } } } }
"""
OPPORTUNITY_SHARES = """
query($filter: OpportunityFilter) {
  opportunities(filter: $filter, orderBy: [{name: AscNullsLast}]) { totalCount edges { node { name share } } } }
"""
WON = 'ISPICKVAL(stage, "closedWon")'

# (name, function, summarized field, filter) of rollups of account over opportunity.account
OPPORTUNITY_ROLLUPS = [
    ("oppCount", "COUNT", None, None),
    ("wonCount", "COUNT", None, WON),
    ("total", "SUM", "amount", None),
    ("wonTotal", "SUM", "amount", WON),
    ("smallest", "MIN", "amount", None),
    ("largest", "MAX", "amount", None),
    ("average", "AVG", "amount", None),
    ("firstClose", "MIN", "closeDate", None),
    ("lastEntered", "MAX", "stageEnteredAt", None),
    ("avgProbability", "AVG", "probability", None),
    ("weightedTotal", "SUM", "weighted", None),
    ("bigWeighted", "SUM", "weighted", "weighted > 100"),
]


def _rollup(
    object_name: str,
    name: str,
    child: str,
    lookup: str,
    function: str,
    summarized: str | None = None,
    filter_: str | None = None,
) -> dict[str, Any]:
    definition = {
        "object": object_name,
        "name": name,
        "type": "ROLLUP",
        "childObject": child,
        "childField": lookup,
        "function": function,
    }
    if summarized:
        definition["summarizedField"] = summarized
    if filter_:
        definition["filter"] = filter_
    return definition


def _formula(object_name: str, name: str, result_type: str, expression: str) -> dict[str, Any]:
    return {
        "object": object_name,
        "name": name,
        "type": "FORMULA",
        "resultType": result_type,
        "expression": expression,
    }


def _opportunity_rollup(
    name: str, function: str, summarized: str | None = None, filter_: str | None = None
) -> dict[str, Any]:
    return _rollup("account", name, "opportunity", "account", function, summarized, filter_)


@pytest.fixture(scope="module")
def crm(runtime: Runtime, app: Any) -> Iterator[GraphQLClient]:
    """A tenant with the module's rollups, shared by the tests that use accounts of their own."""
    with tenant_scope(runtime) as created:
        client = GraphQLClient(app, created.token)
        client.data(
            CREATE_FIELD,
            {"input": _formula("opportunity", "weighted", "CURRENCY", "amount * probability / 100")},
        )
        for name, function, summarized, filter_ in OPPORTUNITY_ROLLUPS:
            client.data(CREATE_FIELD, {"input": _opportunity_rollup(name, function, summarized, filter_)})
        client.data(
            CREATE_FIELD,
            {"input": _rollup("account", "childEmployees", "account", "parentAccount", "AVG", "employees")},
        )
        client.data(
            CREATE_FIELD, {"input": _formula("account", "winRate", "PERCENT", "wonCount / oppCount * 100")}
        )
        client.data(
            CREATE_FIELD,
            {"input": _formula("opportunity", "share", "PERCENT", "amount / account.total * 100")},
        )
        yield client


@pytest.fixture
def scratch(crm: GraphQLClient) -> Iterator[GraphQLClient]:
    """The shared tenant for a test that adds fields to account and opportunity; they are deleted after it."""
    before = {name: _field_names(crm, name) for name in ("account", "opportunity")}
    yield crm
    pending = [(name, field) for name in before for field in _field_names(crm, name) - before[name]]
    while pending:  # a field still used by another added field is deleted in a later round
        left = [
            (name, field)
            for name, field in pending
            if crm.execute(DELETE_FIELD, {"input": {"object": name, "name": field, "confirm": True}}).get(
                "errors"
            )
        ]
        assert len(left) < len(pending), f"cannot delete {left}"
        pending = left


def _field_names(gql: GraphQLClient, object_name: str) -> set[str]:
    return {f["name"] for f in gql.data(FIELD_NAMES, {"object": object_name})["object"]["fields"]}


def _unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def _account(gql: GraphQLClient, name: str | None = None, **data: Any) -> str:
    return gql.data(CREATE_ACCOUNT, {"data": {"name": name or _unique("A"), **data}})["createAccount"]["id"]


def _opportunity(gql: GraphQLClient, account: str | None, **data: Any) -> str:
    values = {"name": _unique("O"), "closeDate": "2026-06-30", "account": account, **data}
    return gql.data(CREATE_OPPORTUNITY, {"data": values})["createOpportunity"]["id"]


def _summary(
    count: int,
    won: int,
    total: str,
    won_total: str,
    smallest: str | None,
    largest: str | None,
    average: str | None,
    first_close: str | None,
    last_entered: str | None,
) -> dict[str, Any]:
    return {
        "oppCount": count,
        "wonCount": won,
        "total": total,
        "wonTotal": won_total,
        "smallest": smallest,
        "largest": largest,
        "average": average,
        "firstClose": first_close,
        "lastEntered": last_entered,
    }


EMPTY = _summary(0, 0, "0.00", "0.00", None, None, None, None, None)


def _read_summary(gql: GraphQLClient, account: str) -> dict[str, Any]:
    return gql.data(SUMMARY, {"id": account})["account"]


def _names(connection: dict[str, Any], prefix: str) -> list[str]:
    return [edge["node"]["name"].removeprefix(f"{prefix}-") for edge in connection["edges"]]


# --- definitions ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "result_type", "scale", "graphql_type"),
    [
        pytest.param("oppCount", "INTEGER", None, "Int", id="count-is-integer"),
        pytest.param("total", "CURRENCY", 2, "Decimal", id="sum-of-currency"),
        pytest.param("average", "CURRENCY", 2, "Decimal", id="avg-of-currency"),
        pytest.param("avgProbability", "PERCENT", 4, "Decimal", id="avg-keeps-the-scale"),
        pytest.param("firstClose", "DATE", None, "Date", id="min-of-date"),
        pytest.param("lastEntered", "DATETIME", None, "DateTime", id="max-of-datetime"),
        pytest.param("weightedTotal", "CURRENCY", 2, "Decimal", id="sum-of-formula"),
        pytest.param("childEmployees", "NUMBER", 2, "Decimal", id="avg-of-integer-is-number"),
    ],
)
def test_rollup_result_type_and_scale_are_derived(
    crm: GraphQLClient, name: str, result_type: str, scale: int | None, graphql_type: str
) -> None:
    # given the module's rollups, created without a result type
    # when one's definition is read
    field = crm.data(FIELD, {"object": "account", "name": name})["object"]["field"]
    # then its result type and scale follow its function and the summarized field
    assert (field["type"], field["computed"], field["readOnly"]) == ("ROLLUP", True, True)
    assert (field["resultType"], field["scale"], field["graphqlType"]) == (result_type, scale, graphql_type)


def test_rollup_definition_reports_what_it_summarizes(crm: GraphQLClient) -> None:
    # given a filtered SUM rollup
    # when its definition is read
    field = crm.data(FIELD, {"object": "account", "name": "wonTotal"})["object"]["field"]
    # then it names the child object, the lookup, the function, the summarized field and the filter
    assert field == {
        "name": "wonTotal",
        "type": "ROLLUP",
        "computed": True,
        "resultType": "CURRENCY",
        "scale": 2,
        "graphqlType": "Decimal",
        "readOnly": True,
        "expression": None,
        "childObject": "opportunity",
        "childField": "account",
        "function": "SUM",
        "summarizedField": "amount",
        "filter": WON,
    }


def test_result_type_and_scale_given_to_a_rollup_are_replaced_by_the_derived_ones(
    scratch: GraphQLClient,
) -> None:
    # given a SUM of the CURRENCY amount, declared as a NUMBER of scale 5
    definition = {**_opportunity_rollup("declared", "SUM", "amount"), "resultType": "NUMBER", "scale": 5}
    # when it is created
    created = scratch.data(CREATE_FIELD, {"input": definition})["createField"]
    # then it is a CURRENCY of scale 2, like the amount
    assert (created["resultType"], created["scale"], created["graphqlType"]) == ("CURRENCY", 2, "Decimal")


# --- values through child changes -------------------------------------------------------------
def test_rollups_follow_every_change_of_the_children(crm: GraphQLClient) -> None:
    # given two accounts without opportunities
    a, b = _account(crm), _account(crm)
    # then COUNT and SUM are 0 and MIN, MAX and AVG null
    assert _read_summary(crm, a) == _read_summary(crm, b) == EMPTY

    # when a won opportunity of 100.00 is added to A
    x1 = _opportunity(
        crm,
        a,
        amount="100.00",
        stage="closedWon",
        closeDate="2026-03-01",
        stageEnteredAt="2026-02-01T08:00:00Z",
    )
    # then A summarizes it
    a_one = _summary(
        1, 1, "100.00", "100.00", "100.00", "100.00", "100.00", "2026-03-01", "2026-02-01T08:00:00.000Z"
    )
    assert _read_summary(crm, a) == a_one

    # when three more are created in one bulk: two for A (one without amount), one won for B
    bulk = [
        {
            "name": _unique("x2"),
            "account": a,
            "amount": "50.50",
            "closeDate": "2026-01-15",
            "stageEnteredAt": "2026-02-10T09:30:00Z",
        },
        {"name": _unique("x3"), "account": a, "amount": None, "closeDate": "2026-05-01"},
        {
            "name": _unique("x4"),
            "account": b,
            "amount": "7.25",
            "stage": "closedWon",
            "closeDate": "2026-02-01",
        },
    ]
    x2, _x3, x4 = [o["id"] for o in crm.data(CREATE_OPPORTUNITIES, {"data": bulk})["createOpportunities"]]
    # then A counts three but sums, averages and compares the two amounts: (100 + 50.50) / 2 = 75.25
    assert _read_summary(crm, a) == _summary(
        3, 1, "150.50", "100.00", "50.50", "100.00", "75.25", "2026-01-15", "2026-02-10T09:30:00.000Z"
    )
    assert _read_summary(crm, b) == _summary(1, 1, "7.25", "7.25", "7.25", "7.25", "7.25", "2026-02-01", None)

    # when x2's amount becomes 60.00 and it is won
    crm.data(UPDATE_OPPORTUNITY, {"id": x2, "data": {"amount": "60.00", "stage": "closedWon"}})
    # then A's sums, minimum and average follow, and the filtered rollups count it: (100 + 60) / 2 = 80
    assert _read_summary(crm, a) == _summary(
        3, 2, "160.00", "160.00", "60.00", "100.00", "80.00", "2026-01-15", "2026-02-10T09:30:00.000Z"
    )

    # when x1 moves from A to B
    crm.data(UPDATE_OPPORTUNITY, {"id": x1, "data": {"account": b}})
    # then A loses it and B gains it: B's average is (7.25 + 100) / 2 = 53.625, rounded half away from zero to 53.63
    assert _read_summary(crm, a) == _summary(
        2, 1, "60.00", "60.00", "60.00", "60.00", "60.00", "2026-01-15", "2026-02-10T09:30:00.000Z"
    )
    b_two = _summary(
        2, 2, "107.25", "107.25", "7.25", "100.00", "53.63", "2026-02-01", "2026-02-01T08:00:00.000Z"
    )
    assert _read_summary(crm, b) == b_two

    # when x4 is deleted (to the recycle bin)
    crm.data(DELETE_OPPORTUNITY, {"id": x4})
    # then B no longer counts it
    assert _read_summary(crm, b) == _summary(
        1, 1, "100.00", "100.00", "100.00", "100.00", "100.00", "2026-03-01", "2026-02-01T08:00:00.000Z"
    )

    # when it is restored
    crm.data(RESTORE_OPPORTUNITY, {"id": x4})
    # then B counts it again, and A never changed
    assert _read_summary(crm, b) == b_two
    assert _read_summary(crm, a)["oppCount"] == 2


def test_rollup_of_a_formula_sums_the_rounded_values(crm: GraphQLClient) -> None:
    # given an account with three opportunities whose weighted formula (scale 2) is
    # 333.33 × 33.3333% = 111.1098... → 111.11, 10 × 15% = 1.50 and 0.01 × 50% = 0.005 → 0.01
    a, b = _account(crm), _account(crm)
    rows = [
        {
            "name": _unique("y1"),
            "account": a,
            "amount": "333.33",
            "probability": "33.3333",
            "closeDate": "2026-01-01",
        },
        {
            "name": _unique("y2"),
            "account": a,
            "amount": "10.00",
            "probability": "15",
            "closeDate": "2026-01-01",
        },
        {
            "name": _unique("y3"),
            "account": a,
            "amount": "0.01",
            "probability": "50",
            "closeDate": "2026-01-01",
        },
    ]
    y1 = crm.data(CREATE_OPPORTUNITIES, {"data": rows})["createOpportunities"][0]["id"]
    # when the account is read
    before = crm.data(ACCOUNT_VALUES, {"id": a})["account"]
    # then SUM(weighted) adds the rounded values (112.62, where the raw products add to 112.6149 → 112.61),
    # and the filtered rollup keeps only the one above 100
    assert (before["weightedTotal"], before["bigWeighted"]) == ("112.62", "111.11")
    # when the heaviest moves to another account
    crm.data(UPDATE_OPPORTUNITY, {"id": y1, "data": {"account": b}})
    after_a = crm.data(ACCOUNT_VALUES, {"id": a})["account"]
    after_b = crm.data(ACCOUNT_VALUES, {"id": b})["account"]
    # then the first keeps 1.50 + 0.01 and a filtered SUM over nothing is 0
    assert (after_a["weightedTotal"], after_a["bigWeighted"]) == ("1.51", "0.00")
    assert (after_b["weightedTotal"], after_b["bigWeighted"]) == ("111.11", "111.11")


def test_average_of_an_integer_field_over_a_self_lookup(crm: GraphQLClient) -> None:
    # given a parent account whose child accounts employ 1, 2, 2 and an unknown number
    parent = _account(crm)
    children = crm.data(
        CREATE_ACCOUNTS,
        {"data": [{"name": _unique("c"), "parentAccount": parent, "employees": e} for e in (1, 2, 2, None)]},
    )["createAccounts"]
    # when the parent is read, then a child employing 2 is deleted
    before = crm.data(ACCOUNT_VALUES, {"id": parent})["account"]["childEmployees"]
    crm.data(DELETE_ACCOUNT, {"id": children[2]["id"]})
    after = crm.data(ACCOUNT_VALUES, {"id": parent})["account"]["childEmployees"]
    # then the average is a NUMBER of scale 2: 5 / 3 = 1.666... → 1.67, then 3 / 2 = 1.50
    assert (before, after) == ("1.67", "1.50")


def test_rollups_in_formulas_of_the_parent_and_of_the_children(crm: GraphQLClient) -> None:
    # given an account with no opportunity, and one with 100.00 (won), 60.00 and one without amount
    empty, busy = _account(crm), _account(crm)
    prefix = _unique("S")
    crm.data(
        CREATE_OPPORTUNITIES,
        {
            "data": [
                {
                    "name": f"{prefix}-1",
                    "account": busy,
                    "amount": "100.00",
                    "stage": "closedWon",
                    "closeDate": "2026-01-01",
                },
                {"name": f"{prefix}-2", "account": busy, "amount": "60.00", "closeDate": "2026-01-01"},
                {"name": f"{prefix}-3", "account": busy, "amount": None, "closeDate": "2026-01-01"},
            ]
        },
    )
    # when the accounts' win rate (wonCount / oppCount × 100) and the opportunities' share of their
    # account's total (amount / account.total × 100) are read
    empty_rate = crm.data(ACCOUNT_VALUES, {"id": empty})["account"]["winRate"]
    busy_rate = crm.data(ACCOUNT_VALUES, {"id": busy})["account"]["winRate"]
    shares = crm.data(OPPORTUNITY_SHARES, {"filter": {"name": {"startsWith": f"{prefix}-"}}})["opportunities"]
    # then 1 of 3 is 33.33, 0 / 0 is null, and 100 / 160 = 62.50 %, 60 / 160 = 37.50 %, null for no amount
    assert (empty_rate, busy_rate) == (None, "33.33")
    assert [e["node"]["share"] for e in shares["edges"]] == ["62.50", "37.50", None]
    # and filtering the children by that formula uses the parent's rollup
    above_half = crm.data(
        OPPORTUNITY_SHARES,
        {"filter": {"and": [{"name": {"startsWith": f"{prefix}-"}}, {"share": {"gt": "50"}}]}},
    )["opportunities"]
    assert _names(above_half, prefix) == ["1"]


# --- filtering and sorting parents ------------------------------------------------------------
@pytest.fixture(scope="module")
def portfolio(crm: GraphQLClient) -> str:
    """Three accounts ``<prefix>-A``, ``-B`` and ``-C``:

    | account | opportunities                       | oppCount | total  | average | winRate |
    | A       | 100.00 won, 60.00 won, no amount    | 3        | 160.00 | 80.00   | 66.67   |
    | B       | 7.25 won                            | 1        | 7.25   | 7.25    | 100.00  |
    | C       | none                                | 0        | 0.00   | null    | null    |
    """
    prefix = _unique("P")
    accounts = crm.data(CREATE_ACCOUNTS, {"data": [{"name": f"{prefix}-{n}"} for n in "ABC"]})[
        "createAccounts"
    ]
    a, b = accounts[0]["id"], accounts[1]["id"]
    rows = [
        (a, "100.00", "closedWon"),
        (a, "60.00", "closedWon"),
        (a, None, "prospecting"),
        (b, "7.25", "closedWon"),
    ]
    crm.data(
        CREATE_OPPORTUNITIES,
        {
            "data": [
                {
                    "name": f"{prefix}-o{i}",
                    "account": acc,
                    "amount": amount,
                    "stage": stage,
                    "closeDate": "2026-01-01",
                }
                for i, (acc, amount, stage) in enumerate(rows)
            ]
        },
    )
    return prefix


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        pytest.param({"total": {"gt": "100"}}, ["A"], id="sum-gt"),
        pytest.param({"total": {"eq": "0"}}, ["C"], id="sum-of-nothing-is-zero"),
        pytest.param({"total": {"lt": "10"}}, ["B", "C"], id="sum-lt"),
        pytest.param({"oppCount": {"gte": 1}}, ["A", "B"], id="count-gte"),
        pytest.param({"oppCount": {"in": [0, 3]}}, ["A", "C"], id="count-in"),
        pytest.param({"average": {"isNull": True}}, ["C"], id="avg-of-nothing-is-null"),
        pytest.param({"average": {"neq": "80"}}, ["B", "C"], id="avg-neq-keeps-nulls"),
        pytest.param({"winRate": {"gte": "100"}}, ["B"], id="formula-of-rollups"),
        pytest.param({"winRate": {"lt": "100"}}, ["A"], id="formula-of-rollups-skips-nulls"),
    ],
)
def test_filter_parents_by_a_rollup(
    crm: GraphQLClient, portfolio: str, condition: dict[str, Any], expected: list[str]
) -> None:
    # given the three accounts of the portfolio
    own = {"name": {"startsWith": f"{portfolio}-"}}
    # when they are filtered by a rollup or a formula of rollups
    found = crm.data(
        ACCOUNT_LIST, {"filter": {"and": [own, condition]}, "orderBy": [{"name": "AscNullsLast"}]}
    )
    # then exactly the accounts computed by hand match
    assert _names(found["accounts"], portfolio) == expected
    assert found["accounts"]["totalCount"] == len(expected)


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        pytest.param({"total": "DescNullsLast"}, ["A", "B", "C"], id="sum-desc"),
        pytest.param({"oppCount": "AscNullsLast"}, ["C", "B", "A"], id="count-asc"),
        pytest.param({"average": "AscNullsFirst"}, ["C", "B", "A"], id="avg-asc-nulls-first"),
        pytest.param({"average": "AscNullsLast"}, ["B", "A", "C"], id="avg-asc-nulls-last"),
        pytest.param({"winRate": "DescNullsFirst"}, ["C", "B", "A"], id="formula-of-rollups"),
    ],
)
def test_sort_parents_by_a_rollup(
    crm: GraphQLClient, portfolio: str, order: dict[str, str], expected: list[str]
) -> None:
    # given the three accounts of the portfolio
    # when they are sorted by a rollup
    found = crm.data(ACCOUNT_LIST, {"filter": {"name": {"startsWith": f"{portfolio}-"}}, "orderBy": [order]})
    # then the order is the one computed by hand
    assert _names(found["accounts"], portfolio) == expected


def test_cursor_pagination_over_a_rollup_sort(crm: GraphQLClient, portfolio: str) -> None:
    # given the three accounts of the portfolio sorted by their average, empty last
    variables: dict[str, Any] = {
        "filter": {"name": {"startsWith": f"{portfolio}-"}},
        "orderBy": [{"average": "DescNullsLast"}],
        "first": 1,
    }
    # when they are read one page of one at a time
    names, after, more = [], None, []
    for _ in range(3):
        page = crm.data(ACCOUNT_LIST, {**variables, "after": after})["accounts"]
        names += _names(page, portfolio)
        more.append(page["pageInfo"]["hasNextPage"])
        after = page["pageInfo"]["endCursor"]
    # then A (80.00), B (7.25) and C (null) come once each
    assert (names, more) == (["A", "B", "C"], [True, True, False])


def test_filter_children_through_the_lookup_by_the_parent_rollup(crm: GraphQLClient, portfolio: str) -> None:
    # given the portfolio's opportunities
    own = {"name": {"startsWith": f"{portfolio}-"}}
    # when they are filtered by their account's total
    found = crm.data(OPPORTUNITY_SHARES, {"filter": {"and": [own, {"account": {"total": {"gt": "100"}}}]}})
    # then the three of A (total 160.00) match
    assert _names(found["opportunities"], portfolio) == ["o0", "o1", "o2"]


# --- refused definitions ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("definition", "field"),
    [
        pytest.param(
            _rollup("account", "r", "opportunity", "contact", "COUNT"),
            "childField",
            id="lookup-to-another-object",
        ),
        pytest.param(
            _rollup("account", "r", "opportunity", "name", "COUNT"), "childField", id="not-a-lookup"
        ),
        pytest.param(
            _rollup("account", "r", "opportunity", "nothing", "COUNT"), "childField", id="no-such-lookup"
        ),
        pytest.param(
            _rollup("account", "r", "nothing", "account", "COUNT"), "childObject", id="no-such-child"
        ),
        pytest.param(_opportunity_rollup("r", "SUM", "name"), "summarizedField", id="sum-of-text"),
        pytest.param(_opportunity_rollup("r", "AVG", "closeDate"), "summarizedField", id="avg-of-date"),
        pytest.param(
            _rollup("account", "r", "contact", "account", "MAX", "doNotCall"),
            "summarizedField",
            id="max-of-boolean",
        ),
        pytest.param(_opportunity_rollup("r", "COUNT", "amount"), "summarizedField", id="count-with-a-field"),
        pytest.param(_opportunity_rollup("r", "SUM"), "summarizedField", id="sum-without-a-field"),
        pytest.param(_opportunity_rollup("r", "SUM", "amout"), "summarizedField", id="no-such-field"),
    ],
)
def test_invalid_rollup_is_refused_naming_the_input(
    crm: GraphQLClient, definition: dict[str, Any], field: str
) -> None:
    # given a rollup definition with one mistake
    # when it is created
    error = crm.error(CREATE_FIELD, {"input": definition})
    # then it is refused naming the input at fault, and no field is added
    assert (error["extensions"]["code"], error["extensions"]["field"]) == ("VALIDATION_ERROR", field)
    names = [f["name"] for f in crm.data(FIELD_NAMES, {"object": "account"})["object"]["fields"]]
    assert "r" not in names


@pytest.mark.parametrize(
    ("filter_", "kind", "column"),
    [
        pytest.param("amount + 1", "type_mismatch", 8, id="not-boolean"),
        pytest.param("amout > 1", "unknown_field", 1, id="unknown-field"),
        pytest.param("amount >", "syntax", 9, id="syntax"),
    ],
)
def test_invalid_rollup_filter_is_refused_with_its_position(
    crm: GraphQLClient, filter_: str, kind: str, column: int
) -> None:
    # given a COUNT rollup whose filter is not a valid condition on the child
    # when it is created
    error = crm.error(CREATE_FIELD, {"input": _opportunity_rollup("r", "COUNT", filter_=filter_)})
    # then the filter is named, with the kind of problem and where it is
    extensions = error["extensions"]
    assert (extensions["code"], extensions["field"], extensions["kind"]) == (
        "VALIDATION_ERROR",
        "filter",
        kind,
    )
    assert (extensions["line"], extensions["column"]) == (1, column)


def test_rollup_and_formula_using_each_other_are_refused_as_a_cycle(scratch: GraphQLClient) -> None:
    # given a rollup of the opportunities with an amount, and an opportunity formula reading it
    scratch.data(CREATE_FIELD, {"input": _opportunity_rollup("priced", "COUNT", filter_="amount > 0")})
    scratch.data(
        CREATE_FIELD, {"input": _formula("opportunity", "perPriced", "NUMBER", "amount / account.priced")}
    )
    # when the rollup's filter is changed to use that formula
    error = scratch.error(
        UPDATE_FIELD, {"input": {"object": "account", "name": "priced", "filter": "perPriced > 10"}}
    )
    # then the change is refused as a cycle naming both fields, and the filter stays
    assert (error["extensions"]["code"], error["extensions"]["field"], error["extensions"]["kind"]) == (
        "VALIDATION_ERROR",
        "expression",
        "cycle",
    )
    assert "account.priced" in error["message"] and "opportunity.perPriced" in error["message"]
    assert (
        scratch.data(FIELD, {"object": "account", "name": "priced"})["object"]["field"]["filter"]
        == "amount > 0"
    )


def test_rollup_of_a_formula_that_reads_the_rollup_is_refused_as_a_cycle(scratch: GraphQLClient) -> None:
    # given a formula and a rollup summing it
    scratch.data(CREATE_FIELD, {"input": _formula("opportunity", "points", "NUMBER", "amount")})
    scratch.data(CREATE_FIELD, {"input": _opportunity_rollup("pointTotal", "SUM", "points")})
    # when the formula is changed to read the rollup through its account
    error = scratch.error(
        UPDATE_FIELD,
        {"input": {"object": "opportunity", "name": "points", "expression": "amount + account.pointTotal"}},
    )
    # then the change is refused as a cycle
    assert (error["extensions"]["code"], error["extensions"]["kind"]) == ("VALIDATION_ERROR", "cycle")
    assert "account.pointTotal" in error["message"] and "opportunity.points" in error["message"]


# --- changes and dependents -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("custom_field", "rollup", "change"),
    [
        pytest.param(
            {"name": "fee", "type": "NUMBER"},
            _opportunity_rollup("dependent", "SUM", "fee"),
            (DELETE_FIELD, {"object": "opportunity", "name": "fee", "confirm": True}),
            id="delete-summarized-field",
        ),
        pytest.param(
            {"name": "fee", "type": "NUMBER"},
            _opportunity_rollup("dependent", "SUM", "fee"),
            (UPDATE_FIELD, {"object": "opportunity", "name": "fee", "scale": 3}),
            id="change-the-summarized-scale",
        ),
        pytest.param(
            {"name": "fee", "type": "NUMBER"},
            _opportunity_rollup("dependent", "SUM", "fee"),
            (UPDATE_FIELD, {"object": "opportunity", "name": "fee", "type": "CURRENCY"}),
            id="change-the-summarized-type",
        ),
        pytest.param(
            {"name": "fee", "type": "FORMULA", "resultType": "NUMBER", "expression": "amount / 10"},
            _opportunity_rollup("dependent", "SUM", "fee"),
            (DELETE_FIELD, {"object": "opportunity", "name": "fee"}),
            id="delete-a-summarized-formula",
        ),
        pytest.param(
            {"name": "fee", "type": "FORMULA", "resultType": "NUMBER", "expression": "amount / 10"},
            _opportunity_rollup("dependent", "MAX", "fee"),
            (
                UPDATE_FIELD,
                {"object": "opportunity", "name": "fee", "resultType": "TEXT", "expression": "name"},
            ),
            id="change-a-summarized-formula-to-text",
        ),
        pytest.param(
            {"name": "partner", "type": "LOOKUP", "target": "account"},
            _rollup("account", "dependent", "opportunity", "partner", "COUNT"),
            (DELETE_FIELD, {"object": "opportunity", "name": "partner", "confirm": True}),
            id="delete-the-lookup",
        ),
        pytest.param(
            {"name": "flagged", "type": "BOOLEAN"},
            _opportunity_rollup("dependent", "COUNT", filter_="flagged"),
            (DELETE_FIELD, {"object": "opportunity", "name": "flagged", "confirm": True}),
            id="delete-a-field-of-the-filter",
        ),
    ],
)
def test_change_breaking_a_rollup_is_refused_as_in_use(
    scratch: GraphQLClient,
    custom_field: dict[str, Any],
    rollup: dict[str, Any],
    change: tuple[str, dict[str, Any]],
) -> None:
    # given a custom opportunity field and a rollup depending on it
    scratch.data(CREATE_FIELD, {"input": {"object": "opportunity", **custom_field}})
    scratch.data(CREATE_FIELD, {"input": rollup})
    field = {"object": "opportunity", "name": custom_field["name"]}
    before = scratch.data(FIELD, field)["object"]["field"]
    # when the field is changed so that the rollup would break (or change its result type)
    document, data = change
    error = scratch.error(document, {"input": data})
    # then the change is refused as IN_USE, naming the rollup, and the field stays as it was
    assert error["extensions"]["code"] == "IN_USE"
    dependents = error["extensions"]["dependents"]
    assert len(dependents) == 1 and dependents[0].startswith("rollup account.dependent: ")
    assert scratch.data(FIELD, field)["object"]["field"] == before


def test_summarized_field_can_be_deleted_once_its_rollup_is_gone(scratch: GraphQLClient) -> None:
    # given a custom fee field, a rollup summing it, and an opportunity with a fee of 12.5
    scratch.data(CREATE_FIELD, {"input": {"object": "opportunity", "name": "fee", "type": "NUMBER"}})
    scratch.data(CREATE_FIELD, {"input": _opportunity_rollup("feeTotal", "SUM", "fee")})
    account = _account(scratch)
    _opportunity(scratch, account, fee="12.5")
    total = scratch.data("query($id: ID!) { account(id: $id) { feeTotal } }", {"id": account})["account"][
        "feeTotal"
    ]
    # when the fee field is deleted while summarized, then the rollup, then the field
    refused = scratch.error(
        DELETE_FIELD, {"input": {"object": "opportunity", "name": "fee", "confirm": True}}
    )
    scratch.data(DELETE_FIELD, {"input": {"object": "account", "name": "feeTotal"}})
    scratch.data(DELETE_FIELD, {"input": {"object": "opportunity", "name": "fee", "confirm": True}})
    # then the first delete was refused while the rollup summed 12.50, and both are gone at the end
    assert (total, refused["extensions"]["code"]) == ("12.50", "IN_USE")
    names = {f["name"] for f in scratch.data(FIELD_NAMES, {"object": "opportunity"})["object"]["fields"]}
    assert "fee" not in names
    names = {f["name"] for f in scratch.data(FIELD_NAMES, {"object": "account"})["object"]["fields"]}
    assert "feeTotal" not in names


# --- concurrency (PostgreSQL) -----------------------------------------------------------------
@pytest.fixture
def postgresql(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip(
            "concurrent writers are PostgreSQL behaviour; SQLite serialises writers with its file lock"
        )


def _writer(runtime: Runtime, tenant: CreatedTenant) -> tuple[Actor, TenantModel]:
    ref = runtime.tenant(tenant.tenant.slug)
    with runtime.db.system.connect() as conn:
        return Actor(ref, tenant.admin_user_id), runtime.model(conn, ref)


def test_rollups_hold_after_concurrent_child_inserts(
    postgresql: None, runtime: Runtime, tenant: CreatedTenant, gql: GraphQLClient
) -> None:
    # given COUNT and SUM rollups and an account with one opportunity of 10.00
    # (the first opportunity also creates the auto-number counter, see the test below)
    gql.data(CREATE_FIELD, {"input": _opportunity_rollup("oppCount", "COUNT")})
    gql.data(CREATE_FIELD, {"input": _opportunity_rollup("total", "SUM", "amount")})
    account = _account(gql)
    _opportunity(gql, account, amount="10.00")
    actor, model = _writer(runtime, tenant)
    threads, inserts = 6, 5
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def insert(worker: int) -> None:
        try:
            start.wait()
            for i in range(inserts):
                row = {
                    "name": f"w{worker}-{i}",
                    "closeDate": "2026-01-01",
                    "amount": "2.50",
                    "account": account,
                }
                create_records(runtime, actor, model, "opportunity", [row], bulk=False)
        except BaseException as exc:  # reported below, a thread cannot fail the test itself
            errors.append(exc)

    # when six threads each add five opportunities of 2.50, each in its own transaction
    workers = [threading.Thread(target=insert, args=(w,)) for w in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    # then every insert succeeded and the rollups count 1 + 30 records and sum 10 + 30 × 2.50 = 85.00
    assert errors == []
    read = gql.data(
        "query($id: ID!) { account(id: $id) { oppCount total opportunities { totalCount } } }",
        {"id": account},
    )
    assert read["account"] == {"oppCount": 31, "total": "85.00", "opportunities": {"totalCount": 31}}


def test_concurrent_first_child_inserts_all_succeed(
    postgresql: None, runtime: Runtime, tenant: CreatedTenant, gql: GraphQLClient
) -> None:
    # given a COUNT rollup and an account without opportunities (so no auto-number counter yet)
    gql.data(CREATE_FIELD, {"input": _opportunity_rollup("oppCount", "COUNT")})
    account = _account(gql)
    actor, model = _writer(runtime, tenant)
    ref = actor.tenant
    errors: list[BaseException] = []

    def row(name: str) -> dict[str, Any]:
        return {"name": name, "closeDate": "2026-01-01", "account": account}

    def second() -> None:
        try:
            create_records(runtime, actor, model, "opportunity", [row("second")], bulk=False)
        except BaseException as exc:  # reported below
            errors.append(exc)

    # when a first insert is still uncommitted while a second one starts and waits for it
    with runtime.write(ref) as first:
        RecordWriter(first, model, actor, runtime.config.limits).create(
            "opportunity", [row("first")], bulk=False
        )
        pid = first.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        worker = threading.Thread(target=second)
        worker.start()
        _wait_until_blocked_by(runtime, pid)
    worker.join(timeout=30)
    # then both inserts succeed, and the account counts both
    assert errors == []
    assert (
        gql.data("query($id: ID!) { account(id: $id) { oppCount } }", {"id": account})["account"]["oppCount"]
        == 2
    )


def _wait_until_blocked_by(runtime: Runtime, pid: int, timeout: float = 10.0) -> None:
    """Wait until some session waits for a lock held by backend ``pid`` (or give up after ``timeout``)."""
    deadline = time.monotonic() + timeout
    query = sa.text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")
    with runtime.db.system.connect() as conn:
        while time.monotonic() < deadline:
            if conn.execute(query, {"pid": pid}).scalar_one():
                return
            conn.rollback()
            time.sleep(0.02)


# --- packages ---------------------------------------------------------------------------------
# account comes first and its rollup sums project.margin, a formula using gross, a formula defined
# after it, over stored fields defined after both: applying must retry the computed fields in order.
PACKAGE = [
    {
        "name": "account",
        "pluralName": "accounts",
        "fields": [
            {
                "name": "projectMargin",
                "type": "ROLLUP",
                "childObject": "project",
                "childField": "account",
                "function": "SUM",
                "summarizedField": "margin",
                "filter": "budget > 0",
            },
            {
                "name": "projectCount",
                "type": "ROLLUP",
                "childObject": "project",
                "childField": "account",
                "function": "COUNT",
            },
            {
                "name": "avgHours",
                "type": "ROLLUP",
                "childObject": "project",
                "childField": "account",
                "function": "AVG",
                "summarizedField": "hours",
            },
        ],
    },
    {
        "name": "project",
        "pluralName": "projects",
        "fields": [
            {"name": "margin", "type": "FORMULA", "resultType": "CURRENCY", "expression": "gross - cost"},
            {"name": "gross", "type": "FORMULA", "resultType": "CURRENCY", "expression": "budget * 1.2"},
            {"name": "budget", "type": "CURRENCY"},
            {"name": "cost", "type": "CURRENCY"},
            {"name": "account", "type": "LOOKUP", "target": "account"},
            {"name": "hours", "type": "INTEGER"},
        ],
    },
]
CREATED = {**NO_CHANGE, "objectsCreated": 1, "fieldsCreated": 9}


def _actor(runtime: Runtime, created: CreatedTenant) -> Actor:
    return Actor(runtime.tenant(created.tenant.slug), created.admin_user_id)


def _export(runtime: Runtime, created: CreatedTenant) -> str:
    ref = runtime.tenant(created.tenant.slug)
    with runtime.db.system.connect() as conn:
        return export_metadata(load_metadata(conn, ref))


def test_package_with_computed_fields_applies_in_dependency_order_and_round_trips(
    runtime: Runtime, tenant: CreatedTenant, gql: GraphQLClient
) -> None:
    # given a package whose computed fields come before what they use
    # when it is applied
    counts = apply_package(runtime, _actor(runtime, tenant), PACKAGE)
    # then the project object and its six fields, and the three rollups of account, are created
    assert counts == CREATED
    # and they compute: projects of budget 100 / cost 30.50 / 3 hours, budget 0 / cost 1 / 4 hours, and empty
    account = _account(gql)
    gql.data(
        "mutation($data: [ProjectCreateInput!]!) { createProjects(data: $data) { id } }",
        {
            "data": [
                {"account": account, "budget": "100", "cost": "30.50", "hours": 3},
                {"account": account, "budget": "0", "cost": "1", "hours": 4},
                {"account": account},
            ]
        },
    )
    read = gql.data(
        "query($id: ID!) { account(id: $id) { projectMargin projectCount avgHours"
        " projects(orderBy: [{budget: DescNullsLast}]) { edges { node { gross margin } } } } }",
        {"id": account},
    )["account"]
    assert read == {
        "projectMargin": "89.50",  # only budget > 0: 100 × 1.2 - 30.50
        "projectCount": 3,
        "avgHours": "3.50",  # (3 + 4) / 2, a NUMBER of scale 2
        "projects": {
            "edges": [
                {"node": {"gross": "120.00", "margin": "89.50"}},
                {"node": {"gross": "0.00", "margin": "-1.00"}},
                {"node": {"gross": None, "margin": None}},
            ]
        },
    }
    # when the tenant is exported
    exported = _export(runtime, tenant)
    objects = yaml.safe_load(exported)["objects"]
    fields = {(o["name"], f["name"]): f for o in objects for f in o["fields"]}
    # then formulas carry their expression and scale, and rollups their derived result type and scale
    margin = fields[("project", "margin")]
    assert {k: margin[k] for k in ("type", "resultType", "expression", "scale")} == {
        "type": "FORMULA",
        "resultType": "CURRENCY",
        "expression": "gross - cost",
        "scale": 2,
    }
    project_margin = fields[("account", "projectMargin")]
    assert {
        k: project_margin.get(k) for k in ("function", "summarizedField", "filter", "resultType", "scale")
    } == {
        "function": "SUM",
        "summarizedField": "margin",
        "filter": "budget > 0",
        "resultType": "CURRENCY",
        "scale": 2,
    }
    avg_hours, project_count = fields[("account", "avgHours")], fields[("account", "projectCount")]
    assert (avg_hours["resultType"], avg_hours["scale"]) == ("NUMBER", 2)
    assert (project_count["resultType"], project_count.get("scale")) == ("INTEGER", None)
    # and re-applying the export, or the package, changes nothing
    assert apply_package(runtime, _actor(runtime, tenant), objects) == NO_CHANGE
    assert apply_package(runtime, _actor(runtime, tenant), PACKAGE) == NO_CHANGE
    # and the export applied to a fresh tenant creates the same, which exports the same text
    with tenant_scope(runtime) as fresh:
        assert apply_package(runtime, _actor(runtime, fresh), objects) == CREATED
        assert _export(runtime, fresh) == exported
        assert apply_package(runtime, _actor(runtime, fresh), objects) == NO_CHANGE
