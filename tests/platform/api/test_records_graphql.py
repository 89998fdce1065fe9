"""Records through the generated GraphQL API: create, read, filter, sort, page, update, delete."""

from __future__ import annotations

from tessera.testing import GraphQLClient, count_statements

CREATE_ACCOUNT = """
mutation($data: AccountCreateInput!) { createAccount(data: $data) { id name accountNumber version } }
"""
CREATE_OPPS = """
mutation($data: [OpportunityCreateInput!]!) { createOpportunities(data: $data) { id name amount stage } }
"""
LIST_ACCOUNTS_WITH_OPPS = """
{ accounts(orderBy: [{name: AscNullsLast}]) { totalCount edges { node {
    name owner { email } opportunities(orderBy: [{amount: DescNullsLast}]) { totalCount edges { node {
        name amount account { name } contact { lastName } } } } } } } }
"""


def _account(gql: GraphQLClient, name: str) -> str:
    return gql.data(CREATE_ACCOUNT, {"data": {"name": name}})["createAccount"]["id"]


def test_create_and_read_back_with_nested_lookups(gql: GraphQLClient) -> None:
    # given an account with two opportunities
    acme = _account(gql, "Acme")
    gql.data(CREATE_OPPS, {"data": [
        {"name": "Small", "amount": "10.5", "closeDate": "2026-12-01", "account": acme},
        {"name": "Big", "amount": "2500", "closeDate": "2026-12-31", "account": acme, "stage": "proposal"},
    ]})
    # when the accounts are listed with their opportunities
    data = gql.data(LIST_ACCOUNTS_WITH_OPPS)
    # then the reverse relation and the nested lookup resolve, decimals keep their scale
    node = data["accounts"]["edges"][0]["node"]
    assert data["accounts"]["totalCount"] == 1
    assert node["owner"] == {"email": "admin@example.com"}
    assert node["opportunities"]["totalCount"] == 2
    assert [e["node"]["amount"] for e in node["opportunities"]["edges"]] == ["2500.00", "10.50"]
    assert {e["node"]["account"]["name"] for e in node["opportunities"]["edges"]} == {"Acme"}


def test_page_of_records_costs_fixed_statements(gql: GraphQLClient, runtime, tenant) -> None:  # type: ignore[no-untyped-def]
    # given 3 accounts with 2 opportunities each, and then 12 accounts with 2 each
    def seed(count: int, start: int) -> None:
        for i in range(start, start + count):
            account = _account(gql, f"A{i:03d}")
            gql.data(CREATE_OPPS, {"data": [
                {"name": f"O{i}a", "amount": "1", "closeDate": "2026-01-01", "account": account},
                {"name": f"O{i}b", "amount": "2", "closeDate": "2026-01-02", "account": account},
            ]})

    engine = runtime.db.tenant(tenant.tenant.schema_name)
    seed(3, 0)
    with count_statements(engine) as small:
        gql.data(LIST_ACCOUNTS_WITH_OPPS)
    seed(12, 3)
    # when the same query reads five times as many records
    with count_statements(engine) as large:
        data = gql.data(LIST_ACCOUNTS_WITH_OPPS)
    # then it costs the same number of statements
    assert data["accounts"]["totalCount"] == 15
    assert large.count == small.count
    assert large.count <= 8
