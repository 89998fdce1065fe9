"""Ordering and Relay cursor pagination of record lists through the generated GraphQL API."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from tessera.services.runtime import Runtime
from tessera.testing import GraphQLClient, tenant_scope

CREATE_ACCOUNTS = """
mutation($data: [AccountCreateInput!]!) { createAccounts(data: $data) { id name } }
"""
CREATE_OPPORTUNITIES = """
mutation($data: [OpportunityCreateInput!]!) { createOpportunities(data: $data) { id name } }
"""
CREATE_CONTACTS = """
mutation($data: [ContactCreateInput!]!) { createContacts(data: $data) { id lastName } }
"""
DELETE_ACCOUNT = "mutation($id: ID!) { deleteAccount(id: $id) { id } }"
ACCOUNT_PAGE = """
query($orderBy: [AccountOrderBy!], $first: Int, $after: String, $last: Int, $before: String,
      $filter: AccountFilter) {
  accounts(orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name employees annualRevenue createdAt } } } }
"""
OPPORTUNITY_PAGE = """
query($orderBy: [OpportunityOrderBy!], $first: Int, $after: String, $last: Int, $before: String,
      $filter: OpportunityFilter) {
  opportunities(orderBy: $orderBy, first: $first, after: $after, last: $last, before: $before,
                filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id name amount closeDate stageEnteredAt } } } }
"""
CONTACT_PAGE = """
query($orderBy: [ContactOrderBy!], $first: Int) {
  contacts(orderBy: $orderBy, first: $first) { edges { node { id lastName doNotCall } } } }
"""
ACCOUNT_NAMES = """
query($first: Int) { accounts(first: $first) {
  totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { node { name } } } }
"""
RELATION_PAGES = """
query($first: Int, $after: String, $prefix: String = "R") {
  accounts(orderBy: [{name: AscNullsLast}], filter: {name: {startsWith: $prefix}}) { edges { node {
    name
    opportunities(orderBy: [{amount: DescNullsLast}], first: $first, after: $after) {
      totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { node { name amount } } } } } } }
"""
RELATION_LAST = """
query($last: Int, $before: String) {
  accounts(orderBy: [{name: AscNullsLast}], filter: {name: {startsWith: "R"}}) { edges { node {
    name
    opportunities(orderBy: [{amount: DescNullsLast}], last: $last, before: $before) {
      pageInfo { hasNextPage hasPreviousPage startCursor } edges { node { name amount } } } } } } }
"""
ORDER_BY_MULTI_PICKLIST = "{ opportunities(orderBy: [{products: AscNullsLast}]) { totalCount } }"
TOTAL_ONLY_PAGE = "query($first: Int) { accounts(first: $first) { totalCount } }"

DIRECTIONS = ["AscNullsFirst", "AscNullsLast", "DescNullsFirst", "DescNullsLast"]

# 23 accounts: employees with ties and empties, revenue with empties.
ACCOUNTS = [
    {
        "name": f"N{i:02d}",
        "employees": None if i % 4 == 0 else (i * 7) % 10,
        "annualRevenue": None if i % 5 == 0 else f"{(i * 37) % 13}.{i % 3}5",
    }
    for i in range(23)
]
# 17 opportunities: amounts with ties and empties, dates with ties, instants with empties.
OPPORTUNITIES = [
    {
        "name": f"O{i:02d}",
        "amount": None if i % 6 == 0 else str(Decimal((i * 13) % 7) * Decimal("10.5")),
        "closeDate": f"2026-0{1 + i % 3}-{10 + (i * 5) % 17:02d}",
        "stageEnteredAt": None if i % 5 == 1 else f"2026-01-{1 + i % 4:02d}T{i:02d}:00:00.{i * 7:03d}Z",
    }
    for i in range(17)
]
CONTACTS = [{"lastName": f"C{i}", "doNotCall": [True, False, None][i % 3]} for i in range(7)]


@dataclass
class Lists:
    gql: GraphQLClient


@pytest.fixture(scope="module")
def lists(runtime: Runtime, app: Any) -> Iterator[Lists]:
    with tenant_scope(runtime) as created:
        gql = GraphQLClient(app, created.token)
        gql.data(CREATE_ACCOUNTS, {"data": ACCOUNTS})
        gql.data(CREATE_OPPORTUNITIES, {"data": OPPORTUNITIES})
        gql.data(CREATE_CONTACTS, {"data": CONTACTS})
        yield Lists(gql)


def _in_order(values: list[Any], direction: str) -> list[Any]:
    """Where ``direction`` puts ``values``: the non-empty ones sorted, the empty ones first or last."""
    present = sorted((v for v in values if v is not None), reverse=direction.startswith("Desc"))
    empty = [v for v in values if v is None]
    return empty + present if direction.endswith("NullsFirst") else present + empty


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _same(value: Any) -> Any:
    return value


PAGES = {"accounts": ACCOUNT_PAGE, "opportunities": OPPORTUNITY_PAGE}


def _page(gql: GraphQLClient, plural: str, **variables: Any) -> dict[str, Any]:
    return gql.data(PAGES[plural], variables)[plural]


def _ids(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


# --- ordering ---------------------------------------------------------------------------------
SORTED_FIELDS = [
    pytest.param("accounts", "employees", ACCOUNTS, _same, id="integer"),
    pytest.param("accounts", "annualRevenue", ACCOUNTS, _dec, id="currency"),
    pytest.param("opportunities", "amount", OPPORTUNITIES, _dec, id="opportunity-amount"),
    pytest.param("opportunities", "stageEnteredAt", OPPORTUNITIES, _same, id="datetime"),
    pytest.param("opportunities", "closeDate", OPPORTUNITIES, _same, id="date"),
]


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize(("plural", "field", "rows", "convert"), SORTED_FIELDS)
def test_order_by_places_empty_values_as_asked(
    lists: Lists,
    plural: str,
    field: str,
    rows: list[dict[str, Any]],
    convert: Callable[[Any], Any],
    direction: str,
) -> None:
    # given records whose field has ties and empty values
    # when they are listed ordered by that field in the direction
    connection = _page(lists.gql, plural, orderBy=[{field: direction}], first=500)
    got = [convert(edge["node"][field]) for edge in connection["edges"]]
    # then the values come in that order, with empty values first or last as asked
    assert got == _in_order([convert(r[field]) for r in rows], direction)
    if any(r[field] is None for r in rows):
        assert (got[0] is None) == direction.endswith("NullsFirst")
        assert (got[-1] is None) == direction.endswith("NullsLast")


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_order_by_boolean(lists: Lists, direction: str) -> None:
    # given contacts that must, must not, or did not say whether to be called
    # when ordered by doNotCall
    edges = lists.gql.data(CONTACT_PAGE, {"orderBy": [{"doNotCall": direction}], "first": 50})["contacts"][
        "edges"
    ]
    # then false sorts before true, and empty values go where asked
    got = [edge["node"]["doNotCall"] for edge in edges]
    assert got == _in_order([c["doNotCall"] for c in CONTACTS], direction)


def test_order_by_text_and_ties_broken_the_same_way_every_time(lists: Lists) -> None:
    # given accounts N00..N22
    # when ordered by name descending, and by employees (with ties) twice
    by_name = _page(lists.gql, "accounts", orderBy=[{"name": "DescNullsLast"}], first=500)
    ties_1 = _page(lists.gql, "accounts", orderBy=[{"employees": "AscNullsLast"}], first=500)
    ties_2 = _page(lists.gql, "accounts", orderBy=[{"employees": "AscNullsLast"}], first=500)
    # then names come in reverse order and records with equal values keep one order
    assert [e["node"]["name"] for e in by_name["edges"]] == sorted(
        (a["name"] for a in ACCOUNTS), reverse=True
    )
    assert _ids(ties_1) == _ids(ties_2)


def test_order_by_several_entries(lists: Lists) -> None:
    # given accounts with ties in employees
    # when ordered by employees (empty first) and then by name descending
    order = [{"employees": "DescNullsFirst"}, {"name": "DescNullsLast"}]
    connection = _page(lists.gql, "accounts", orderBy=order, first=500)
    got = [(e["node"]["employees"], e["node"]["name"]) for e in connection["edges"]]
    # then the second entry orders records the first leaves tied
    empty = sorted((a for a in ACCOUNTS if a["employees"] is None), key=lambda a: a["name"], reverse=True)
    present = sorted(
        (a for a in ACCOUNTS if a["employees"] is not None),
        key=lambda a: (a["employees"], a["name"]),
        reverse=True,
    )
    assert got == [(a["employees"], a["name"]) for a in empty + present]


@pytest.mark.parametrize(
    ("order_by", "field"),
    [
        pytest.param(
            [{"name": "AscNullsLast", "employees": "AscNullsLast"}], "orderBy.0", id="two-fields-in-one-entry"
        ),
        pytest.param(
            [{"name": "AscNullsLast"}, {"employees": "AscNullsLast", "id": "AscNullsLast"}],
            "orderBy.1",
            id="second-entry",
        ),
        pytest.param([{}], "orderBy.0", id="empty-entry"),
    ],
)
def test_order_by_entry_must_name_exactly_one_field(
    lists: Lists, order_by: list[dict[str, str]], field: str
) -> None:
    # given an orderBy entry naming zero or two fields
    # when the list is requested
    error = lists.gql.error(ACCOUNT_PAGE, {"orderBy": order_by})
    # then it is refused, naming the entry
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["extensions"]["field"] == field


def test_unsortable_field_is_not_in_the_schema(lists: Lists) -> None:
    # given a multi-value picklist (not sortable)
    # when a list is ordered by it
    result = lists.gql.execute(ORDER_BY_MULTI_PICKLIST)
    # then GraphQL validation refuses the document
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert "'products'" in error["message"]


# --- walking pages ----------------------------------------------------------------------------
ORDERINGS = [
    pytest.param("accounts", None, id="default-order"),
    pytest.param("accounts", [{"employees": "DescNullsFirst"}], id="integer-nulls-first"),
    pytest.param("accounts", [{"employees": "AscNullsLast"}, {"name": "DescNullsLast"}], id="two-keys"),
    pytest.param("accounts", [{"annualRevenue": "AscNullsFirst"}], id="decimal-key"),
    pytest.param("accounts", [{"createdAt": "DescNullsLast"}], id="created-at-all-tied"),
    pytest.param("opportunities", [{"amount": "DescNullsLast"}], id="decimal-nulls-last"),
    pytest.param("opportunities", [{"closeDate": "AscNullsLast"}], id="date-key"),
    pytest.param("opportunities", [{"stageEnteredAt": "DescNullsFirst"}], id="datetime-key"),
    pytest.param("opportunities", [{"id": "DescNullsLast"}], id="id-descending"),
]


@pytest.mark.parametrize(("plural", "order_by"), ORDERINGS)
def test_forward_walk_returns_every_record_once_in_order(
    lists: Lists, plural: str, order_by: list[dict[str, str]] | None
) -> None:
    # given the whole list in one page
    everything = _page(lists.gql, plural, orderBy=order_by, first=500)
    # when it is walked with first/after, 4 at a time
    walked: list[str] = []
    after = None
    pages = 0
    while True:
        page = _page(lists.gql, plural, orderBy=order_by, first=4, after=after)
        pages += 1
        info = page["pageInfo"]
        walked += _ids(page)
        # then each page reports its neighbours and its own first and last cursor
        assert info["hasPreviousPage"] == (after is not None)
        assert info["startCursor"] == page["edges"][0]["cursor"]
        assert info["endCursor"] == page["edges"][-1]["cursor"]
        assert page["totalCount"] == everything["totalCount"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
        assert pages < 20
    # and together the pages hold every record once, in the order of the single page
    assert walked == _ids(everything)
    assert pages == -(-everything["totalCount"] // 4)


@pytest.mark.parametrize(("plural", "order_by"), ORDERINGS)
def test_backward_walk_returns_every_record_once_in_order(
    lists: Lists, plural: str, order_by: list[dict[str, str]] | None
) -> None:
    # given the whole list in one page
    everything = _page(lists.gql, plural, orderBy=order_by, first=500)
    # when it is walked from the end with last/before, 5 at a time
    pages: list[list[str]] = []
    before = None
    while True:
        page = _page(lists.gql, plural, orderBy=order_by, last=5, before=before)
        info = page["pageInfo"]
        pages.insert(0, _ids(page))
        # then each page is in list order and reports the records after it
        assert info["hasNextPage"] == (before is not None)
        assert info["startCursor"] == page["edges"][0]["cursor"]
        assert info["endCursor"] == page["edges"][-1]["cursor"]
        if not info["hasPreviousPage"]:
            break
        before = info["startCursor"]
        assert len(pages) < 20
    # and together the pages hold every record once, in order
    assert [i for page in pages for i in page] == _ids(everything)
    assert all(len(page) == 5 for page in pages[1:])


def test_page_info_at_the_edges(lists: Lists) -> None:
    # given 23 accounts ordered by name
    order = [{"name": "AscNullsLast"}]
    # when the first 23, the last 3, a page after the last record and an empty filter are read
    whole = _page(lists.gql, "accounts", orderBy=order, first=23)
    tail = _page(lists.gql, "accounts", orderBy=order, last=3)
    beyond = _page(lists.gql, "accounts", orderBy=order, first=5, after=whole["pageInfo"]["endCursor"])
    empty = _page(lists.gql, "accounts", orderBy=order, first=5, filter={"name": {"eq": "nobody"}})
    # then exactly-fitting pages have no next page, and empty pages have no cursors
    assert len(whole["edges"]) == 23
    assert whole["pageInfo"]["hasNextPage"] is False
    assert whole["pageInfo"]["hasPreviousPage"] is False
    assert [e["node"]["name"] for e in tail["edges"]] == ["N20", "N21", "N22"]
    assert tail["pageInfo"]["hasPreviousPage"] is True
    assert tail["pageInfo"]["hasNextPage"] is False
    assert tail["pageInfo"]["endCursor"] == whole["edges"][-1]["cursor"]
    assert beyond["edges"] == []
    assert beyond["pageInfo"]["hasNextPage"] is False
    assert beyond["pageInfo"]["startCursor"] is None
    assert beyond["pageInfo"]["endCursor"] is None
    assert empty == {
        "totalCount": 0,
        "edges": [],
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None},
    }


def test_total_count_ignores_paging_but_not_filters(lists: Lists) -> None:
    # given 23 accounts, 17 of which have employees
    with_staff = {"employees": {"isNull": False}}
    first = _page(lists.gql, "accounts", first=2, filter=with_staff)
    # when pages are read forwards and backwards with the filter
    later = _page(lists.gql, "accounts", first=2, after=first["pageInfo"]["endCursor"], filter=with_staff)
    backwards = _page(lists.gql, "accounts", last=1, filter=with_staff)
    unfiltered = _page(lists.gql, "accounts", first=1)
    # then totalCount counts every matching record whatever the page
    expected = sum(1 for a in ACCOUNTS if a["employees"] is not None)
    assert (first["totalCount"], later["totalCount"], backwards["totalCount"]) == (expected,) * 3
    assert unfiltered["totalCount"] == len(ACCOUNTS)
    assert len(first["edges"]) == len(later["edges"]) == 2


# --- cursors across changes -------------------------------------------------------------------
def test_cursor_survives_inserts_and_deletes_between_pages(gql: GraphQLClient) -> None:
    # given accounts B10..B90 ordered by name, and the first page of three read
    created = gql.data(CREATE_ACCOUNTS, {"data": [{"name": f"B{i}0"} for i in range(1, 10)]})[
        "createAccounts"
    ]
    by_name = {a["name"]: a["id"] for a in created}
    order = [{"name": "AscNullsLast"}]
    page = _page(gql, "accounts", orderBy=order, first=3)
    seen = [e["node"]["name"] for e in page["edges"]]
    assert seen == ["B10", "B20", "B30"]
    # when records are inserted before and after the cursor, and the record at the cursor is deleted
    gql.data(CREATE_ACCOUNTS, {"data": [{"name": "B05"}, {"name": "B25"}, {"name": "B35"}, {"name": "B95"}]})
    gql.data(DELETE_ACCOUNT, {"id": by_name["B30"]})
    after = page["pageInfo"]["endCursor"]
    while True:
        page = _page(gql, "accounts", orderBy=order, first=3, after=after)
        seen += [e["node"]["name"] for e in page["edges"]]
        if len(seen) == 6:
            # and more are inserted on both sides while walking
            gql.data(CREATE_ACCOUNTS, {"data": [{"name": "B15"}, {"name": "B99"}]})
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # then the walk continues right after the cursor: no duplicates, no pre-existing record skipped,
    # records inserted after the cursor position included, those inserted before it not
    assert seen == ["B10", "B20", "B30", "B35", "B40", "B50", "B60", "B70", "B80", "B90", "B95", "B99"]


def test_cursor_with_ties_survives_inserts_of_equal_values(gql: GraphQLClient) -> None:
    # given 12 opportunities that all have the same amount, ordered by amount
    rows = [{"name": f"T{i:02d}", "amount": "10", "closeDate": "2026-05-01"} for i in range(12)]
    original = {o["id"] for o in gql.data(CREATE_OPPORTUNITIES, {"data": rows})["createOpportunities"]}
    order = [{"amount": "AscNullsLast"}]
    walked: list[str] = []
    after = None
    # when the list is walked 5 at a time while more records with the same amount are inserted
    for step in range(10):
        page = _page(gql, "opportunities", orderBy=order, first=5, after=after)
        walked += _ids(page)
        extra = [{"name": f"X{step}{i}", "amount": "10", "closeDate": "2026-05-01"} for i in range(3)]
        gql.data(CREATE_OPPORTUNITIES, {"data": extra})
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # then no record came twice and every record that existed before the walk came once
    assert len(walked) == len(set(walked))
    assert original <= set(walked)


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("zz", id="not-hex"),
        pytest.param("abc", id="odd-length"),
        pytest.param(b"not json".hex(), id="not-json"),
        pytest.param(b"\xff\xfe".hex(), id="not-utf8"),
        pytest.param(json.dumps({"a": 1}).encode().hex(), id="not-a-list"),
        pytest.param(json.dumps(["N01"]).encode().hex(), id="wrong-length"),
        pytest.param(json.dumps([{"x": "1"}, "id"]).encode().hex(), id="unknown-tag"),
        pytest.param(json.dumps([{"d": "someday"}, "id"]).encode().hex(), id="bad-date"),
    ],
)
@pytest.mark.parametrize("argument", ["after", "before"])
def test_garbage_cursor_is_a_validation_error(lists: Lists, cursor: str, argument: str) -> None:
    # given a cursor this list never made
    paging = {"first": 3, "after": cursor} if argument == "after" else {"last": 3, "before": cursor}
    # when it is used
    error = lists.gql.error(ACCOUNT_PAGE, {"orderBy": [{"name": "AscNullsLast"}], **paging})
    # then it is refused as invalid input, naming the argument
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["extensions"]["field"] == argument


# Regression test, was a bug: model/records/cursors.py decode_cursor does not catch
# decimal.InvalidOperation, and the cursor is not checked against the ordering's value types: a decimal
# tag with a non-number, or a cursor made for orderBy name used with orderBy amount, ends in
# INTERNAL_ERROR instead of VALIDATION_ERROR
def test_cursor_of_another_ordering_is_a_validation_error(lists: Lists) -> None:
    # given a cursor made for accounts ordered by name, and a forged decimal cursor
    by_name = _page(lists.gql, "accounts", orderBy=[{"name": "AscNullsLast"}], first=1)["pageInfo"][
        "endCursor"
    ]
    forged = json.dumps([{"n": "abc"}, "id"]).encode().hex()
    # when they are used for a list ordered by a decimal
    errors = [
        lists.gql.error(
            ACCOUNT_PAGE, {"orderBy": [{"annualRevenue": "AscNullsLast"}], "first": 2, "after": cursor}
        )
        for cursor in (forged, by_name)
    ]
    # then both are refused as invalid input
    assert [e["extensions"]["code"] for e in errors] == ["VALIDATION_ERROR", "VALIDATION_ERROR"]
    assert [e["extensions"].get("field") for e in errors] == ["after", "after"]


# --- page sizes -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("paging", "field"),
    [
        pytest.param({"first": 501}, "first", id="first"),
        pytest.param({"last": 501}, "last", id="last"),
        pytest.param({"first": 10_000}, "first", id="first-huge"),
    ],
)
def test_page_larger_than_500_is_refused(lists: Lists, paging: dict[str, int], field: str) -> None:
    # given a page size above the limit
    # when a list is requested with it
    error = lists.gql.error(ACCOUNT_PAGE, paging)
    # then it is refused with LIMIT_EXCEEDED naming the argument
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert error["extensions"]["field"] == field


def test_page_of_500_is_allowed(lists: Lists) -> None:
    # given the largest page size allowed
    # when a list is requested with it (forwards and backwards)
    forwards = _page(lists.gql, "accounts", first=500)
    backwards = _page(lists.gql, "accounts", last=500)
    # then every record comes back
    assert len(forwards["edges"]) == len(backwards["edges"]) == len(ACCOUNTS)


def test_page_size_limit_applies_inside_relations(lists: Lists) -> None:
    # given a reverse relation asked for 501 records per parent of existing accounts
    # when the list is requested
    error = lists.gql.error(RELATION_PAGES, {"first": 501, "prefix": "N"})
    # then it is refused like a top-level list
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert error["extensions"]["field"] == "first"


# Regression test, was a bug: services/records/read.py RecordReader checks first/last (_page_size) only
# when rows are read: `accounts(first: 501) { totalCount }` and a relation under zero parents are
# answered, so whether a document is refused depends on the data
def test_page_size_limit_does_not_depend_on_the_data(lists: Lists) -> None:
    # given a page size above the limit where no row needs to be read
    # when only totalCount is asked, and a relation under a filter matching no parent is asked
    total_only = lists.gql.execute(TOTAL_ONLY_PAGE, {"first": 501})
    no_parents = lists.gql.execute(RELATION_PAGES, {"first": 501, "prefix": "nobody"})
    # then both are refused as a list with rows would be
    assert [r.get("errors", [{}])[0].get("extensions", {}).get("code") for r in (total_only, no_parents)] == [
        "LIMIT_EXCEEDED",
        "LIMIT_EXCEEDED",
    ]


@pytest.mark.parametrize(
    ("paging", "code"),
    [
        pytest.param({"first": 2, "last": 2}, "VALIDATION_ERROR", id="first-and-last"),
        pytest.param({"first": 2, "after": "00", "before": "00"}, "VALIDATION_ERROR", id="after-and-before"),
        pytest.param({"first": -1}, "VALIDATION_ERROR", id="negative-first"),
        pytest.param({"last": -3}, "VALIDATION_ERROR", id="negative-last"),
    ],
)
def test_contradictory_or_negative_paging_is_refused(lists: Lists, paging: dict[str, Any], code: str) -> None:
    # given paging arguments that cannot be honoured
    # when a list is requested with them
    error = lists.gql.error(ACCOUNT_PAGE, paging)
    # then it is refused as invalid input
    assert error["extensions"]["code"] == code
    assert error["extensions"]["field"] in {"first", "last", "after"}


def test_default_page_size_is_50(gql: GraphQLClient) -> None:
    # given 60 accounts created in one bulk call
    gql.data(CREATE_ACCOUNTS, {"data": [{"name": f"D{i:02d}"} for i in range(60)]})
    # when they are listed without first or last
    page = gql.data(ACCOUNT_NAMES)["accounts"]
    # then 50 come back, with a next page, and the total counts all 60
    assert len(page["edges"]) == 50
    assert page["totalCount"] == 60
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["pageInfo"]["hasPreviousPage"] is False
    rest = gql.data(ACCOUNT_PAGE, {"after": page["pageInfo"]["endCursor"]})["accounts"]
    assert len(rest["edges"]) == 10
    assert rest["pageInfo"]["hasNextPage"] is False
    names = [e["node"]["name"] for e in page["edges"]] + [e["node"]["name"] for e in rest["edges"]]
    assert sorted(names) == [f"D{i:02d}" for i in range(60)]


# --- pages of reverse relations ---------------------------------------------------------------
def amounts(values: list[str | None]) -> list[str | None]:
    """Amounts as the API returns them, ordered by amount descending with empty ones last."""
    ordered = _in_order([Decimal(v) if v else None for v in values], "DescNullsLast")
    return [f"{v:.2f}" if v is not None else None for v in ordered]


def test_relation_pages_are_ordered_and_paged_per_parent(gql: GraphQLClient) -> None:
    # given two accounts with 9 and 4 opportunities with distinct amounts (and one without amount)
    accounts = gql.data(CREATE_ACCOUNTS, {"data": [{"name": "R1"}, {"name": "R2"}]})["createAccounts"]
    r1, r2 = accounts[0]["id"], accounts[1]["id"]
    amounts_1 = ["5", "90", "12.5", "70", "33", "1", "64", "18", None]
    amounts_2 = ["7", "300", "21", "4"]
    rows = [
        {"name": f"R1-{i}", "amount": a, "closeDate": "2026-01-01", "account": r1}
        for i, a in enumerate(amounts_1)
    ]
    rows += [
        {"name": f"R2-{i}", "amount": a, "closeDate": "2026-01-01", "account": r2}
        for i, a in enumerate(amounts_2)
    ]
    gql.data(CREATE_OPPORTUNITIES, {"data": rows})
    # when each account's opportunities are read by amount descending, 3 per page
    first = gql.data(RELATION_PAGES, {"first": 3})["accounts"]["edges"]
    one, two = first[0]["node"]["opportunities"], first[1]["node"]["opportunities"]
    # then each parent gets its own top 3 in order, with its own total and next page
    assert [e["node"]["amount"] for e in one["edges"]] == amounts(amounts_1)[:3]
    assert [e["node"]["amount"] for e in two["edges"]] == amounts(amounts_2)[:3]
    assert (one["totalCount"], two["totalCount"]) == (9, 4)
    assert one["pageInfo"]["hasNextPage"] is True
    assert two["pageInfo"]["hasNextPage"] is True
    # and a cursor from R1's page continues R1's list
    nxt = gql.data(RELATION_PAGES, {"first": 3, "after": one["pageInfo"]["endCursor"]})["accounts"]["edges"]
    continued = nxt[0]["node"]["opportunities"]
    assert [e["node"]["amount"] for e in continued["edges"]] == amounts(amounts_1)[3:6]
    assert continued["pageInfo"]["hasPreviousPage"] is True
    # and pages from the end walk backwards per parent
    tail = gql.data(RELATION_LAST, {"last": 2})["accounts"]["edges"]
    one_tail, two_tail = tail[0]["node"]["opportunities"], tail[1]["node"]["opportunities"]
    assert [e["node"]["amount"] for e in one_tail["edges"]] == amounts(amounts_1)[-2:]
    assert [e["node"]["amount"] for e in two_tail["edges"]] == amounts(amounts_2)[-2:]
    assert one_tail["pageInfo"]["hasPreviousPage"] is True
    earlier = gql.data(RELATION_LAST, {"last": 3, "before": one_tail["pageInfo"]["startCursor"]})["accounts"][
        "edges"
    ]
    assert [e["node"]["amount"] for e in earlier[0]["node"]["opportunities"]["edges"]] == amounts(amounts_1)[
        -5:-2
    ]
