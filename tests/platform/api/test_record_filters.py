"""Record filters through the generated GraphQL API: every operator on every kind of standard field.

One tenant per module holds a fixed set of accounts, contacts, leads and opportunities; each case
compares what the API returns with the set computed in Python from the inserted data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from tessera.services.runtime import Runtime
from tessera.testing import GraphQLClient, tenant_scope

CREATE_ACCOUNTS = """
mutation($data: [AccountCreateInput!]!) { createAccounts(data: $data) { id name } }
"""
CREATE_CONTACTS = """
mutation($data: [ContactCreateInput!]!) { createContacts(data: $data) { id lastName email } }
"""
CREATE_LEADS = """
mutation($data: [LeadCreateInput!]!) { createLeads(data: $data) { id lastName } }
"""
CREATE_OPPORTUNITIES = """
mutation($data: [OpportunityCreateInput!]!) {
  createOpportunities(data: $data) { id name stageEnteredAt } }
"""
LIST_ACCOUNTS = """
query($filter: AccountFilter) { accounts(filter: $filter, first: 500) { totalCount edges { node { name } } } }
"""
LIST_CONTACTS = """
query($filter: ContactFilter) {
  contacts(filter: $filter, first: 500) { totalCount edges { node { lastName } } } }
"""
LIST_LEADS = """
query($filter: LeadFilter) { leads(filter: $filter, first: 500) { totalCount edges { node { lastName } } } }
"""
LIST_OPPORTUNITIES = """
query($filter: OpportunityFilter) {
  opportunities(filter: $filter, first: 500) { totalCount edges { node { name } } } }
"""
ACCOUNT_RELATIONS = """
{ accounts(filter: {name: {eq: "Acme"}}) { edges { node {
    name
    opportunities(filter: {amount: {gt: "200"}}) { totalCount edges { node { name } } }
    contacts(filter: {doNotCall: {eq: true}}) { totalCount edges { node { lastName } } } } } } }
"""
STAGE_ENTERED = """
{ opportunities(filter: {name: {in: ["Eta", "Iota"]}}, orderBy: [{name: AscNullsLast}]) {
    edges { node { name stageEnteredAt } } } }
"""
FILTER_OPERATORS = """
query($type: String!) { __type(name: $type) { inputFields { name type { name inputFields { name } } } } }
"""
BOOLEAN_GT = "{ contacts(filter: {doNotCall: {gt: true}}) { totalCount } }"
PICKLIST_CONTAINS = '{ opportunities(filter: {stage: {contains: "pro"}}) { totalCount } }'
MULTI_PICKLIST_EQ = '{ opportunities(filter: {products: {eq: "crmSuite"}}) { totalCount } }'
UNKNOWN_FILTER_FIELD = '{ accounts(filter: {nickname: {eq: "x"}}) { totalCount } }'

# --- the data ---------------------------------------------------------------------------------
ACCOUNTS: list[dict[str, Any]] = [
    {"name": "Acme", "employees": 500, "industry": "technology", "billingCity": "Berlin"},
    {"name": "Globex", "employees": 50, "industry": "manufacturing", "billingCity": "Boston"},
    {"name": "Initech", "employees": None, "industry": None, "billingCity": None},
    {"name": "50% Off Ltd", "employees": 0, "industry": "retail", "billingCity": "Berlin"},
    {"name": "a_b Corp", "employees": 5000, "industry": "technology", "billingCity": None},
    {"name": "axb Corp", "employees": 49, "industry": None, "billingCity": "Austin"},
    {"name": "Back\\slash Inc", "employees": 51, "industry": "energy", "billingCity": "Boston"},
    {"name": "500 Club", "employees": 499, "industry": "retail", "billingCity": "Berlin"},
    {"name": "Ärzte Müller", "employees": 7, "industry": "healthcare", "billingCity": "München"},
]
CONTACTS: list[dict[str, Any]] = [
    {
        "firstName": "Ann",
        "lastName": "Adams",
        "doNotCall": True,
        "birthdate": "1980-05-01",
        "email": "ann@acme.example",
        "account": "Acme",
    },
    {
        "firstName": "Bob",
        "lastName": "Baker",
        "doNotCall": False,
        "birthdate": None,
        "email": None,
        "account": "Acme",
    },
    {
        "firstName": None,
        "lastName": "Clark",
        "doNotCall": None,
        "birthdate": "1990-12-31",
        "email": "clark@globex.example",
        "account": "Globex",
    },
    # doNotCall omitted: its default (false) applies
    {"firstName": "Dan", "lastName": "Davis", "birthdate": "1975-01-01", "email": None, "account": None},
    {
        "firstName": "Eve",
        "lastName": "Evans",
        "doNotCall": True,
        "birthdate": None,
        "email": "Eve@Example.COM",
        "account": None,
    },
]
LEADS: list[dict[str, Any]] = [
    {"lastName": "Adams", "company": "Acme", "score": 10, "status": "new", "leadSource": "web"},
    {"lastName": "Baker", "company": "Globex", "score": 55, "status": "working", "leadSource": "referral"},
    {"lastName": "Clark", "company": "Initech", "score": None, "status": "qualified", "leadSource": None},
    {"lastName": "Davis", "company": "Umbrella", "score": 100, "status": "new", "leadSource": "web"},
    {"lastName": "Evans", "company": "Hooli", "score": 0, "status": "unqualified", "leadSource": "event"},
]
OPPORTUNITIES: list[dict[str, Any]] = [
    {
        "name": "Alpha deal",
        "amount": "100.00",
        "closeDate": "2026-01-15",
        "stage": "prospecting",
        "products": ["crmSuite"],
        "stageEnteredAt": "2026-01-01T08:00:00Z",
        "account": "Acme",
        "contact": "Adams",
    },
    {
        "name": "Beta deal",
        "amount": "2500.50",
        "closeDate": "2026-02-28",
        "stage": "proposal",
        "products": ["crmSuite", "analytics"],
        "stageEnteredAt": "2026-02-01T12:30:00Z",
        "account": "Acme",
        "contact": None,
    },
    {
        "name": "Gamma",
        "amount": "99.99",
        "closeDate": "2026-03-01",
        "stage": "closedWon",
        "products": ["professionalServices"],
        "stageEnteredAt": "2026-03-01T00:00:00.250Z",
        "account": "Globex",
        "contact": None,
    },
    {
        "name": "Delta",
        "amount": None,
        "closeDate": "2025-12-31",
        "stage": "closedLost",
        "products": None,
        "stageEnteredAt": None,
        "account": "Globex",
        "contact": "Clark",
    },
    {
        "name": "Epsilon",
        "amount": "0.00",
        "closeDate": "2026-06-30",
        "stage": "negotiation",
        "products": ["serviceCloud"],
        "stageEnteredAt": "2026-06-30T23:59:59Z",
        "account": None,
        "contact": None,
    },
    {
        "name": "Zeta",
        "amount": "-5.25",
        "closeDate": "2026-01-15",
        "stage": "prospecting",
        "products": ["analytics"],
        "stageEnteredAt": "2025-12-31T23:00:00Z",
        "account": None,
        "contact": "Baker",
    },
    {
        "name": "Eta",
        "amount": "1000000",
        "closeDate": "2027-01-01",
        "stage": "proposal",
        "products": ["marketingCloud", "crmSuite"],
        "stageEnteredAt": "2026-03-15T00:00:00+02:00",
        "account": "50% Off Ltd",
        "contact": None,
    },
    {
        "name": "Theta",
        "amount": "100",
        "closeDate": "2026-01-16",
        "stage": "qualification",
        "products": None,
        "stageEnteredAt": None,
        "account": "Initech",
        "contact": None,
    },
    {
        "name": "Iota",
        "amount": "100.01",
        "closeDate": "2026-01-14",
        "stage": "prospecting",
        "products": ["analytics", "serviceCloud"],
        "stageEnteredAt": "2026-01-01T07:59:59.999Z",
        "account": None,
        "contact": "Adams",
    },
]

ACCOUNTS_BY_NAME = {a["name"]: a for a in ACCOUNTS}
CONTACTS_BY_NAME = {c["lastName"]: c for c in CONTACTS}


# --- Python semantics of the operators (null never matches a comparison; neq/notIn keep nulls) --
def dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def day(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(value)


def instant(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).astimezone(UTC)


def gt(value: Any, other: Any) -> bool:
    return value is not None and value > other


def gte(value: Any, other: Any) -> bool:
    return value is not None and value >= other


def lt(value: Any, other: Any) -> bool:
    return value is not None and value < other


def lte(value: Any, other: Any) -> bool:
    return value is not None and value <= other


def contains(value: Any, needle: str) -> bool:
    return value is not None and needle.lower() in value.lower()


def starts(value: Any, prefix: str) -> bool:
    return value is not None and value.lower().startswith(prefix.lower())


def account_of(row: dict[str, Any]) -> dict[str, Any] | None:
    return ACCOUNTS_BY_NAME.get(row["account"]) if row.get("account") else None


def contact_account(row: dict[str, Any]) -> str | None:
    contact = CONTACTS_BY_NAME.get(row["contact"]) if row.get("contact") else None
    return contact["account"] if contact else None


@dataclass
class Crm:
    """The module's tenant: its client and the ids of what was inserted (by name)."""

    gql: GraphQLClient
    ids: dict[str, str]
    stage_entered: dict[str, str | None]

    def found(self, plural: str, filter_: dict[str, Any]) -> set[str]:
        query, key = LISTS[plural]
        connection = self.gql.data(query, {"filter": filter_})[plural]
        names = [edge["node"][key] for edge in connection["edges"]]
        assert connection["totalCount"] == len(names)
        assert len(set(names)) == len(names), f"duplicates in {names}"
        return set(names)


LISTS = {
    "accounts": (LIST_ACCOUNTS, "name"),
    "contacts": (LIST_CONTACTS, "lastName"),
    "leads": (LIST_LEADS, "lastName"),
    "opportunities": (LIST_OPPORTUNITIES, "name"),
}
ROWS: dict[str, tuple[list[dict[str, Any]], str]] = {
    "accounts": (ACCOUNTS, "name"),
    "contacts": (CONTACTS, "lastName"),
    "leads": (LEADS, "lastName"),
    "opportunities": (OPPORTUNITIES, "name"),
}


def expected(plural: str, predicate: Callable[[dict[str, Any]], bool]) -> set[str]:
    rows, key = ROWS[plural]
    return {row[key] for row in rows if predicate(row)}


@pytest.fixture(scope="module")
def crm(runtime: Runtime, app: Any) -> Iterator[Crm]:
    with tenant_scope(runtime) as created:
        gql = GraphQLClient(app, created.token)
        ids: dict[str, str] = {}
        accounts = gql.data(CREATE_ACCOUNTS, {"data": ACCOUNTS})["createAccounts"]
        ids.update({a["name"]: a["id"] for a in accounts})
        contacts = [{**c, "account": ids[c["account"]] if c["account"] else None} for c in CONTACTS]
        created_contacts = gql.data(CREATE_CONTACTS, {"data": contacts})["createContacts"]
        ids.update({c["lastName"]: c["id"] for c in created_contacts})
        gql.data(CREATE_LEADS, {"data": LEADS})
        opportunities = [
            {
                **o,
                "account": ids[o["account"]] if o["account"] else None,
                "contact": ids[o["contact"]] if o["contact"] else None,
            }
            for o in OPPORTUNITIES
        ]
        created_opps = gql.data(CREATE_OPPORTUNITIES, {"data": opportunities})["createOpportunities"]
        ids.update({o["name"]: o["id"] for o in created_opps})
        yield Crm(gql, ids, {o["name"]: o["stageEnteredAt"] for o in created_opps})


def _filter(value: Any, crm: Crm) -> dict[str, Any]:
    """Cases that need record ids are written as functions of the ids."""
    return value(crm.ids) if callable(value) else value


def case(plural: str, filter_: Any, predicate: Callable[[dict[str, Any]], bool], id: str) -> Any:
    return pytest.param(plural, filter_, predicate, id=id)


# --- TEXT -------------------------------------------------------------------------------------
TEXT_CASES = [
    case("accounts", {"name": {"eq": "Acme"}}, lambda a: a["name"] == "Acme", "eq"),
    case("accounts", {"name": {"neq": "Acme"}}, lambda a: a["name"] != "Acme", "neq"),
    case(
        "accounts",
        {"name": {"in": ["Acme", "Globex", "Nobody"]}},
        lambda a: a["name"] in {"Acme", "Globex"},
        "in",
    ),
    case(
        "accounts",
        {"name": {"notIn": ["Acme", "Globex"]}},
        lambda a: a["name"] not in {"Acme", "Globex"},
        "notIn",
    ),
    case(
        "accounts",
        {"name": {"contains": "CORP"}},
        lambda a: contains(a["name"], "corp"),
        "contains-ignores-case",
    ),
    case(
        "accounts", {"name": {"contains": "cMe"}}, lambda a: contains(a["name"], "cme"), "contains-mixed-case"
    ),
    case(
        "accounts", {"name": {"startsWith": "a"}}, lambda a: starts(a["name"], "a"), "startsWith-ignores-case"
    ),
    case(
        "accounts", {"name": {"contains": "a_b"}}, lambda a: a["name"] == "a_b Corp", "underscore-is-literal"
    ),
    case(
        "accounts",
        {"name": {"startsWith": "A_"}},
        lambda a: a["name"] == "a_b Corp",
        "startsWith-underscore-literal",
    ),
    case(
        "accounts", {"name": {"contains": "50%"}}, lambda a: a["name"] == "50% Off Ltd", "percent-is-literal"
    ),
    case("accounts", {"name": {"startsWith": "%"}}, lambda a: False, "startsWith-percent-literal"),
    case("accounts", {"name": {"contains": "\\"}}, lambda a: "\\" in a["name"], "backslash-is-literal"),
    case("accounts", {"name": {"contains": "k\\s"}}, lambda a: "k\\s" in a["name"], "backslash-in-needle"),
    case("accounts", {"billingCity": {"isNull": True}}, lambda a: a["billingCity"] is None, "isNull-true"),
    case(
        "accounts", {"billingCity": {"isNull": False}}, lambda a: a["billingCity"] is not None, "isNull-false"
    ),
    case(
        "accounts",
        {"billingCity": {"neq": "Berlin"}},
        lambda a: a["billingCity"] != "Berlin",
        "neq-keeps-nulls",
    ),
    case(
        "accounts",
        {"billingCity": {"notIn": ["Berlin", "Boston"]}},
        lambda a: a["billingCity"] not in {"Berlin", "Boston"},
        "notIn-keeps-nulls",
    ),
    case(
        "accounts",
        {"billingCity": {"in": ["Austin", "Boston"]}},
        lambda a: a["billingCity"] in {"Austin", "Boston"},
        "in-skips-nulls",
    ),
    case(
        "accounts",
        {"billingCity": {"contains": "OST"}},
        lambda a: contains(a["billingCity"], "ost"),
        "contains-on-nullable",
    ),
    case("contacts", {"lastName": {"gt": "Baker"}}, lambda c: c["lastName"] > "Baker", "gt"),
    case("contacts", {"lastName": {"gte": "Baker"}}, lambda c: c["lastName"] >= "Baker", "gte"),
    case("contacts", {"lastName": {"lt": "Clark"}}, lambda c: c["lastName"] < "Clark", "lt"),
    case("contacts", {"lastName": {"lte": "Clark"}}, lambda c: c["lastName"] <= "Clark", "lte"),
    case("contacts", {"firstName": {"gt": "B"}}, lambda c: gt(c["firstName"], "B"), "gt-skips-nulls"),
    case("contacts", {"firstName": {"isNull": True}}, lambda c: c["firstName"] is None, "firstName-isNull"),
    case(
        "leads",
        {"company": {"startsWith": "IN"}},
        lambda ld: starts(ld["company"], "in"),
        "lead-company-startsWith",
    ),
    case("leads", {"company": {"lte": "Hooli"}}, lambda ld: ld["company"] <= "Hooli", "lead-company-lte"),
]

# --- INTEGER ----------------------------------------------------------------------------------
INTEGER_CASES = [
    case("accounts", {"employees": {"eq": 50}}, lambda a: a["employees"] == 50, "eq"),
    case("accounts", {"employees": {"neq": 50}}, lambda a: a["employees"] != 50, "neq-keeps-nulls"),
    case("accounts", {"employees": {"gt": 50}}, lambda a: gt(a["employees"], 50), "gt"),
    case("accounts", {"employees": {"gte": 50}}, lambda a: gte(a["employees"], 50), "gte"),
    case("accounts", {"employees": {"lt": 50}}, lambda a: lt(a["employees"], 50), "lt-skips-nulls"),
    case("accounts", {"employees": {"lte": 0}}, lambda a: lte(a["employees"], 0), "lte-zero"),
    case("accounts", {"employees": {"in": [0, 49, 7000]}}, lambda a: a["employees"] in {0, 49}, "in"),
    case(
        "accounts",
        {"employees": {"notIn": [0, 500]}},
        lambda a: a["employees"] not in {0, 500},
        "notIn-keeps-nulls",
    ),
    case("accounts", {"employees": {"isNull": True}}, lambda a: a["employees"] is None, "isNull"),
    case("accounts", {"employees": {"isNull": False}}, lambda a: a["employees"] is not None, "isNull-false"),
    case(
        "accounts",
        {"employees": {"gt": 49, "lt": 500}},
        lambda a: gt(a["employees"], 49) and lt(a["employees"], 500),
        "two-operators-and",
    ),
    case("leads", {"score": {"gte": 55}}, lambda ld: gte(ld["score"], 55), "lead-score-gte"),
    case("leads", {"score": {"lte": 0}}, lambda ld: lte(ld["score"], 0), "lead-score-zero"),
    case("leads", {"score": {"neq": 100}}, lambda ld: ld["score"] != 100, "lead-score-neq-keeps-nulls"),
]

# --- CURRENCY (decimal strings) ---------------------------------------------------------------
CURRENCY_CASES = [
    case(
        "opportunities",
        {"amount": {"eq": "100"}},
        lambda o: dec(o["amount"]) == Decimal(100),
        "eq-ignores-scale",
    ),
    case("opportunities", {"amount": {"eq": "100.00"}}, lambda o: dec(o["amount"]) == Decimal(100), "eq"),
    case(
        "opportunities",
        {"amount": {"neq": "100"}},
        lambda o: dec(o["amount"]) != Decimal(100),
        "neq-keeps-nulls",
    ),
    case("opportunities", {"amount": {"gt": "100"}}, lambda o: gt(dec(o["amount"]), Decimal(100)), "gt"),
    case("opportunities", {"amount": {"gte": "100"}}, lambda o: gte(dec(o["amount"]), Decimal(100)), "gte"),
    case("opportunities", {"amount": {"lt": "0.01"}}, lambda o: lt(dec(o["amount"]), Decimal("0.01")), "lt"),
    case(
        "opportunities",
        {"amount": {"lte": "-5.25"}},
        lambda o: lte(dec(o["amount"]), Decimal("-5.25")),
        "lte-negative",
    ),
    case(
        "opportunities",
        {"amount": {"gt": "100.00", "lt": "100.02"}},
        lambda o: gt(dec(o["amount"]), Decimal(100)) and lt(dec(o["amount"]), Decimal("100.02")),
        "one-cent-window",
    ),
    case(
        "opportunities",
        {"amount": {"in": ["99.99", "0", "-5.25", "7"]}},
        lambda o: dec(o["amount"]) in {Decimal("99.99"), Decimal(0), Decimal("-5.25")},
        "in",
    ),
    case(
        "opportunities",
        {"amount": {"notIn": ["100"]}},
        lambda o: dec(o["amount"]) != Decimal(100),
        "notIn-keeps-nulls",
    ),
    case("opportunities", {"amount": {"isNull": True}}, lambda o: o["amount"] is None, "isNull"),
    case(
        "opportunities",
        {"amount": {"gte": "1000000"}},
        lambda o: gte(dec(o["amount"]), Decimal(1000000)),
        "large",
    ),
]

# --- DATE and DATETIME ------------------------------------------------------------------------
DATE_CASES = [
    case(
        "opportunities",
        {"closeDate": {"eq": "2026-01-15"}},
        lambda o: day(o["closeDate"]) == date(2026, 1, 15),
        "eq",
    ),
    case(
        "opportunities",
        {"closeDate": {"neq": "2026-01-15"}},
        lambda o: day(o["closeDate"]) != date(2026, 1, 15),
        "neq",
    ),
    case(
        "opportunities",
        {"closeDate": {"gt": "2026-01-15"}},
        lambda o: gt(day(o["closeDate"]), date(2026, 1, 15)),
        "gt",
    ),
    case(
        "opportunities",
        {"closeDate": {"gte": "2026-01-15"}},
        lambda o: gte(day(o["closeDate"]), date(2026, 1, 15)),
        "gte",
    ),
    case(
        "opportunities",
        {"closeDate": {"lt": "2026-01-01"}},
        lambda o: lt(day(o["closeDate"]), date(2026, 1, 1)),
        "lt-year-boundary",
    ),
    case(
        "opportunities",
        {"closeDate": {"lte": "2026-01-14"}},
        lambda o: lte(day(o["closeDate"]), date(2026, 1, 14)),
        "lte",
    ),
    case(
        "opportunities",
        {"closeDate": {"in": ["2026-01-16", "2027-01-01", "2030-01-01"]}},
        lambda o: o["closeDate"] in {"2026-01-16", "2027-01-01"},
        "in",
    ),
    case(
        "opportunities",
        {"closeDate": {"notIn": ["2026-01-15", "2026-01-16"]}},
        lambda o: o["closeDate"] not in {"2026-01-15", "2026-01-16"},
        "notIn",
    ),
    case(
        "opportunities",
        {"and": [{"closeDate": {"gte": "2026-01-14"}}, {"closeDate": {"lte": "2026-01-16"}}]},
        lambda o: date(2026, 1, 14) <= day(o["closeDate"]) <= date(2026, 1, 16),
        "between",
    ),
    case(
        "contacts",
        {"birthdate": {"lt": "1980-01-01"}},
        lambda c: lt(day(c["birthdate"]), date(1980, 1, 1)),
        "nullable-lt",
    ),
    case(
        "contacts",
        {"birthdate": {"gte": "1980-05-01"}},
        lambda c: gte(day(c["birthdate"]), date(1980, 5, 1)),
        "nullable-gte",
    ),
    case(
        "contacts",
        {"birthdate": {"neq": "1980-05-01"}},
        lambda c: c["birthdate"] != "1980-05-01",
        "neq-keeps-nulls",
    ),
    case("contacts", {"birthdate": {"isNull": True}}, lambda c: c["birthdate"] is None, "isNull"),
]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


DATETIME_CASES = [
    case(
        "opportunities",
        {"stageEnteredAt": {"eq": "2026-01-01T08:00:00Z"}},
        lambda o: instant(o["stageEnteredAt"]) == at("2026-01-01T08:00:00Z"),
        "eq",
    ),
    case(
        "opportunities",
        {"stageEnteredAt": {"eq": "2026-01-01T09:00:00+01:00"}},
        lambda o: instant(o["stageEnteredAt"]) == at("2026-01-01T08:00:00Z"),
        "eq-other-zone",
    ),
    case(
        "opportunities",
        {"stageEnteredAt": {"neq": "2026-01-01T08:00:00Z"}},
        lambda o: instant(o["stageEnteredAt"]) != at("2026-01-01T08:00:00Z"),
        "neq-keeps-nulls",
    ),
    case(
        "opportunities",
        {"stageEnteredAt": {"lt": "2026-01-01T08:00:00Z"}},
        lambda o: lt(instant(o["stageEnteredAt"]), at("2026-01-01T08:00:00Z")),
        "lt-millisecond-before",
    ),
    case(
        "opportunities",
        {"stageEnteredAt": {"gt": "2026-01-01T07:59:59.998Z"}},
        lambda o: gt(instant(o["stageEnteredAt"]), at("2026-01-01T07:59:59.998Z")),
        "gt-milliseconds",
    ),
    case(
        "opportunities",
        {"stageEnteredAt": {"lt": "2026-01-01T01:00:00+02:00"}},
        lambda o: lt(instant(o["stageEnteredAt"]), at("2025-12-31T23:00:00Z")),
        "lt-offset-exclusive",
    ),
    case(
        "opportunities",
        {"stageEnteredAt": {"lte": "2026-01-01T01:00:00+02:00"}},
        lambda o: lte(instant(o["stageEnteredAt"]), at("2025-12-31T23:00:00Z")),
        "lte-offset-inclusive",
    ),
    case(
        "opportunities",
        {"stageEnteredAt": {"gte": "2026-03-14T22:00:00Z"}},
        lambda o: gte(instant(o["stageEnteredAt"]), at("2026-03-14T22:00:00Z")),
        "gte-input-offset-stored-utc",
    ),
    case(
        "opportunities",
        {"stageEnteredAt": {"in": ["2026-02-01T12:30:00Z", "2026-06-30T23:59:59+00:00"]}},
        lambda o: o["name"] in {"Beta deal", "Epsilon"},
        "in",
    ),
    case(
        "opportunities",
        {"stageEnteredAt": {"notIn": ["2026-02-01T12:30:00Z"]}},
        lambda o: o["name"] != "Beta deal",
        "notIn-keeps-nulls",
    ),
    case(
        "opportunities", {"stageEnteredAt": {"isNull": True}}, lambda o: o["stageEnteredAt"] is None, "isNull"
    ),
    case("leads", {"convertedAt": {"isNull": True}}, lambda ld: True, "read-only-field-filterable"),
    case("leads", {"convertedAt": {"gt": "2000-01-01T00:00:00Z"}}, lambda ld: False, "read-only-field-gt"),
]

# --- BOOLEAN, PICKLIST, MULTI_PICKLIST, EMAIL -------------------------------------------------
CHOICE_CASES = [
    case(
        "contacts",
        {"doNotCall": {"eq": True}},
        lambda c: c.get("doNotCall", False) is True,
        "boolean-eq-true",
    ),
    case(
        "contacts",
        {"doNotCall": {"eq": False}},
        lambda c: c.get("doNotCall", False) is False,
        "boolean-eq-false-includes-default",
    ),
    case(
        "contacts",
        {"doNotCall": {"neq": True}},
        lambda c: c.get("doNotCall", False) is not True,
        "boolean-neq-keeps-nulls",
    ),
    case(
        "contacts",
        {"doNotCall": {"isNull": True}},
        lambda c: "doNotCall" in c and c["doNotCall"] is None,
        "boolean-isNull",
    ),
    case(
        "opportunities",
        {"stage": {"eq": "prospecting"}},
        lambda o: o["stage"] == "prospecting",
        "picklist-eq",
    ),
    case(
        "opportunities",
        {"stage": {"neq": "prospecting"}},
        lambda o: o["stage"] != "prospecting",
        "picklist-neq",
    ),
    case(
        "opportunities",
        {"stage": {"in": ["proposal", "closedWon"]}},
        lambda o: o["stage"] in {"proposal", "closedWon"},
        "picklist-in",
    ),
    case(
        "opportunities",
        {"stage": {"notIn": ["prospecting", "proposal"]}},
        lambda o: o["stage"] not in {"prospecting", "proposal"},
        "picklist-notIn",
    ),
    case("opportunities", {"stage": {"isNull": False}}, lambda o: True, "picklist-required-never-null"),
    case(
        "accounts",
        {"industry": {"neq": "technology"}},
        lambda a: a["industry"] != "technology",
        "picklist-neq-keeps-nulls",
    ),
    case(
        "accounts",
        {"industry": {"notIn": ["technology", "retail"]}},
        lambda a: a["industry"] not in {"technology", "retail"},
        "picklist-notIn-keeps-nulls",
    ),
    case("accounts", {"industry": {"isNull": True}}, lambda a: a["industry"] is None, "picklist-isNull"),
    case(
        "leads",
        {"leadSource": {"in": ["web", "event"]}},
        lambda ld: ld["leadSource"] in {"web", "event"},
        "lead-picklist-in",
    ),
    case("leads", {"status": {"eq": "new"}}, lambda ld: ld["status"] == "new", "lead-status-eq"),
    case(
        "opportunities",
        {"products": {"contains": "crmSuite"}},
        lambda o: "crmSuite" in (o["products"] or []),
        "multi-contains",
    ),
    case(
        "opportunities",
        {"products": {"contains": "analytics"}},
        lambda o: "analytics" in (o["products"] or []),
        "multi-contains-other",
    ),
    case(
        "opportunities",
        {"products": {"contains": "integrationPlatform"}},
        lambda o: False,
        "multi-contains-unused",
    ),
    case(
        "opportunities",
        {"and": [{"products": {"contains": "crmSuite"}}, {"products": {"contains": "analytics"}}]},
        lambda o: {"crmSuite", "analytics"} <= set(o["products"] or []),
        "multi-contains-both",
    ),
    case("opportunities", {"products": {"isNull": True}}, lambda o: o["products"] is None, "multi-isNull"),
    case(
        "opportunities",
        {"products": {"isNull": False}},
        lambda o: o["products"] is not None,
        "multi-isNull-false",
    ),
    case(
        "contacts",
        {"email": {"eq": "EVE@example.com"}},
        lambda c: c["lastName"] == "Evans",
        "email-eq-stored-lowercase",
    ),
    case(
        "contacts",
        {"email": {"contains": ".EXAMPLE"}},
        lambda c: contains(c["email"], ".example"),
        "email-contains",
    ),
    case("contacts", {"email": {"isNull": True}}, lambda c: c["email"] is None, "email-isNull"),
]

# --- lookups ----------------------------------------------------------------------------------
LOOKUP_CASES = [
    case(
        "opportunities",
        {"account": {"name": {"eq": "Acme"}}},
        lambda o: o["account"] == "Acme",
        "target-field-eq",
    ),
    case(
        "opportunities",
        lambda ids: {"account": {"id": {"eq": ids["Acme"]}}},
        lambda o: o["account"] == "Acme",
        "id-eq",
    ),
    case(
        "opportunities",
        lambda ids: {"account": {"id": {"in": [ids["Acme"], ids["Globex"]]}}},
        lambda o: o["account"] in {"Acme", "Globex"},
        "id-in",
    ),
    case("opportunities", {"account": {"isNull": True}}, lambda o: o["account"] is None, "isNull-true"),
    case("opportunities", {"account": {"isNull": False}}, lambda o: o["account"] is not None, "isNull-false"),
    case(
        "opportunities",
        {"account": {"isNull": False, "name": {"startsWith": "50%"}}},
        lambda o: o["account"] == "50% Off Ltd",
        "isNull-and-target-field",
    ),
    case(
        "opportunities",
        {"account": {"employees": {"gte": 500}}},
        lambda o: account_of(o) is not None and gte(account_of(o)["employees"], 500),
        "target-integer",
    ),
    case(
        "opportunities",
        {"account": {"industry": {"eq": "technology"}}},
        lambda o: account_of(o) is not None and account_of(o)["industry"] == "technology",
        "target-picklist",
    ),
    case(
        "opportunities",
        {"account": {"employees": {"isNull": True}}},
        lambda o: account_of(o) is not None and account_of(o)["employees"] is None,
        "target-null-needs-target",
    ),
    case(
        "opportunities",
        {"contact": {"account": {"name": {"eq": "Acme"}}}},
        lambda o: contact_account(o) == "Acme",
        "two-hops",
    ),
    case(
        "opportunities",
        {"contact": {"lastName": {"eq": "Clark"}}},
        lambda o: o["contact"] == "Clark",
        "contact-field",
    ),
    case(
        "opportunities",
        {"contact": {"doNotCall": {"eq": True}}},
        lambda o: o["contact"] is not None and CONTACTS_BY_NAME[o["contact"]].get("doNotCall") is True,
        "contact-boolean",
    ),
    case(
        "contacts",
        {"account": {"name": {"contains": "CME"}}},
        lambda c: c["account"] == "Acme",
        "contacts-by-account",
    ),
    case(
        "contacts", {"account": {"isNull": True}}, lambda c: c["account"] is None, "contacts-without-account"
    ),
    case(
        "opportunities",
        {"or": [{"account": {"name": {"eq": "Globex"}}}, {"contact": {"lastName": {"eq": "Adams"}}}]},
        lambda o: o["account"] == "Globex" or o["contact"] == "Adams",
        "or-of-paths",
    ),
]

# --- and / or / not ---------------------------------------------------------------------------
LOGIC_CASES = [
    case(
        "opportunities",
        {"or": [{"stage": {"eq": "proposal"}}, {"amount": {"lt": "0"}}]},
        lambda o: o["stage"] == "proposal" or lt(dec(o["amount"]), 0),
        "or",
    ),
    case(
        "opportunities",
        {"and": [{"stage": {"eq": "prospecting"}}, {"account": {"isNull": False}}]},
        lambda o: o["stage"] == "prospecting" and o["account"] is not None,
        "and",
    ),
    case(
        "opportunities",
        {"stage": {"eq": "prospecting"}, "amount": {"gte": "100"}},
        lambda o: o["stage"] == "prospecting" and gte(dec(o["amount"]), 100),
        "keys-are-anded",
    ),
    case(
        "opportunities",
        {"not": {"stage": {"in": ["closedWon", "closedLost"]}}},
        lambda o: o["stage"] not in {"closedWon", "closedLost"},
        "not",
    ),
    case(
        "opportunities",
        {"not": {"not": {"stage": {"eq": "proposal"}}}},
        lambda o: o["stage"] == "proposal",
        "double-not",
    ),
    case(
        "opportunities",
        {
            "or": [
                {"and": [{"stage": {"eq": "prospecting"}}, {"closeDate": {"lt": "2026-01-15"}}]},
                {"not": {"stage": {"neq": "closedLost"}}},
            ]
        },
        lambda o: (
            (o["stage"] == "prospecting" and o["closeDate"] < "2026-01-15") or o["stage"] == "closedLost"
        ),
        "nested",
    ),
    case(
        "opportunities",
        {
            "and": [
                {"or": [{"products": {"contains": "crmSuite"}}, {"products": {"contains": "serviceCloud"}}]},
                {"or": [{"amount": {"lte": "100"}}, {"closeDate": {"gte": "2027-01-01"}}]},
            ]
        },
        lambda o: (
            bool({"crmSuite", "serviceCloud"} & set(o["products"] or []))
            and (lte(dec(o["amount"]), 100) or o["closeDate"] >= "2027-01-01")
        ),
        "and-of-ors",
    ),
    case("opportunities", {"and": []}, lambda o: True, "empty-and-is-true"),
    case("opportunities", {"or": []}, lambda o: False, "empty-or-is-false"),
    case(
        "accounts",
        {
            "or": [{"name": {"startsWith": "a"}}, {"employees": {"gte": 500}}],
            "billingCity": {"isNull": False},
        },
        lambda a: (starts(a["name"], "a") or gte(a["employees"], 500)) and a["billingCity"] is not None,
        "or-with-sibling",
    ),
]

# `not` must be the complement of what it wraps, as `neq` and `notIn` are: a record whose value is
# empty does not match `eq`, so it matches `not eq`.
NOT_COMPLEMENT_CASES = [
    case(
        "opportunities",
        {"not": {"amount": {"eq": "100"}}},
        lambda o: dec(o["amount"]) != Decimal(100),
        "not-eq-on-nullable",
    ),
    case(
        "opportunities",
        {"not": {"account": {"name": {"eq": "Acme"}}}},
        lambda o: o["account"] != "Acme",
        "not-lookup-path",
    ),
    case(
        "accounts",
        {"not": {"or": [{"employees": {"gte": 500}}, {"name": {"eq": "Globex"}}]}},
        lambda a: not (gte(a["employees"], 500) or a["name"] == "Globex"),
        "not-or-with-nulls",
    ),
]
# `neq`/`notIn` keep empty values for every field; a lookup's id is no exception.
LOOKUP_ID_NEGATION_CASES = [
    case(
        "opportunities",
        lambda ids: {"account": {"id": {"neq": ids["Acme"]}}},
        lambda o: o["account"] != "Acme",
        "id-neq-keeps-nulls",
    ),
    case(
        "opportunities",
        lambda ids: {"account": {"id": {"notIn": [ids["Acme"], ids["Globex"]]}}},
        lambda o: o["account"] not in {"Acme", "Globex"},
        "id-notIn-keeps-nulls",
    ),
]


def _check(crm: Crm, plural: str, filter_: Any, predicate: Callable[[dict[str, Any]], bool]) -> None:
    # when the records are listed with the filter
    found = crm.found(plural, _filter(filter_, crm))
    # then exactly the records the operator selects in Python come back
    assert found == expected(plural, predicate)


@pytest.mark.parametrize(("plural", "filter_", "predicate"), TEXT_CASES)
def test_text_operators(
    crm: Crm, plural: str, filter_: Any, predicate: Callable[[dict[str, Any]], bool]
) -> None:
    # given the module's records (see ACCOUNTS, CONTACTS, LEADS)
    _check(crm, plural, filter_, predicate)


@pytest.mark.parametrize(("plural", "filter_", "predicate"), INTEGER_CASES)
def test_integer_operators(
    crm: Crm, plural: str, filter_: Any, predicate: Callable[[dict[str, Any]], bool]
) -> None:
    # given accounts with employees 0 .. 5000 and one without, leads with scores 0 .. 100 and one without
    _check(crm, plural, filter_, predicate)


@pytest.mark.parametrize(("plural", "filter_", "predicate"), CURRENCY_CASES)
def test_currency_operators(
    crm: Crm, plural: str, filter_: Any, predicate: Callable[[dict[str, Any]], bool]
) -> None:
    # given opportunities with negative, zero, fractional, large and empty amounts
    _check(crm, plural, filter_, predicate)


@pytest.mark.parametrize(("plural", "filter_", "predicate"), DATE_CASES)
def test_date_operators(
    crm: Crm, plural: str, filter_: Any, predicate: Callable[[dict[str, Any]], bool]
) -> None:
    # given close dates around a year boundary and birthdates with gaps
    _check(crm, plural, filter_, predicate)


@pytest.mark.parametrize(("plural", "filter_", "predicate"), DATETIME_CASES)
def test_datetime_operators(
    crm: Crm, plural: str, filter_: Any, predicate: Callable[[dict[str, Any]], bool]
) -> None:
    # given instants written in several zones, some a millisecond apart
    _check(crm, plural, filter_, predicate)


@pytest.mark.parametrize(("plural", "filter_", "predicate"), CHOICE_CASES)
def test_boolean_picklist_and_email_operators(
    crm: Crm, plural: str, filter_: Any, predicate: Callable[[dict[str, Any]], bool]
) -> None:
    # given true, false, defaulted and empty booleans; single and multi-value picklists; emails
    _check(crm, plural, filter_, predicate)


@pytest.mark.parametrize(("plural", "filter_", "predicate"), LOOKUP_CASES)
def test_filters_through_lookup_paths(
    crm: Crm, plural: str, filter_: Any, predicate: Callable[[dict[str, Any]], bool]
) -> None:
    # given opportunities and contacts with and without accounts and contacts
    _check(crm, plural, filter_, predicate)


@pytest.mark.parametrize(("plural", "filter_", "predicate"), LOGIC_CASES)
def test_and_or_not(crm: Crm, plural: str, filter_: Any, predicate: Callable[[dict[str, Any]], bool]) -> None:
    # given the module's opportunities and accounts
    _check(crm, plural, filter_, predicate)


# Regression test, was a bug: model/records/query.py QueryCompiler._filter compiles `not` to SQL NOT(...),
# so a record whose value is NULL matches neither the condition nor its `not` (three-valued logic), unlike
# neq/notIn
@pytest.mark.parametrize(("plural", "filter_", "predicate"), NOT_COMPLEMENT_CASES)
def test_not_is_the_complement_even_for_empty_values(
    crm: Crm, plural: str, filter_: Any, predicate: Callable[[dict[str, Any]], bool]
) -> None:
    # given records whose filtered value (or lookup) is empty
    _check(crm, plural, filter_, predicate)
    # and `not F` together with F covers every record exactly once
    unwrapped = _filter(filter_, crm)["not"]
    everything = expected(plural, lambda row: True)
    assert crm.found(plural, unwrapped) | crm.found(plural, _filter(filter_, crm)) == everything


# Regression test, was a bug: model/records/query.py QueryCompiler._lookup_condition sends `id` to
# _system_condition, whose neq/notIn drop NULL lookups, while neq/notIn on every field keep them
@pytest.mark.parametrize(("plural", "filter_", "predicate"), LOOKUP_ID_NEGATION_CASES)
def test_lookup_id_negations_keep_empty_lookups(
    crm: Crm, plural: str, filter_: Any, predicate: Callable[[dict[str, Any]], bool]
) -> None:
    # given opportunities without an account
    _check(crm, plural, filter_, predicate)


# Regression test, was a bug: model/records/query.py QueryCompiler._operator uses lower() for
# contains/startsWith; SQLite's lower() folds only ASCII, so 'ärzte' does not find 'Ärzte Müller'
def test_contains_ignores_case_beyond_ascii(crm: Crm) -> None:
    # given an account named "Ärzte Müller"
    # when searched with a lower-case needle and a prefix in another case
    by_contains = crm.found("accounts", {"name": {"contains": "ärzte"}})
    by_prefix = crm.found("accounts", {"name": {"startsWith": "ÄRZTE m"}})
    # then both find it, as they do for ASCII letters
    assert by_contains == by_prefix == {"Ärzte Müller"}


def test_filters_apply_inside_reverse_relations(crm: Crm) -> None:
    # given Acme with two opportunities (100.00 and 2500.50) and contacts Adams (do not call) and Baker
    # when Acme's relations are listed with filters of their own
    node = crm.gql.data(ACCOUNT_RELATIONS)["accounts"]["edges"][0]["node"]
    # then each relation is filtered within Acme only
    assert node["opportunities"]["totalCount"] == 1
    assert [e["node"]["name"] for e in node["opportunities"]["edges"]] == ["Beta deal"]
    assert node["contacts"]["totalCount"] == 1
    assert [e["node"]["lastName"] for e in node["contacts"]["edges"]] == ["Adams"]


def test_datetimes_come_back_in_utc_with_milliseconds(crm: Crm) -> None:
    # given instants written with an offset and with milliseconds
    # when they are read back
    edges = crm.gql.data(STAGE_ENTERED)["opportunities"]["edges"]
    # then they are the same instants, in UTC with milliseconds and Z
    assert [(e["node"]["name"], e["node"]["stageEnteredAt"]) for e in edges] == [
        ("Eta", "2026-03-14T22:00:00.000Z"),
        ("Iota", "2026-01-01T07:59:59.999Z"),
    ]
    assert crm.stage_entered["Eta"] == "2026-03-14T22:00:00.000Z"


def _operators(crm: Crm, type_name: str, field: str) -> set[str]:
    fields = crm.gql.data(FILTER_OPERATORS, {"type": type_name})["__type"]["inputFields"]
    (found,) = [f for f in fields if f["name"] == field]
    return {f["name"] for f in found["type"]["inputFields"]}


def test_schema_offers_each_type_its_operators(crm: Crm) -> None:
    # given the generated filter input types
    # when their operators are read by introspection
    # then each field type offers exactly its own operators
    comparison = {"eq", "neq", "gt", "gte", "lt", "lte", "in", "notIn", "isNull"}
    assert _operators(crm, "AccountFilter", "name") == comparison | {"contains", "startsWith"}
    assert _operators(crm, "AccountFilter", "employees") == comparison
    assert _operators(crm, "OpportunityFilter", "amount") == comparison
    assert _operators(crm, "OpportunityFilter", "closeDate") == comparison
    assert _operators(crm, "OpportunityFilter", "stageEnteredAt") == comparison
    assert _operators(crm, "ContactFilter", "doNotCall") == {"eq", "neq", "isNull"}
    assert _operators(crm, "OpportunityFilter", "stage") == {"eq", "neq", "in", "notIn", "isNull"}
    assert _operators(crm, "OpportunityFilter", "products") == {"contains", "isNull"}
    lookup = _operators(crm, "OpportunityFilter", "account")
    assert {"isNull", "id", "name", "employees", "and", "or", "not"} <= lookup


@pytest.mark.parametrize(
    ("document", "operator"),
    [
        pytest.param(BOOLEAN_GT, "gt", id="gt-on-boolean"),
        pytest.param(PICKLIST_CONTAINS, "contains", id="contains-on-picklist"),
        pytest.param(MULTI_PICKLIST_EQ, "eq", id="eq-on-multi-picklist"),
        pytest.param(UNKNOWN_FILTER_FIELD, "nickname", id="unknown-field"),
    ],
)
def test_operator_outside_the_schema_is_a_validation_error(crm: Crm, document: str, operator: str) -> None:
    # given a filter using an operator (or field) the type does not offer
    # when it is sent
    result = crm.gql.execute(document)
    # then GraphQL validation refuses the document, naming the operator, and nothing executes
    assert "data" not in result or result["data"] is None
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert f"'{operator}'" in error["message"]


@pytest.mark.parametrize(
    ("filter_", "path"),
    [
        pytest.param({"amount": {"gt": "abc"}}, "filter.amount.gt", id="currency-not-a-number"),
        pytest.param({"amount": {"in": ["1", "1e"]}}, "filter.amount.in", id="currency-in-list"),
        pytest.param({"closeDate": {"eq": "2026-13-01"}}, "filter.closeDate.eq", id="date-month-13"),
        pytest.param(
            {"stageEnteredAt": {"gt": "2026-01-01T00:00:00"}},
            "filter.stageEnteredAt.gt",
            id="datetime-without-zone",
        ),
        pytest.param(
            {"stageEnteredAt": {"lt": "yesterday"}}, "filter.stageEnteredAt.lt", id="datetime-garbage"
        ),
        pytest.param({"stage": {"eq": "won"}}, "filter.stage.eq", id="picklist-unknown-value"),
        pytest.param(
            {"products": {"contains": "hardware"}},
            "filter.products.contains",
            id="multi-picklist-unknown-value",
        ),
        pytest.param(
            {"account": {"employees": {"gt": 1}, "annualRevenue": {"lt": "lots"}}},
            "filter.account.annualRevenue.lt",
            id="currency-through-lookup",
        ),
        pytest.param(
            {"contact": {"birthdate": {"eq": "nope"}}},
            "filter.contact.birthdate.eq",
            id="date-through-lookup",
        ),
        pytest.param({"not": {"amount": {"lte": "x"}}}, "filter.not.amount.lte", id="inside-not"),
    ],
)
def test_invalid_filter_value_names_the_field_path(crm: Crm, filter_: dict[str, Any], path: str) -> None:
    # given a filter value the field's type cannot hold
    # when it is sent
    error = crm.gql.error(LIST_OPPORTUNITIES, {"filter": filter_})
    # then the request is refused with VALIDATION_ERROR naming the path to the value
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["extensions"]["field"] == path


# Regression test, was a bug: model/records/query.py QueryCompiler._filter passes the same path to every
# element of and/or lists, so the error names 'filter.and.amount.gt' without the element's index
def test_invalid_value_inside_a_list_names_its_index(crm: Crm) -> None:
    # given a bad value in the second element of an `and` list
    filter_ = {"and": [{"amount": {"gt": "1"}}, {"amount": {"gt": "abc"}}]}
    # when it is sent
    error = crm.gql.error(LIST_OPPORTUNITIES, {"filter": filter_})
    # then the error names the element, as orderBy and bulk errors do
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["extensions"]["field"] == "filter.and.1.amount.gt"


# Regression test, was a bug: model/records/query.py QueryCompiler._system_condition compares raw strings
# with the UTCDateTime columns createdAt/updatedAt; binding calls .tzinfo on a str -> INTERNAL_ERROR
def test_filter_on_created_at(crm: Crm) -> None:
    # given records created just now
    # when they are filtered by their creation instant
    found = crm.found("accounts", {"createdAt": {"gt": "2000-01-01T00:00:00Z"}})
    none = crm.found("accounts", {"createdAt": {"lt": "2000-01-01T00:00:00Z"}})
    # then the instant is compared as an instant
    assert found == expected("accounts", lambda a: True)
    assert none == set()


# Regression test, was a bug: model/records/query.py QueryCompiler._field_condition/_operator let `isNull:
# null` through and compile it as IS NOT NULL, while every other operator (and isNull on lookups and
# system fields) ignores an explicit null
def test_explicit_null_operator_values_are_ignored(crm: Crm) -> None:
    # given opportunities with and without an amount
    everything = expected("opportunities", lambda o: True)
    # when operators are given an explicit null
    eq_null = crm.found("opportunities", {"amount": {"eq": None}})
    lookup_null = crm.found("opportunities", {"account": {"isNull": None}})
    is_null_null = crm.found("opportunities", {"amount": {"isNull": None}})
    # then each is ignored, as if it was not given
    assert eq_null == lookup_null == everything
    assert is_null_null == everything


def test_filter_on_version_and_owner(crm: Crm) -> None:
    # given records all at version 1, owned by the tenant's admin
    owners = crm.gql.data("{ accounts(first: 1) { edges { node { owner { id } } } } }")
    admin = owners["accounts"]["edges"][0]["node"]["owner"]["id"]
    # when they are filtered by system fields
    # then version and owner compare like any other value
    assert crm.found("accounts", {"version": {"eq": 1}}) == expected("accounts", lambda a: True)
    assert crm.found("accounts", {"version": {"gt": 1}}) == set()
    assert crm.found("accounts", {"owner": {"eq": admin}}) == expected("accounts", lambda a: True)
    assert crm.found("accounts", {"owner": {"neq": admin}}) == set()
