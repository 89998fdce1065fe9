"""Grouped reports through the report service, compared with the same answer computed in Python."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest

from tessera.core.errors import ValidationError
from tessera.services.reports.run import run_definition
from tessera.services.runtime import Actor, Runtime
from tessera.testing import GraphQLClient

CREATE_ACCOUNTS = "mutation($data: [AccountCreateInput!]!) { createAccounts(data: $data) { id name } }"
CREATE_OPPORTUNITIES = "mutation($data: [OpportunityCreateInput!]!) { createOpportunities(data: $data) { id } }"
STAGES = ["prospecting", "proposal", "closedWon", "closedLost"]


def _deals(account_ids: list[str]) -> list[dict[str, Any]]:
    deals = []
    for i in range(40):
        deals.append({
            "name": f"Deal {i}", "stage": STAGES[i % 4], "closeDate": f"2026-{(i % 12) + 1:02d}-{(i % 27) + 1:02d}",
            "amount": f"{(i * 137) % 1000}.{i % 100:02d}" if i % 7 else None, "account": account_ids[i % 3],
        })
    return deals


@pytest.fixture
def dataset(gql: GraphQLClient) -> list[dict[str, Any]]:
    accounts = gql.data(CREATE_ACCOUNTS, {"data": [{"name": "A", "industry": "technology"},
                                                   {"name": "B", "industry": "retail"}, {"name": "C"}]})
    ids = [a["id"] for a in accounts["createAccounts"]]
    deals = _deals(ids)
    gql.data(CREATE_OPPORTUNITIES, {"data": deals})
    industry = {ids[0]: "technology", ids[1]: "retail", ids[2]: None}
    return [{**d, "industry": industry[d["account"]]} for d in deals]


def _actor(runtime: Runtime, tenant: Any) -> Actor:
    return Actor(runtime.tenant(tenant.tenant.slug), tenant.admin_user_id)


def test_stage_by_month_sum_and_count_match_python(runtime: Runtime, tenant: Any, dataset: list[dict[str, Any]]) -> None:
    result = run_definition(runtime, _actor(runtime, tenant), {
        "object": "opportunity",
        "groupBy": [{"field": "stage"}, {"field": "closeDate", "bucket": "MONTH"}],
        "measures": [{"function": "SUM", "field": "amount", "alias": "amount"}, {"function": "COUNT", "alias": "n"}],
    })
    expected: dict[tuple[str, str], list[Any]] = defaultdict(lambda: [Decimal("0.00"), 0])
    for d in dataset:
        cell = expected[(d["stage"], d["closeDate"][:7])]
        cell[0] += Decimal(d["amount"] or "0")
        cell[1] += 1
    want = sorted([[s, m, str(v[0].quantize(Decimal("0.01"))), v[1]] for (s, m), v in expected.items()])
    assert result.rows == want
    assert result.totals["n"] == len(dataset)
    assert [c["name"] for c in result.columns] == ["stage", "closeDate", "amount", "n"]


def test_lookup_group_quarter_avg_formula_and_others(runtime: Runtime, tenant: Any, dataset: list[dict[str, Any]]) -> None:
    result = run_definition(runtime, _actor(runtime, tenant), {
        "object": "opportunity",
        "groupBy": [{"field": "account.industry"}],
        "measures": [{"function": "COUNT", "alias": "total"},
                     {"function": "COUNT", "alias": "won", "filter": {"stage": {"eq": "closedWon"}}},
                     {"formula": "won / total", "alias": "rate"},
                     {"function": "AVG", "field": "amount", "alias": "avg"},
                     {"function": "COUNT_DISTINCT", "field": "stage", "alias": "stages"}],
        "orderBy": [{"field": "total", "direction": "DESC"}], "limit": 1, "others": True,
    })
    groups: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for d in dataset:
        groups[d["industry"]].append(d)
    ranked = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0] is None, str(kv[0])))

    def figures(items: list[dict[str, Any]]) -> list[Any]:
        won = sum(1 for d in items if d["stage"] == "closedWon")
        amounts = [Decimal(d["amount"]) for d in items if d["amount"]]
        avg = (sum(amounts) / len(amounts)).quantize(Decimal("0.0001"))
        return [len(items), won, str((Decimal(won) / len(items)).quantize(Decimal("0.0001"))), str(avg),
                len({d["stage"] for d in items})]

    top_key, top_items = ranked[0]
    rest = [d for _, items in ranked[1:] for d in items]
    assert result.rows == [[top_key, *figures(top_items)], ["Others", *figures(rest)]]
    assert result.totals["stages"] == 4
    assert result.totals["total"] == len(dataset)


def test_unknown_group_field_is_named(runtime: Runtime, tenant: Any) -> None:
    with pytest.raises(ValidationError) as info:
        run_definition(runtime, _actor(runtime, tenant), {
            "object": "opportunity", "groupBy": [{"field": "stage"}, {"field": "stag"}]})
    assert info.value.field == "groupBy.1.field"
    assert info.value.message == "groupBy.1.field: opportunity has no field 'stag'"
