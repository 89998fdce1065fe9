"""Record writes through the generated GraphQL API: create (one and bulk), validation, update,
optimistic concurrency, delete and the on-delete rules of lookups."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tessera.services.runtime import Runtime
from tessera.services.tenants import CreatedTenant
from tessera.testing import GraphQLClient, tenant_scope

ISO_UTC_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

CREATE_ACCOUNT = """
mutation($data: AccountCreateInput!) { createAccount(data: $data) {
  id name accountNumber accountType industry employees billingCity lei email website version
  createdAt updatedAt owner { id email } createdBy { id } updatedBy { id } } }
"""
CREATE_ACCOUNTS = """
mutation($data: [AccountCreateInput!]!) { createAccounts(data: $data) { id name accountNumber lei } }
"""
UPDATE_ACCOUNT = """
mutation($id: ID!, $data: AccountUpdateInput!, $expectedVersion: Int) {
  updateAccount(id: $id, data: $data, expectedVersion: $expectedVersion) {
    id name accountNumber industry employees billingCity lei version createdAt updatedAt owner { id } } }
"""
DELETE_ACCOUNT = "mutation($id: ID!) { deleteAccount(id: $id) { id name } }"
GET_ACCOUNT = "query($id: ID!) { account(id: $id) { id name version parentAccount { id } } }"
COUNT_ACCOUNTS = "query($filter: AccountFilter) { accounts(filter: $filter) { totalCount } }"
CREATE_OPPORTUNITY = """
mutation($data: OpportunityCreateInput!) { createOpportunity(data: $data) {
  id name opportunityNumber amount probability stage products closeDate stageEnteredAt version
  account { id } contact { id } } }
"""
CREATE_OPPORTUNITIES = """
mutation($data: [OpportunityCreateInput!]!) { createOpportunities(data: $data) { id name opportunityNumber } }
"""
UPDATE_OPPORTUNITY = """
mutation($id: ID!, $data: OpportunityUpdateInput!) { updateOpportunity(id: $id, data: $data) { id version } }
"""
DELETE_OPPORTUNITY = """
mutation($id: ID!) { deleteOpportunity(id: $id) { id name amount stage account { id } } }
"""
GET_OPPORTUNITY = """
query($id: ID!) { opportunity(id: $id) { id name version updatedAt contact { id } account { id } } }
"""
LIST_OPPORTUNITIES = """
query($filter: OpportunityFilter) { opportunities(filter: $filter) { totalCount edges { node { id } } } }
"""
COUNT_OPPORTUNITIES = "query($filter: OpportunityFilter) { opportunities(filter: $filter) { totalCount } }"
CREATE_CONTACT = """
mutation($data: ContactCreateInput!) {
  createContact(data: $data) { id lastName email doNotCall account { id } } }
"""
CREATE_CONTACTS = "mutation($data: [ContactCreateInput!]!) { createContacts(data: $data) { id lastName } }"
DELETE_CONTACT = "mutation($id: ID!) { deleteContact(id: $id) { id lastName } }"
GET_CONTACT = "query($id: ID!) { contact(id: $id) { id lastName } }"
COUNT_CONTACTS = "query($filter: ContactFilter) { contacts(filter: $filter) { totalCount } }"
CREATE_ACTIVITY = "mutation($data: ActivityCreateInput!) { createActivity(data: $data) { id activityType } }"
GET_ACTIVITY = "query($id: ID!) { activity(id: $id) { id subject } }"
CREATE_LEAD = "mutation($data: LeadCreateInput!) { createLead(data: $data) { id score } }"
CREATE_WITHOUT_NAME = 'mutation { createAccount(data: {industry: "technology"}) { id } }'
CREATE_WITH_NULL_NAME = "mutation { createAccount(data: {name: null}) { id } }"
CREATE_WITH_UNKNOWN_FIELD = 'mutation { createAccount(data: {name: "X", nickname: "Y"}) { id } }'
CREATE_WITH_AUTO_NUMBER = 'mutation { createAccount(data: {name: "X", accountNumber: "ACC-99999"}) { id } }'
UPDATE_AUTO_NUMBER = """
mutation($id: ID!) { updateAccount(id: $id, data: {accountNumber: "ACC-99999"}) { id } }
"""
CREATE_LEAD_CONVERTED_AT = """
mutation { createLead(data: {lastName: "L", company: "C", convertedAt: "2026-01-01T00:00:00Z"}) { id } }
"""
RESTORE_ACCOUNT = "mutation($id: ID!) { restoreAccount(id: $id) { id name version } }"
RESTORE_CONTACT = "mutation($id: ID!) { restoreContact(id: $id) { id lastName } }"
EMPTY_BULK = "mutation { createAccounts(data: []) { id } }"
INPUT_FIELDS = "query($type: String!) { __type(name: $type) { inputFields { name } } }"


@pytest.fixture(scope="module")
def crm(runtime: Runtime, app: Any) -> Iterator[tuple[GraphQLClient, CreatedTenant]]:
    """A tenant shared by the tests that only need records of their own (unique names)."""
    with tenant_scope(runtime) as created:
        yield GraphQLClient(app, created.token), created


@pytest.fixture
def shared(crm: tuple[GraphQLClient, CreatedTenant]) -> GraphQLClient:
    return crm[0]


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _account(gql: GraphQLClient, **data: Any) -> dict[str, Any]:
    return gql.data(CREATE_ACCOUNT, {"data": {"name": _unique("acct"), **data}})["createAccount"]


def _opportunity(gql: GraphQLClient, **data: Any) -> dict[str, Any]:
    values = {"name": _unique("opp"), "closeDate": "2026-06-30", **data}
    return gql.data(CREATE_OPPORTUNITY, {"data": values})["createOpportunity"]


def _contact(gql: GraphQLClient, **data: Any) -> dict[str, Any]:
    return gql.data(CREATE_CONTACT, {"data": {"lastName": _unique("contact"), **data}})["createContact"]


def _count_accounts(gql: GraphQLClient, prefix: str) -> int:
    return gql.data(COUNT_ACCOUNTS, {"filter": {"name": {"startsWith": prefix}}})["accounts"]["totalCount"]


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- create -----------------------------------------------------------------------------------
def test_create_fills_defaults_system_values_and_owner(gql: GraphQLClient, tenant: CreatedTenant) -> None:
    # given a new tenant and the time before the call
    before = datetime.now(UTC) - timedelta(seconds=5)
    # when an account is created with a name only
    account = _account(gql)
    # then defaults, the first auto number, version 1 and the caller as owner and creator are set
    assert account["accountNumber"] == "ACC-00001"
    assert account["accountType"] == "prospect"
    assert account["industry"] is None
    assert account["version"] == 1
    assert account["owner"] == {"id": tenant.admin_user_id, "email": "admin@example.com"}
    assert account["createdBy"] == account["updatedBy"] == {"id": tenant.admin_user_id}
    # and createdAt/updatedAt are UTC ISO instants with milliseconds and Z, taken now
    for key in ("createdAt", "updatedAt"):
        assert ISO_UTC_MS.match(account[key]), account[key]
        assert before <= _instant(account[key]) <= datetime.now(UTC) + timedelta(seconds=5)
    assert account["createdAt"] == account["updatedAt"]


def test_auto_numbers_are_sequential_and_only_taken_by_successful_writes(gql: GraphQLClient) -> None:
    # given a new tenant
    # when accounts are created: an empty bulk, one, three in bulk, a failing bulk, then one more
    empty = gql.data(EMPTY_BULK)["createAccounts"]
    first = _account(gql)["accountNumber"]
    bulk = gql.data(CREATE_ACCOUNTS, {"data": [{"name": "B1"}, {"name": "B2"}, {"name": "B3"}]})[
        "createAccounts"
    ]
    failed = gql.error(CREATE_ACCOUNTS, {"data": [{"name": "F1"}, {"name": "F2", "email": "nope"}]})
    last = _account(gql)["accountNumber"]
    opportunity = _opportunity(gql)["opportunityNumber"]
    # then numbers follow each other in input order, a refused call takes none, each object counts alone
    assert empty == []
    assert failed["extensions"]["code"] == "VALIDATION_ERROR"
    assert [first, *[a["accountNumber"] for a in bulk], last] == [f"ACC-{n:05d}" for n in range(1, 6)]
    assert [a["name"] for a in bulk] == ["B1", "B2", "B3"]
    assert opportunity == "OPP-00001"


def test_values_are_normalised(shared: GraphQLClient) -> None:
    # given values written in non-canonical forms
    # when an opportunity and a contact are created with them
    opportunity = _opportunity(
        shared,
        amount="10.5",
        probability="12.5",
        products=["analytics", "crmSuite", "analytics"],
        stageEnteredAt="2026-03-01T10:00:00+05:30",
    )
    contact = _contact(shared, email="Ann.Lee@Example.COM")
    # then decimals keep their scale, multi-picklists follow option order without repeats,
    # instants come back in UTC and emails in lower case
    assert opportunity["amount"] == "10.50"
    assert opportunity["probability"] == "12.5000"
    assert opportunity["products"] == ["crmSuite", "analytics"]
    assert opportunity["stageEnteredAt"] == "2026-03-01T04:30:00.000Z"
    assert opportunity["stage"] == "prospecting"
    assert contact["email"] == "ann.lee@example.com"
    assert contact["doNotCall"] is False


def test_bulk_create_of_1000_rows(shared: GraphQLClient) -> None:
    # given 1,000 rows, the most one call may carry
    prefix = _unique("K")
    rows = [{"name": f"{prefix}-{i:04d}", "employees": i} for i in range(1000)]
    # when they are created in one call
    created = shared.data(CREATE_ACCOUNTS, {"data": rows})["createAccounts"]
    # then all are created and returned in input order with distinct ids and consecutive numbers
    assert [a["name"] for a in created] == [r["name"] for r in rows]
    assert len({a["id"] for a in created}) == 1000
    numbers = [int(a["accountNumber"].removeprefix("ACC-")) for a in created]
    assert numbers == list(range(numbers[0], numbers[0] + 1000))
    assert _count_accounts(shared, prefix) == 1000


def test_bulk_create_of_1001_rows_is_refused(shared: GraphQLClient) -> None:
    # given 1,001 rows
    prefix = _unique("L")
    rows = [{"name": f"{prefix}-{i:04d}"} for i in range(1001)]
    # when they are sent in one call
    error = shared.error(CREATE_ACCOUNTS, {"data": rows})
    # then the call is refused with LIMIT_EXCEEDED and nothing is created
    assert error["extensions"]["code"] == "LIMIT_EXCEEDED"
    assert error["extensions"]["field"] == "data"
    assert _count_accounts(shared, prefix) == 0


def test_bulk_with_one_bad_row_creates_nothing(shared: GraphQLClient) -> None:
    # given nine rows of which the fifth has an invalid email
    prefix = _unique("M")
    rows = [{"name": f"{prefix}-{i}"} for i in range(9)]
    rows[4]["email"] = "not-an-email"
    # when they are created in one call
    error = shared.error(CREATE_ACCOUNTS, {"data": rows})
    # then the call is refused naming the row and the field, and no row is created
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["extensions"]["field"] == "email"
    assert [(e["index"], e["field"]) for e in error["extensions"]["errors"]] == [(4, "email")]
    assert "data.4" in error["message"]
    assert _count_accounts(shared, prefix) == 0


def test_bulk_reports_every_bad_row(shared: GraphQLClient) -> None:
    # given rows with problems in several rows and several fields of one row
    prefix = _unique("P")
    rows = [
        {"name": f"{prefix}-0", "website": "ftp://files.example.com"},
        {"name": f"{prefix}-1"},
        {"name": f"{prefix}-2", "phone": "call me", "industry": "spaceTravel"},
        {"name": f"{prefix}-3", "employees": -1},
    ]
    # when they are created in one call
    error = shared.error(CREATE_ACCOUNTS, {"data": rows})
    # then every problem is reported with its row and field
    found = {(e["index"], e["field"]) for e in error["extensions"]["errors"]}
    assert found == {(0, "website"), (2, "phone"), (2, "industry"), (3, "employees")}
    assert _count_accounts(shared, prefix) == 0


def test_bulk_lookup_error_names_the_row(shared: GraphQLClient) -> None:
    # given a bulk of opportunities where the second points at an account that does not exist
    account = _account(shared)["id"]
    missing = str(uuid.uuid4())
    name = _unique("Q")
    rows = [{"name": name, "closeDate": "2026-01-01", "account": a} for a in (account, missing, account)]
    # when they are created in one call
    error = shared.error(CREATE_OPPORTUNITIES, {"data": rows})
    # then the row and the lookup field are named and nothing is created
    assert [(e["index"], e["field"]) for e in error["extensions"]["errors"]] == [(1, "account")]
    count = shared.data(COUNT_OPPORTUNITIES, {"filter": {"name": {"eq": name}}})["opportunities"][
        "totalCount"
    ]
    assert count == 0


# --- value validation -------------------------------------------------------------------------
INVALID_ACCOUNTS = [
    pytest.param({"name": "x" * 256}, "name", id="text-longer-than-maxLength"),
    pytest.param({"lei": "L" * 21}, "lei", id="lei-longer-than-20"),
    pytest.param({"billingCountry": "C" * 101}, "billingCountry", id="text-longer-than-100"),
    pytest.param({"description": "d" * 32_001}, "description", id="long-text-longer-than-maxLength"),
    pytest.param({"email": "a" * 250 + "@example.com"}, "email", id="email-longer-than-254"),
    pytest.param({"email": "not-an-email"}, "email", id="email-format"),
    pytest.param({"email": "two@@example.com"}, "email", id="email-two-ats"),
    pytest.param({"website": "ftp://example.com"}, "website", id="url-scheme"),
    pytest.param({"website": "example"}, "website", id="url-format"),
    pytest.param({"phone": "call me maybe"}, "phone", id="phone-format"),
    pytest.param({"industry": "spaceTravel"}, "industry", id="picklist-membership"),
    pytest.param({"accountType": "Prospect"}, "accountType", id="picklist-is-the-value-not-label"),
    pytest.param({"employees": -1}, "employees", id="integer-below-min"),
    pytest.param({"annualRevenue": "1.001"}, "annualRevenue", id="currency-too-many-places"),
    pytest.param({"annualRevenue": "12345678901234567"}, "annualRevenue", id="currency-too-many-digits"),
    pytest.param({"annualRevenue": "a lot"}, "annualRevenue", id="currency-not-a-number"),
    pytest.param({"annualRevenue": "NaN"}, "annualRevenue", id="currency-nan"),
    pytest.param(
        {"parentAccount": "00000000-0000-4000-8000-000000000000"}, "parentAccount", id="lookup-missing"
    ),
    pytest.param({"parentAccount": "not-an-id"}, "parentAccount", id="lookup-not-an-id"),
    pytest.param({"owner": "00000000-0000-4000-8000-000000000000"}, "owner", id="owner-missing"),
    pytest.param({"owner": "me"}, "owner", id="owner-not-an-id"),
]


@pytest.mark.parametrize(("values", "field"), INVALID_ACCOUNTS)
def test_invalid_account_value_is_refused_naming_the_field(
    shared: GraphQLClient, values: dict[str, Any], field: str
) -> None:
    # given an account with one invalid value
    name = _unique("V")
    data = {"name": name, **values}
    # when it is created
    error = shared.error(CREATE_ACCOUNT, {"data": data})
    # then the write is refused with VALIDATION_ERROR naming the field, and nothing is stored
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["extensions"]["field"] == field
    assert field in error["message"]
    assert _count_accounts(shared, name) == 0


INVALID_OPPORTUNITIES = [
    pytest.param({"amount": "1.234"}, "amount", id="currency-three-places"),
    pytest.param({"amount": "10000000000000000"}, "amount", id="currency-seventeen-digits"),
    pytest.param({"probability": "100000"}, "probability", id="percent-too-many-digits"),
    pytest.param({"probability": "1.23456"}, "probability", id="percent-too-many-places"),
    pytest.param({"closeDate": "2026-02-30"}, "closeDate", id="date-does-not-exist"),
    pytest.param({"closeDate": "2026-01-01T10:00:00Z"}, "closeDate", id="date-with-time"),
    pytest.param({"stageEnteredAt": "2026-01-01T10:00:00"}, "stageEnteredAt", id="datetime-without-zone"),
    pytest.param({"stage": "won"}, "stage", id="picklist-membership"),
    pytest.param({"products": ["crmSuite", "hardware"]}, "products", id="multi-picklist-membership"),
    pytest.param({"account": "00000000-0000-4000-8000-000000000000"}, "account", id="lookup-missing"),
]


@pytest.mark.parametrize(("values", "field"), INVALID_OPPORTUNITIES)
def test_invalid_opportunity_value_is_refused_naming_the_field(
    shared: GraphQLClient, values: dict[str, Any], field: str
) -> None:
    # given an opportunity with one invalid value
    name = _unique("W")
    data = {"name": name, "closeDate": "2026-01-01", **values}
    # when it is created
    error = shared.error(CREATE_OPPORTUNITY, {"data": data})
    # then the write is refused naming the field, and nothing is stored
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["extensions"]["field"] == field
    count = shared.data(COUNT_OPPORTUNITIES, {"filter": {"name": {"eq": name}}})["opportunities"][
        "totalCount"
    ]
    assert count == 0


def test_boundary_values_are_accepted(shared: GraphQLClient) -> None:
    # given values exactly at their limits
    # when records are created with them
    account = _account(shared, name="x" * 255, lei="L" * 20, employees=0)
    opportunity = _opportunity(shared, amount="999999999999.99", probability="99999.9999")
    lead = shared.data(CREATE_LEAD, {"data": {"lastName": "L", "company": "C", "score": 100}})["createLead"]
    # then they are stored as given
    assert (len(account["name"]), account["lei"], account["employees"]) == (255, "L" * 20, 0)
    assert (opportunity["amount"], opportunity["probability"]) == ("999999999999.99", "99999.9999")
    assert lead["score"] == 100
    refused = shared.error(CREATE_LEAD, {"data": {"lastName": "L", "company": "C", "score": 101}})
    assert refused["extensions"]["field"] == "score"


def test_lookup_to_a_deleted_record_is_refused(shared: GraphQLClient) -> None:
    # given a deleted account
    gone = _account(shared)["id"]
    shared.data(DELETE_ACCOUNT, {"id": gone})
    # when an opportunity is created pointing at it
    error = shared.error(
        CREATE_OPPORTUNITY, {"data": {"name": "X", "closeDate": "2026-01-01", "account": gone}}
    )
    # then the lookup is refused like one to a record that never existed
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["extensions"]["field"] == "account"


@pytest.mark.parametrize(
    ("document", "named"),
    [
        pytest.param(CREATE_WITHOUT_NAME, "name", id="missing"),
        pytest.param(CREATE_WITH_NULL_NAME, "String!", id="null"),
        pytest.param(CREATE_WITH_UNKNOWN_FIELD, "nickname", id="unknown-field"),
        pytest.param(CREATE_WITH_AUTO_NUMBER, "accountNumber", id="auto-number-is-read-only"),
        pytest.param(CREATE_LEAD_CONVERTED_AT, "convertedAt", id="read-only-field"),
    ],
)
def test_input_outside_the_schema_is_a_graphql_validation_error(
    shared: GraphQLClient, document: str, named: str
) -> None:
    # given a create whose input the generated input type does not allow
    # when it is sent
    result = shared.execute(document)
    # then GraphQL validation refuses it, naming the field (or the required type), and nothing executes
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert named in error["message"]
    assert result.get("data") is None


def test_read_only_fields_are_absent_from_inputs(shared: GraphQLClient) -> None:
    # given the generated input types
    # when their fields are read by introspection
    def fields(type_name: str) -> set[str]:
        found = shared.data(INPUT_FIELDS, {"type": type_name})["__type"]["inputFields"]
        return {f["name"] for f in found}

    # then auto numbers and read-only fields cannot be written, on create or on update
    assert "accountNumber" not in fields("AccountCreateInput") | fields("AccountUpdateInput")
    assert "opportunityNumber" not in fields("OpportunityCreateInput") | fields("OpportunityUpdateInput")
    assert "convertedAt" not in fields("LeadCreateInput") | fields("LeadUpdateInput")
    assert {"name", "industry", "owner", "parentAccount"} <= fields("AccountUpdateInput")


def test_auto_number_cannot_be_updated(shared: GraphQLClient) -> None:
    # given an account
    account = _account(shared)
    # when its auto number is changed
    result = shared.execute(UPDATE_AUTO_NUMBER, {"id": account["id"]})
    # then the document is refused and the number stays
    assert result["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert "accountNumber" in result["errors"][0]["message"]
    after = shared.data(UPDATE_ACCOUNT, {"id": account["id"], "data": {}})["updateAccount"]
    assert after["accountNumber"] == account["accountNumber"]


# Regression test, was a bug: api/errors.py error_payload treats every GraphQLError with an original_error
# as unexpected; variable coercion errors wrap a GraphQLError, so a missing required field sent through
# variables answers 'internal error' / INTERNAL_ERROR instead of VALIDATION_ERROR naming the field
def test_missing_required_field_through_variables_is_a_validation_error(shared: GraphQLClient) -> None:
    # given account data without the required name, sent as a variable
    # when it is created
    error = shared.error(CREATE_ACCOUNT, {"data": {"industry": "technology"}})
    # then it is refused as invalid input naming the field
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert "name" in error["message"]


# Regression test, was a bug: model/field_types/base.py _first lower-cases the whole marshmallow message,
# so a picklist refusal lists 'financialservices' instead of the option value 'financialServices'
def test_picklist_refusal_lists_the_option_values_as_defined(shared: GraphQLClient) -> None:
    # given an industry that is not an option
    # when an account is created with it
    error = shared.error(CREATE_ACCOUNT, {"data": {"name": _unique("pick"), "industry": "spaceTravel"}})
    # then the message lists the values that would be accepted, spelled as they must be sent
    assert "financialServices" in error["message"]
    assert "spaceTravel" in error["message"]


# --- required and unique ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("field", "make"),
    [
        pytest.param("name", "account", id="account-name"),
        pytest.param("closeDate", "opportunity", id="opportunity-closeDate"),
        pytest.param("stage", "opportunity", id="required-with-default"),
    ],
)
def test_required_field_cannot_be_cleared_on_update(shared: GraphQLClient, field: str, make: str) -> None:
    # given a record with its required fields set
    record = _account(shared) if make == "account" else _opportunity(shared)
    update, get = (
        (UPDATE_ACCOUNT, GET_ACCOUNT) if make == "account" else (UPDATE_OPPORTUNITY, GET_OPPORTUNITY)
    )
    # when the required field is set to null
    error = shared.error(update, {"id": record["id"], "data": {field: None}})
    # then the update is refused naming the field, and the record is unchanged
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["extensions"]["field"] == field
    assert shared.data(get, {"id": record["id"]})[make]["version"] == 1


def test_unique_within_one_bulk(shared: GraphQLClient) -> None:
    # given a bulk where rows 0 and 2 share a legal entity identifier
    lei = _unique("LEI")[:20]
    prefix = _unique("U")
    rows = [{"name": f"{prefix}-0", "lei": lei}, {"name": f"{prefix}-1"}, {"name": f"{prefix}-2", "lei": lei}]
    # when it is created
    error = shared.error(CREATE_ACCOUNTS, {"data": rows})
    # then the later duplicate is named by row and field, and nothing is created
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert [(e["index"], e["field"]) for e in error["extensions"]["errors"]] == [(2, "lei")]
    assert _count_accounts(shared, prefix) == 0


def test_unique_against_existing_records(shared: GraphQLClient) -> None:
    # given an account holding a legal entity identifier and one without
    lei = _unique("LEI")[:20]
    holder = _account(shared, lei=lei)
    other = _account(shared)
    prefix = _unique("E")
    # when the identifier is used again on create (single and bulk) and on update
    single = shared.error(CREATE_ACCOUNT, {"data": {"name": f"{prefix}-single", "lei": lei}})
    bulk = shared.error(
        CREATE_ACCOUNTS, {"data": [{"name": f"{prefix}-0"}, {"name": f"{prefix}-1", "lei": lei}]}
    )
    update = shared.error(UPDATE_ACCOUNT, {"id": other["id"], "data": {"lei": lei}})
    # then each is refused naming the field (and the row in a bulk), and nothing changes
    assert [e["extensions"]["field"] for e in (single, bulk, update)] == ["lei", "lei", "lei"]
    assert [(e["index"], e["field"]) for e in bulk["extensions"]["errors"]] == [(1, "lei")]
    assert _count_accounts(shared, prefix) == 0
    assert shared.data(GET_ACCOUNT, {"id": other["id"]})["account"]["version"] == 1
    # and the holder may keep its own value, while empty values never collide
    same = shared.data(UPDATE_ACCOUNT, {"id": holder["id"], "data": {"lei": lei, "employees": 3}})[
        "updateAccount"
    ]
    assert (same["lei"], same["employees"], same["version"]) == (lei, 3, 2)
    empties = shared.data(
        CREATE_ACCOUNTS, {"data": [{"name": f"{prefix}-n{i}", "lei": None} for i in range(3)]}
    )
    assert len(empties["createAccounts"]) == 3


# --- update -----------------------------------------------------------------------------------
def test_update_changes_only_the_given_fields_and_bumps_the_version(shared: GraphQLClient) -> None:
    # given an account with several fields set
    account = _account(shared, industry="energy", employees=10, billingCity="Oslo")
    # when only its employees are changed, then its city is cleared
    first = shared.data(UPDATE_ACCOUNT, {"id": account["id"], "data": {"employees": 11}})["updateAccount"]
    second = shared.data(UPDATE_ACCOUNT, {"id": account["id"], "data": {"billingCity": None}})[
        "updateAccount"
    ]
    # then each update changes its field only and increments the version
    assert (first["employees"], first["industry"], first["billingCity"], first["name"]) == (
        11,
        "energy",
        "Oslo",
        account["name"],
    )
    assert (second["employees"], second["industry"], second["billingCity"]) == (11, "energy", None)
    assert [first["version"], second["version"]] == [2, 3]
    assert second["accountNumber"] == account["accountNumber"]
    assert second["owner"] == {"id": account["owner"]["id"]}
    # and createdAt stays while updatedAt moves on
    assert second["createdAt"] == account["createdAt"]
    assert ISO_UTC_MS.match(second["updatedAt"])
    assert _instant(second["updatedAt"]) >= _instant(first["updatedAt"]) >= _instant(account["updatedAt"])


def test_expected_version_mismatch_is_a_conflict(shared: GraphQLClient) -> None:
    # given an account changed once (now at version 2)
    account = _account(shared, employees=1)
    shared.data(UPDATE_ACCOUNT, {"id": account["id"], "data": {"employees": 2}, "expectedVersion": 1})
    # when someone still holding version 1 writes
    error = shared.error(
        UPDATE_ACCOUNT, {"id": account["id"], "data": {"employees": 99}, "expectedVersion": 1}
    )
    # then the write is refused with CONFLICT telling the current version, and nothing changes
    assert error["extensions"]["code"] == "CONFLICT"
    assert error["extensions"]["currentVersion"] == 2
    assert error["extensions"]["field"] == "expectedVersion"
    current = shared.data(UPDATE_ACCOUNT, {"id": account["id"], "data": {}, "expectedVersion": 2})[
        "updateAccount"
    ]
    assert (current["employees"], current["version"]) == (2, 3)


def test_owner_cannot_be_cleared(shared: GraphQLClient) -> None:
    # given an account owned by the caller
    account = _account(shared)
    # when its owner is set to null
    error = shared.error(UPDATE_ACCOUNT, {"id": account["id"], "data": {"owner": None}})
    # then the update is refused naming the owner
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["extensions"]["field"] == "owner"


@pytest.mark.parametrize("record_id", ["6f1c1a52-8a7e-4d1e-9a57-0d4b5c3e2f10", "not-a-uuid"])
def test_update_or_delete_of_an_unknown_id_is_not_found(shared: GraphQLClient, record_id: str) -> None:
    # given an id no account has
    # when it is updated or deleted
    update = shared.error(UPDATE_ACCOUNT, {"id": record_id, "data": {"employees": 1}})
    delete = shared.error(DELETE_ACCOUNT, {"id": record_id})
    # then both answer NOT_FOUND
    assert update["extensions"]["code"] == delete["extensions"]["code"] == "NOT_FOUND"


# --- delete -----------------------------------------------------------------------------------
def test_delete_returns_the_record_then_it_is_gone(shared: GraphQLClient) -> None:
    # given an opportunity
    name = _unique("gone")
    opportunity = _opportunity(shared, name=name, amount="12.30", stage="proposal")
    # when it is deleted
    deleted = shared.data(DELETE_OPPORTUNITY, {"id": opportunity["id"]})["deleteOpportunity"]
    # then the record is returned as it was
    assert deleted == {
        "id": opportunity["id"],
        "name": name,
        "amount": "12.30",
        "stage": "proposal",
        "account": None,
    }
    # and it is gone from single reads, lists and filters
    assert shared.data(GET_OPPORTUNITY, {"id": opportunity["id"]})["opportunity"] is None
    listed = shared.data(LIST_OPPORTUNITIES, {"filter": {"id": {"eq": opportunity["id"]}}})["opportunities"]
    assert listed == {"totalCount": 0, "edges": []}
    by_name = shared.data(COUNT_OPPORTUNITIES, {"filter": {"name": {"eq": name}}})["opportunities"][
        "totalCount"
    ]
    assert by_name == 0
    # and it can be neither deleted nor updated again
    assert shared.error(DELETE_OPPORTUNITY, {"id": opportunity["id"]})["extensions"]["code"] == "NOT_FOUND"
    again = shared.error(UPDATE_OPPORTUNITY, {"id": opportunity["id"], "data": {"name": "back"}})
    assert again["extensions"]["code"] == "NOT_FOUND"


# Regression test, was a bug: api/data/schema.py _mutations generated no restore<Object> mutation,
# although ARCHITECTURE.md lists restoreOpportunity(id) and deletes go to a recycle bin to be restored
def test_deleted_record_can_be_restored(shared: GraphQLClient) -> None:
    # given a deleted account
    account = _account(shared)
    shared.data(DELETE_ACCOUNT, {"id": account["id"]})
    # when it is restored
    restored = shared.data(RESTORE_ACCOUNT, {"id": account["id"]})["restoreAccount"]
    # then it is back, readable and listed again, its version moved on by the delete and the restore
    assert restored == {"id": account["id"], "name": account["name"], "version": 3}
    assert shared.data(GET_ACCOUNT, {"id": account["id"]})["account"]["name"] == account["name"]
    assert _count_accounts(shared, account["name"]) == 1
    # and a record that is not deleted cannot be restored
    again = shared.error(RESTORE_ACCOUNT, {"id": account["id"]})
    assert again["extensions"]["code"] == "NOT_FOUND"


def test_restore_brings_back_what_the_delete_cascaded_to(shared: GraphQLClient) -> None:
    # given an account whose two contacts go with it, and a third contact deleted on its own before
    account = _account(shared)
    surname = _unique("restore")
    contacts = shared.data(
        CREATE_CONTACTS, {"data": [{"lastName": surname, "account": account["id"]} for _ in range(3)]}
    )["createContacts"]
    shared.data(DELETE_CONTACT, {"id": contacts[2]["id"]})
    shared.data(DELETE_ACCOUNT, {"id": account["id"]})
    # when a cascaded contact is restored alone, then the account is restored
    alone = shared.error(RESTORE_CONTACT, {"id": contacts[0]["id"]})
    shared.data(RESTORE_ACCOUNT, {"id": account["id"]})
    # then the contact alone is refused (its account is deleted), and the account brings back
    # the contacts its delete removed, not the one deleted before
    assert (alone["extensions"]["code"], alone["extensions"]["field"]) == ("VALIDATION_ERROR", "account")
    back = [shared.data(GET_CONTACT, {"id": c["id"]})["contact"] is not None for c in contacts]
    assert back == [True, True, False]
    count = shared.data(COUNT_CONTACTS, {"filter": {"lastName": {"eq": surname}}})["contacts"]["totalCount"]
    assert count == 2


def test_restrict_refuses_deleting_an_account_with_opportunities(shared: GraphQLClient) -> None:
    # given an account with contacts (cascade) and an opportunity (restrict)
    account = _account(shared)
    contacts = [_contact(shared, account=account["id"]) for _ in range(2)]
    opportunity = _opportunity(shared, account=account["id"])
    # when the account is deleted
    error = shared.error(DELETE_ACCOUNT, {"id": account["id"]})
    # then it is refused naming what blocks it, and nothing at all is deleted
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["extensions"]["blockedBy"] == "opportunity.account"
    assert error["extensions"]["records"] == 1
    assert shared.data(GET_ACCOUNT, {"id": account["id"]})["account"]["version"] == 1
    assert all(shared.data(GET_CONTACT, {"id": c["id"]})["contact"] for c in contacts)
    assert shared.data(GET_OPPORTUNITY, {"id": opportunity["id"]})["opportunity"]["account"] == {
        "id": account["id"]
    }
    # and once the opportunity is deleted, the account can be
    shared.data(DELETE_OPPORTUNITY, {"id": opportunity["id"]})
    assert shared.data(DELETE_ACCOUNT, {"id": account["id"]})["deleteAccount"]["id"] == account["id"]


def test_cascade_deletes_contacts_and_activities_with_their_account(shared: GraphQLClient) -> None:
    # given two accounts, the first with three contacts and an activity
    doomed, kept = _account(shared), _account(shared)
    surname = _unique("cascade")
    contacts = shared.data(
        CREATE_CONTACTS,
        {
            "data": [{"lastName": surname, "account": doomed["id"]} for _ in range(3)]
            + [{"lastName": surname, "account": kept["id"]}]
        },
    )["createContacts"]
    activity = shared.data(CREATE_ACTIVITY, {"data": {"subject": "Call", "account": doomed["id"]}})[
        "createActivity"
    ]
    # when the first account is deleted
    shared.data(DELETE_ACCOUNT, {"id": doomed["id"]})
    # then its contacts and activity are deleted with it; the other account's contact stays
    assert [shared.data(GET_CONTACT, {"id": c["id"]})["contact"] is None for c in contacts] == [True] * 3 + [
        False
    ]
    remaining = shared.data(COUNT_CONTACTS, {"filter": {"lastName": {"eq": surname}}})["contacts"][
        "totalCount"
    ]
    assert remaining == 1
    assert shared.data(GET_ACTIVITY, {"id": activity["id"]})["activity"] is None
    assert shared.data(GET_ACCOUNT, {"id": kept["id"]})["account"]["version"] == 1


def test_set_null_keeps_the_referencing_record_and_bumps_its_version(shared: GraphQLClient) -> None:
    # given an opportunity whose primary contact is set, and a child account of a parent
    contact = _contact(shared)
    opportunity = _opportunity(shared, contact=contact["id"])
    parent = _account(shared)
    child = _account(shared, parentAccount=parent["id"])
    # when the contact and the parent are deleted
    shared.data(DELETE_CONTACT, {"id": contact["id"]})
    shared.data(DELETE_ACCOUNT, {"id": parent["id"]})
    # then the opportunity and the child stay, their lookups emptied and their versions incremented
    after = shared.data(GET_OPPORTUNITY, {"id": opportunity["id"]})["opportunity"]
    assert (after["contact"], after["version"]) == (None, 2)
    assert ISO_UTC_MS.match(after["updatedAt"])
    child_after = shared.data(GET_ACCOUNT, {"id": child["id"]})["account"]
    assert (child_after["parentAccount"], child_after["version"]) == (None, 2)


def test_cascade_applies_the_rules_of_what_it_deletes(shared: GraphQLClient) -> None:
    # given an account's contact that is the primary contact of an opportunity of no account
    account = _account(shared)
    contact = _contact(shared, account=account["id"])
    opportunity = _opportunity(shared, contact=contact["id"])
    # when the account is deleted (its contact goes with it)
    shared.data(DELETE_ACCOUNT, {"id": account["id"]})
    # then the opportunity stays, without its contact
    assert shared.data(GET_CONTACT, {"id": contact["id"]})["contact"] is None
    after = shared.data(GET_OPPORTUNITY, {"id": opportunity["id"]})["opportunity"]
    assert (after["contact"], after["version"]) == (None, 2)
