"""Reports run with the caller's access: PRIVATE records reach reps only as owners (their managers
above them), a lookup to an unreachable record reads as null in groupings, structured filters and
expression filters alike, and a field the caller may not read is refused as unknown."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from tests.platform.reports.conftest import Sales

RUN = "query($d: ReportDefinitionInput!) { runReport(definition: $d) { rows totals } }"
BY_ACCOUNT = {"object": "opportunity", "groupBy": [{"field": "account.name"}],
              "measures": [{"function": "COUNT", "alias": "n"}, {"function": "SUM", "field": "amount", "alias": "sum"}]}
REACH = {"rep1": {"rep1"}, "rep2": {"rep2"}, "boss": {"boss", "rep1", "rep2", "hidden"}}


def _by_account(sales: Sales, user: str) -> list[list[Any]]:
    groups: dict[Any, list[dict[str, Any]]] = {}
    for d in sales.visible(user):
        name = d["accountName"] if d["accountOwnerKey"] in REACH[user] else None
        groups.setdefault(name, []).append(d)
    return [[k, len(v), str(sum((Decimal(d["amount"] or 0) for d in v), Decimal(0)).quantize(Decimal("0.01")))]
            for k, v in sorted(groups.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))]


@pytest.mark.parametrize("user", ["rep1", "rep2", "boss"])
def test_a_user_sees_only_the_records_they_reach(sales: Sales, user: str) -> None:
    report = sales.clients[user].data(RUN, {"d": BY_ACCOUNT})["runReport"]
    assert report["rows"] == _by_account(sales, user)
    assert report["totals"]["n"] == len(sales.visible(user))
    assert 0 < len(sales.visible(user)) < len(sales.deals)


def test_structured_filter_through_an_unreachable_lookup_matches_nothing(sales: Sales) -> None:
    # rep1 owns deals on Bolt (rep2's account): through the lookup they must not match on Bolt's fields
    assert any(d["accountName"] == "Bolt" for d in sales.visible("rep1"))
    report = sales.clients["rep1"].data(RUN, {"d": {
        "object": "opportunity", "measures": [{"function": "COUNT", "alias": "n"}],
        "filter": {"account": {"industry": {"eq": "retail"}}}}})["runReport"]
    assert report["totals"] == {"n": 0}


def test_expression_filter_through_an_unreachable_lookup_reads_null(sales: Sales) -> None:
    rep1 = sales.clients["rep1"]
    matching = rep1.data(RUN, {"d": {"object": "opportunity", "measures": [{"function": "COUNT", "alias": "n"}],
                                     "expression": 'account.industry = "retail"'}})["runReport"]
    assert matching["totals"] == {"n": 0}
    blank = rep1.data(RUN, {"d": {"object": "opportunity", "measures": [{"function": "COUNT", "alias": "n"}],
                                  "expression": "ISBLANK(account.name)"}})["runReport"]
    assert blank["totals"] == {"n": sum(1 for d in sales.visible("rep1") if d["accountOwnerKey"] != "rep1")}
    # the administrator reaches every account
    admin = sales.admin.data(RUN, {"d": {"object": "opportunity", "measures": [{"function": "COUNT", "alias": "n"}],
                                         "expression": 'account.industry = "retail"'}})["runReport"]
    assert admin["totals"] == {"n": sum(1 for d in sales.deals if d["industry"] == "retail")}


@pytest.mark.parametrize("definition, field", [
    ({"object": "opportunity", "measures": [{"function": "SUM", "field": "amount"}]}, "measures.0.field"),
    ({"object": "opportunity", "groupBy": [{"field": "amount"}]}, "groupBy.0.field"),
    ({"object": "opportunity", "columns": ["name", "amount"]}, "columns.1"),
    ({"object": "opportunity", "filter": {"amount": {"gt": "10"}}}, "filter.amount"),
    ({"object": "opportunity", "measures": [{"function": "COUNT"}], "expression": "amount > 10"}, "expression"),
])
def test_a_field_without_read_is_refused_as_unknown(sales: Sales, definition: dict[str, Any], field: str) -> None:
    error = sales.clients["hidden"].error(RUN, {"d": definition})
    assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": field}
    assert "amount" in error["message"]


def test_the_hidden_user_still_counts_their_records(sales: Sales) -> None:
    report = sales.clients["hidden"].data(RUN, {"d": {"object": "opportunity", "groupBy": [{"field": "stage"}]}})
    assert report["runReport"]["rows"] == sorted(
        [list(kv) for kv in Counter(d["stage"] for d in sales.visible("hidden")).items()])
