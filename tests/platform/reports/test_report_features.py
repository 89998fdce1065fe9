"""``runReport`` and ``report(name, params)`` through GraphQL on the fixed dataset: groupings through
lookups, totals, limit with and without "others", a matrix, formula measures, runtime parameters,
listings and expression filters, each compared with the answer computed in Python."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from tests.platform.reports.conftest import Sales

RUN = """
query($d: ReportDefinitionInput!) { runReport(definition: $d) { columns { name label type } rows totals chart } }
"""
SAVED = "query($name: String!, $params: JSON) { report(name: $name, params: $params) { columns { name } rows totals } }"
CREATE = "mutation($input: ReportInput!) { createReport(input: $input) { name object definition } }"
CENT = Decimal("0.01")


def _money(values: list[Decimal]) -> str:
    return str(sum(values, Decimal(0)).quantize(CENT))


def _amount(deal: dict[str, Any]) -> Decimal:
    return Decimal(deal["amount"]) if deal["amount"] else Decimal(0)


def test_group_by_lookup_with_sum_count_and_totals(sales: Sales) -> None:
    found = sales.admin.data(RUN, {"d": {
        "object": "opportunity", "groupBy": [{"field": "account.name"}, {"field": "stage"}],
        "measures": [{"function": "SUM", "field": "amount", "alias": "amount"},
                     {"function": "COUNT", "alias": "n"}, {"function": "MAX", "field": "closeDate", "alias": "last"}]}})
    report = found["runReport"]
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for d in sales.deals:
        groups[(d["accountName"], d["stage"])].append(d)
    expected = [[a, s, _money([_amount(d) for d in items]), len(items), max(d["closeDate"] for d in items)]
                for (a, s), items in sorted(groups.items())]
    assert report["rows"] == expected
    assert report["totals"] == {"amount": _money([_amount(d) for d in sales.deals]), "n": len(sales.deals),
                                "last": max(d["closeDate"] for d in sales.deals)}
    assert [c["type"] for c in report["columns"]] == ["TEXT", "PICKLIST", "CURRENCY", "INTEGER", "DATE"]
    assert report["chart"] == {"type": "STACKED_BAR", "x": "account.name", "series": "stage", "y": ["amount", "n", "last"]}


def test_limit_without_others_keeps_exact_totals(sales: Sales) -> None:
    report = sales.admin.data(RUN, {"d": {
        "object": "opportunity", "groupBy": [{"field": "stage"}], "measures": [{"function": "COUNT", "alias": "n"}],
        "orderBy": [{"field": "n", "direction": "DESC"}, {"field": "stage"}], "limit": 2}})["runReport"]
    counts: dict[str, int] = defaultdict(int)
    for d in sales.deals:
        counts[d["stage"]] += 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    assert report["rows"] == [list(kv) for kv in ranked[:2]]
    assert report["totals"] == {"n": len(sales.deals)}


def test_others_folds_the_rest_into_one_row(sales: Sales) -> None:
    report = sales.admin.data(RUN, {"d": {
        "object": "opportunity", "groupBy": [{"field": "stage"}],
        "measures": [{"function": "SUM", "field": "amount", "alias": "amount"},
                     {"function": "COUNT_DISTINCT", "field": "account", "alias": "accounts"}],
        "orderBy": [{"field": "amount", "direction": "DESC"}], "limit": 2, "others": True}})["runReport"]
    by_stage: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for d in sales.deals:
        by_stage[d["stage"]].append(d)
    ranked = sorted(by_stage.items(), key=lambda kv: -sum(_amount(d) for d in kv[1]))
    rest = [d for _, items in ranked[2:] for d in items]
    expected = [[k, _money([_amount(d) for d in v]), len({d["account"] for d in v})] for k, v in ranked[:2]]
    expected.append(["Others", _money([_amount(d) for d in rest]), len({d["account"] for d in rest})])
    assert report["rows"] == expected
    assert report["totals"]["accounts"] == 3


def test_matrix_pivots_the_second_grouping(sales: Sales) -> None:
    report = sales.admin.data(RUN, {"d": {
        "object": "opportunity", "layout": "MATRIX",
        "groupBy": [{"field": "account.industry"}, {"field": "closeDate", "bucket": "YEAR"}],
        "measures": [{"function": "COUNT", "alias": "n"}]}})["runReport"]
    years = sorted({d["closeDate"][:4] for d in sales.deals})
    assert [c["name"] for c in report["columns"]] == ["account.industry"] + [f"{y}|n" for y in years]
    cells: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for d in sales.deals:
        cells[d["industry"]][d["closeDate"][:4]] += 1
    industries = sorted(cells, key=lambda k: (k is None, k or ""))
    assert report["rows"] == [[i] + [cells[i].get(y) for y in years] for i in industries]


def test_formula_and_conditional_measures(sales: Sales) -> None:
    report = sales.admin.data(RUN, {"d": {
        "object": "opportunity", "groupBy": [{"field": "account.name"}],
        "measures": [{"function": "COUNT", "alias": "total"},
                     {"function": "COUNT", "alias": "won", "filter": {"stage": {"eq": "closedWon"}}},
                     {"formula": "won / total * 100", "alias": "winRate"},
                     {"function": "AVG", "field": "amount", "alias": "avgAmount"}]}})["runReport"]
    expected = []
    for name in sorted({d["accountName"] for d in sales.deals}):
        items = [d for d in sales.deals if d["accountName"] == name]
        won = sum(d["stage"] == "closedWon" for d in items)
        amounts = [Decimal(d["amount"]) for d in items if d["amount"]]
        expected.append([name, len(items), won, str((Decimal(won) / len(items) * 100).quantize(Decimal("0.0001"))),
                         str((sum(amounts) / len(amounts)).quantize(Decimal("0.0001")))])
    assert report["rows"] == expected
    total_won = sum(d["stage"] == "closedWon" for d in sales.deals)
    assert report["totals"]["winRate"] == str((Decimal(total_won) / len(sales.deals) * 100).quantize(Decimal("0.0001")))


def test_saved_report_with_parameters(sales: Sales) -> None:
    sales.admin.data(CREATE, {"input": {"name": "byStageFor", "definition": {
        "object": "opportunity", "groupBy": [{"field": "stage"}], "measures": [{"function": "COUNT", "alias": "n"}],
        "filter": {"closeDate": {"gte": {"$param": "since"}}, "stage": {"neq": {"$param": "skip"}}},
        "parameters": [{"name": "since", "type": "DATE", "default": "2026-01-01"},
                       {"name": "skip", "type": "TEXT", "default": "closedLost"}]}}})

    def expected(since: str, skip: str) -> list[list[Any]]:
        counts: dict[str, int] = defaultdict(int)
        for d in sales.deals:
            if d["closeDate"] >= since and d["stage"] != skip:
                counts[d["stage"]] += 1
        return [[k, v] for k, v in sorted(counts.items())]

    default = sales.admin.data(SAVED, {"name": "byStageFor"})["report"]
    assert default["rows"] == expected("2026-01-01", "closedLost")
    given = sales.admin.data(SAVED, {"name": "byStageFor", "params": {"since": "2025-06-01", "skip": "proposal"}})
    assert given["report"]["rows"] == expected("2025-06-01", "proposal")
    error = sales.admin.error(SAVED, {"name": "byStageFor", "params": {"until": "2026-01-01"}})
    assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": "params.until"}


def test_listing_with_columns_through_lookups(sales: Sales) -> None:
    report = sales.admin.data(RUN, {"d": {
        "object": "opportunity", "columns": ["name", "account.name", "amount"],
        "filter": {"stage": {"eq": "closedWon"}}, "orderBy": [{"field": "name", "direction": "DESC"}]}})["runReport"]
    won = sorted((d for d in sales.deals if d["stage"] == "closedWon"), key=lambda d: d["name"], reverse=True)
    assert report["rows"] == [[d["name"], d["accountName"], d["amount"]] for d in won]
    assert report["chart"]["type"] == "TABLE"


def test_expression_filter(sales: Sales) -> None:
    report = sales.admin.data(RUN, {"d": {
        "object": "opportunity", "measures": [{"function": "COUNT", "alias": "n"}],
        "expression": 'AND(amount > 300, account.industry = "technology")'}})["runReport"]
    expected = sum(1 for d in sales.deals if d["amount"] and Decimal(d["amount"]) > 300 and d["industry"] == "technology")
    assert report["totals"] == {"n": expected}
    assert expected > 0


def test_errors_name_the_entry(sales: Sales) -> None:
    error = sales.admin.error(RUN, {"d": {"object": "opportunity", "measures": [
        {"function": "SUM", "field": "stage", "alias": "x"}]}})
    assert error["extensions"] == {"code": "VALIDATION_ERROR", "field": "measures.0.field"}
    error = sales.admin.error(RUN, {"d": {"object": "nothing"}})
    assert error["extensions"]["field"] == "object"
    error = sales.admin.error(RUN, {"d": {"object": "opportunity", "expression": "amount >"}})
    assert error["extensions"]["field"] == "expression"
