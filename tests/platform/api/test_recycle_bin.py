"""The recycle bin: ``deletedRecords`` (newest first, only what the caller may read), ``purgeDeletedRecords``
(administrators; purged records are gone for good, their history stays for administrators), the retention
purge (``purge_expired`` and ``tessera records purge``), and purges of deleted records that look each other
up (cascaded children, self lookups, restrict lookups), which on PostgreSQL carry foreign keys.

The module shares one tenant whose recycle bins are emptied before each test; the test that makes accounts
PRIVATE has a tenant of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from tessera import cli
from tessera.core.clock import utcnow
from tessera.services.records.recycle import purge_expired
from tessera.services.runtime import Actor, Runtime
from tessera.services.tenants import CreatedTenant
from tessera.storage.system_tables import tenants
from tessera.testing import GraphQLClient, tenant_scope

BIN = """
query($object: String!, $first: Int) {
  deletedRecords(object: $object, first: $first) { id object deletedAt deletedBy values }
}
"""
PURGE = "mutation($object: String!, $ids: [ID!]) { purgeDeletedRecords(object: $object, ids: $ids) }"
HISTORY = "query($object: String!, $id: ID!) { recordHistory(object: $object, id: $id) { action field at } }"
HISTORY_VALUES = """
query($object: String!, $id: ID!) { recordHistory(object: $object, id: $id) { action field oldValue newValue } }
"""
CREATE_USER = "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }"
CREATE_TOKEN = "mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token } }"
CREATE_SET = "mutation($input: PermissionSetInput!) { createPermissionSet(input: $input) { name } }"
CREATE_ACCOUNT = "mutation($data: AccountCreateInput!) { createAccount(data: $data) { id } }"
CREATE_CONTACT = "mutation($data: ContactCreateInput!) { createContact(data: $data) { id } }"
CREATE_OPPORTUNITY = "mutation($data: OpportunityCreateInput!) { createOpportunity(data: $data) { id } }"
PLURALS = {"account": "accounts", "contact": "contacts", "opportunity": "opportunities", "lead": "leads",
           "activity": "activities"}
TITLES = {"account": "Account", "contact": "Contact", "opportunity": "Opportunity"}


@pytest.fixture(scope="module")
def tenant(runtime: Runtime) -> Iterator[CreatedTenant]:
    with tenant_scope(runtime) as created:
        yield created


@pytest.fixture(scope="module")
def gql(app: Any, tenant: CreatedTenant) -> GraphQLClient:
    return GraphQLClient(app, tenant.token)


@pytest.fixture(autouse=True)
def _empty_bins(gql: GraphQLClient) -> None:
    """Each test starts with empty recycle bins (earlier tests' live records stay)."""
    for obj in PLURALS:
        gql.data(PURGE, {"object": obj})


def _code(error: dict[str, Any]) -> str:
    return error["extensions"]["code"]


def _create(gql: GraphQLClient, obj: str, data: dict[str, Any]) -> str:
    query = {"account": CREATE_ACCOUNT, "contact": CREATE_CONTACT, "opportunity": CREATE_OPPORTUNITY}[obj]
    return gql.data(query, {"data": data})[f"create{TITLES[obj]}"]["id"]


def _delete(gql: GraphQLClient, obj: str, record_id: str) -> None:
    gql.data(f"mutation($id: ID!) {{ delete{TITLES[obj]}(id: $id) {{ id }} }}", {"id": record_id})


def _restore(gql: GraphQLClient, obj: str, record_id: str) -> dict[str, Any]:
    return gql.execute(f"mutation($id: ID!) {{ restore{TITLES[obj]}(id: $id) {{ id }} }}", {"id": record_id})


def _bin(gql: GraphQLClient, obj: str, first: int | None = None) -> list[dict[str, Any]]:
    variables: dict[str, Any] = {"object": obj} if first is None else {"object": obj, "first": first}
    return gql.data(BIN, variables)["deletedRecords"]


def _bin_ids(gql: GraphQLClient, obj: str) -> list[str]:
    return [d["id"] for d in _bin(gql, obj)]


def _user(gql: GraphQLClient, app: Any, name: str, sets: list[str]) -> tuple[str, GraphQLClient]:
    user_id = gql.data(CREATE_USER, {"input": {"email": f"{name}@example.com", "name": name,
                                               "permissionSets": sets}})["createUser"]["id"]
    token = gql.data(CREATE_TOKEN, {"input": {"name": name, "user": user_id}})["createApiToken"]["token"]
    return user_id, GraphQLClient(app, token)


def _table(runtime: Runtime, tenant: CreatedTenant, obj: str) -> sa.Table:
    with runtime.db.system.connect() as conn:
        return runtime.model(conn, runtime.tenant(tenant.tenant.slug)).tables.table(obj)


def _backdate(runtime: Runtime, tenant: CreatedTenant, obj: str, ids: list[str], days: int) -> None:
    """Make deleted records look deleted ``days`` days ago."""
    table = _table(runtime, tenant, obj)
    with runtime.write(runtime.tenant(tenant.tenant.slug)) as conn:
        conn.execute(table.update().where(table.c.id.in_(ids)).values(deleted_at=utcnow() - timedelta(days=days)))


def _rows_left(runtime: Runtime, tenant: CreatedTenant, obj: str, ids: list[str]) -> int:
    """How many of ``ids`` still have a row in the object's table (live or deleted)."""
    table = _table(runtime, tenant, obj)
    with runtime.read(runtime.tenant(tenant.tenant.slug)) as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table).where(table.c.id.in_(ids))).scalar_one()


# --- listing -------------------------------------------------------------------------------------
def test_bin_lists_deleted_records_newest_first_with_their_values_and_deleter(
    gql: GraphQLClient, app: Any, tenant: CreatedTenant
) -> None:
    # given three accounts, and a standard user
    rep_id, rep = _user(gql, app, "lister", ["standardUser"])
    first = _create(gql, "account", {"name": "First", "industry": "energy", "annualRevenue": "10",
                                     "website": "https://first.example", "employees": 5})
    kept = _create(gql, "account", {"name": "Kept"})
    last = _create(gql, "account", {"name": "Last", "owner": rep_id})
    number = gql.data("query($id: ID!) { account(id: $id) { accountNumber } }", {"id": first})["account"][
        "accountNumber"]
    assert number.startswith("ACC-")
    # when the administrator deletes the first and the standard user the last
    _delete(gql, "account", first)
    _delete(rep, "account", last)
    # then the bin lists the last, then the first, each with who deleted it; not the live one
    listed = _bin(gql, "account")
    assert [(d["id"], d["object"], d["deletedBy"]) for d in listed] == [
        (last, "account", rep_id), (first, "account", tenant.admin_user_id),
    ]
    assert kept not in [d["id"] for d in listed]
    # and each deletion time is that of its DELETE history row
    for record in listed:
        rows = gql.data(HISTORY, {"object": "account", "id": record["id"]})["recordHistory"]
        assert rows[-1]["action"] == "DELETE"
        assert record["deletedAt"] == rows[-1]["at"]
    assert listed[0]["deletedAt"] > listed[1]["deletedAt"]
    # and the values are every stored field as the API shows them
    assert listed[1]["values"] == {
        "name": "First", "accountNumber": number, "industry": "energy", "accountType": "prospect",
        "website": "https://first.example", "phone": None, "email": None, "employees": 5,
        "annualRevenue": "10.00", "rating": None, "billingCountry": None, "billingCity": None,
        "billingStreet": None, "lei": None, "registrationNumber": None, "parentAccount": None, "description": None,
    }
    # and first limits the list to the newest
    assert [d["id"] for d in _bin(gql, "account", first=1)] == [last]
    # when the first is restored it leaves the bin
    assert "errors" not in _restore(gql, "account", first)
    assert _bin_ids(gql, "account") == [last]


def test_bin_lists_cascaded_children_under_their_own_object(gql: GraphQLClient) -> None:
    # given an account with two contacts (deleted with it)
    account = _create(gql, "account", {"name": "Parent"})
    contacts = [_create(gql, "contact", {"lastName": n, "account": account}) for n in ("A", "B")]
    _delete(gql, "account", account)
    # then both contacts are in the contact bin, deleted at the very time of the account, still pointing at it
    listed = _bin(gql, "contact")
    assert sorted(d["id"] for d in listed) == sorted(contacts)
    assert {d["deletedAt"] for d in listed} == {_bin(gql, "account")[0]["deletedAt"]}
    assert {d["values"]["account"] for d in listed} == {account}


def test_bin_shows_only_records_and_fields_the_caller_may_read(runtime: Runtime, app: Any) -> None:
    with tenant_scope(runtime) as own:
        _bin_by_reach(GraphQLClient(app, own.token), app)


def _bin_by_reach(gql: GraphQLClient, app: Any) -> None:
    # given PRIVATE accounts, two standard users (one who may not read annualRevenue), and an outsider
    gql.data('mutation { createPermissionSet(input: {name: "hideRevenue", fieldPermissions: '
             '[{object: "account", field: "annualRevenue", read: false}]}) { name } }')
    gql.data('mutation { updateObject(input: {name: "account", sharing: PRIVATE}) { name } }')
    rep1_id, rep1 = _user(gql, app, "rep1", ["standardUser"])
    rep2_id, rep2 = _user(gql, app, "rep2", ["standardUser", "hideRevenue"])
    _, outsider = _user(gql, app, "outsider", [])
    gql.data('mutation { createPermissionSet(input: {name: "contactsOnly", objectPermissions: '
             '[{object: "contact", read: true}]}) { name } }')
    _, contact_reader = _user(gql, app, "contactreader", ["contactsOnly"])
    # and an account of each rep and one of the administrator, each deleted by its owner
    mine = {}
    for client, owner_id, name in [(rep1, rep1_id, "R1"), (rep2, rep2_id, "R2"), (gql, None, "Adm")]:
        mine[name] = _create(gql, "account", {"name": name, "annualRevenue": "7", "owner": owner_id})
        _delete(client, "account", mine[name])
    # then each rep sees only their own deleted account; the administrator sees them all
    assert _bin_ids(rep1, "account") == [mine["R1"]]
    assert _bin_ids(rep2, "account") == [mine["R2"]]
    assert _bin_ids(gql, "account") == [mine["Adm"], mine["R2"], mine["R1"]]
    # and values leave out the fields the caller may not read
    assert _bin(rep1, "account")[0]["values"]["annualRevenue"] == "7.00"
    assert "annualRevenue" not in _bin(rep2, "account")[0]["values"]
    assert _bin(rep2, "account")[0]["values"]["name"] == "R2"
    # and someone who may not read accounts gets NOT_FOUND for the object
    refused = outsider.error(BIN, {"object": "account"})
    assert (_code(refused), refused["extensions"]["field"]) == ("NOT_FOUND", "object")
    # and sees deleted contacts without their lookup to an account
    account = _create(gql, "account", {"name": "Holder"})
    contact = _create(gql, "contact", {"lastName": "Kept", "account": account})
    _delete(gql, "account", account)
    listed = _bin(contact_reader, "contact")
    assert [(d["id"], d["values"]["lastName"]) for d in listed] == [(contact, "Kept")]
    assert "account" not in listed[0]["values"]
    assert _bin(gql, "contact")[0]["values"]["account"] == account


def test_bin_pages_at_most_500_records_and_first_null_means_the_default(gql: GraphQLClient) -> None:
    # given a deleted account
    account = _create(gql, "account", {"name": "Gone"})
    _delete(gql, "account", account)
    # then first may be up to 500
    refused = gql.error(BIN, {"object": "account", "first": 501})
    assert (_code(refused), refused["extensions"]["field"]) == ("LIMIT_EXCEEDED", "first")
    assert [d["id"] for d in _bin(gql, "account", first=500)] == [account]
    # and an explicit null (as a client passing an unset variable sends) answers like no first
    result = gql.execute(BIN, {"object": "account", "first": None})
    assert result.get("errors") is None, result["errors"]
    assert [d["id"] for d in result["data"]["deletedRecords"]] == [account]


# --- purging ---------------------------------------------------------------------------------------
def test_purge_removes_records_for_good_and_keeps_their_history_for_administrators(
    gql: GraphQLClient, app: Any, runtime: Runtime, tenant: CreatedTenant
) -> None:
    # given three deleted accounts, one live account and a standard user
    _, rep = _user(gql, app, "purger", ["standardUser"])
    deleted = [_create(gql, "account", {"name": f"D{i}"}) for i in range(3)]
    live = _create(gql, "account", {"name": "Live"})
    for record_id in deleted:
        _delete(gql, "account", record_id)
    history_of_first = gql.data(HISTORY, {"object": "account", "id": deleted[0]})["recordHistory"]
    # when the standard user tries to purge
    refused = rep.error(PURGE, {"object": "account", "ids": [deleted[0]]})
    # then it is refused, and nothing is purged
    assert _code(refused) == "FORBIDDEN"
    assert len(_bin(gql, "account")) == 3
    # when the administrator purges the first deleted account, and the live one by id
    assert gql.data(PURGE, {"object": "account", "ids": [deleted[0], live]}) == {"purgeDeletedRecords": 1}
    # then the deleted one is gone for good: out of the bin and the table, and it cannot be restored
    assert _bin_ids(gql, "account") == [deleted[2], deleted[1]]
    assert _rows_left(runtime, tenant, "account", [*deleted, live]) == 3
    restored = _restore(gql, "account", deleted[0])
    assert _code(restored["errors"][0]) == "NOT_FOUND"
    # and the live one is untouched
    assert gql.data("query($id: ID!) { account(id: $id) { name } }", {"id": live}) == {"account": {"name": "Live"}}
    # and its history is kept, for administrators only
    assert gql.data(HISTORY, {"object": "account", "id": deleted[0]})["recordHistory"] == history_of_first
    assert _code(rep.error(HISTORY, {"object": "account", "id": deleted[0]})) == "NOT_FOUND"
    # when the administrator purges the object's whole bin, then twice
    assert gql.data(PURGE, {"object": "account"}) == {"purgeDeletedRecords": 2}
    assert gql.data(PURGE, {"object": "account"}) == {"purgeDeletedRecords": 0}
    # then only the live account is left
    assert _bin(gql, "account") == []
    assert _rows_left(runtime, tenant, "account", [*deleted, live]) == 1


def test_purge_of_deleted_records_that_look_each_other_up(
    gql: GraphQLClient, runtime: Runtime, tenant: CreatedTenant
) -> None:
    # given, in the bin: a child account (deleted first, still pointing at its parent), the parent with its
    # two contacts (cascade), and an opportunity of the parent (deleted first, its account is RESTRICT)
    parent = _create(gql, "account", {"name": "Parent"})
    child = _create(gql, "account", {"name": "Child", "parentAccount": parent})
    grandchild = _create(gql, "account", {"name": "Grandchild", "parentAccount": child})
    contacts = [_create(gql, "contact", {"lastName": n, "account": parent}) for n in ("A", "B")]
    opportunity = _create(gql, "opportunity", {"name": "Deal", "account": parent, "contact": contacts[0],
                                               "closeDate": "2026-01-31"})
    _delete(gql, "opportunity", opportunity)
    _delete(gql, "account", grandchild)
    _delete(gql, "account", child)
    _delete(gql, "account", parent)
    values = {d["id"]: d["values"] for d in _bin(gql, "account")}
    assert (values[grandchild]["parentAccount"], values[child]["parentAccount"]) == (child, parent)
    assert _bin(gql, "opportunity")[0]["values"]["account"] == parent
    # when the bins are purged, children before what they look up (and the accounts, looking each other
    # up, in one purge)
    assert gql.data(PURGE, {"object": "opportunity"}) == {"purgeDeletedRecords": 1}
    assert gql.data(PURGE, {"object": "contact"}) == {"purgeDeletedRecords": 2}
    assert gql.data(PURGE, {"object": "account", "ids": [parent, child, grandchild]}) == {"purgeDeletedRecords": 3}
    # then every row is gone
    assert _rows_left(runtime, tenant, "account", [parent, child, grandchild]) == 0
    assert _rows_left(runtime, tenant, "contact", contacts) == 0
    assert _rows_left(runtime, tenant, "opportunity", [opportunity]) == 0


def test_purging_a_record_leaves_the_records_that_looked_it_up_restorable(gql: GraphQLClient) -> None:
    # for a self lookup (set null), a cascade lookup and a restrict lookup to an account:
    for child_object, lookup, data in [
        ("account", "parentAccount", {"name": "Child"}),
        ("contact", "account", {"lastName": "C"}),
        ("opportunity", "account", {"name": "O", "closeDate": "2026-01-31"}),
    ]:
        # given an account and a record looking it up, both in the bin (the child deleted first, or cascaded)
        parent = _create(gql, "account", {"name": f"Parent of {child_object}"})
        child = _create(gql, child_object, {**data, lookup: parent})
        if child_object != "contact":
            _delete(gql, child_object, child)
        _delete(gql, "account", parent)
        assert child in _bin_ids(gql, child_object)
        # when only the account is purged
        result = gql.execute(PURGE, {"object": "account", "ids": [parent]})
        # then the purge succeeds and removes that record alone, emptying the child's lookup
        assert result.get("errors") is None, (child_object, result["errors"])
        assert result["data"] == {"purgeDeletedRecords": 1}
        assert parent not in _bin_ids(gql, "account")
        assert [d["values"][lookup] for d in _bin(gql, child_object) if d["id"] == child] == [None]
        # and the child can still be restored, without its lookup
        assert _restore(gql, child_object, child).get("errors") is None
        found = gql.data(f"query($id: ID!) {{ {child_object}(id: $id) {{ {lookup} {{ id }} }} }}", {"id": child})
        assert found == {child_object: {lookup: None}}


def test_a_lookup_emptied_by_a_purge_is_in_the_history_of_the_record_that_had_it(gql: GraphQLClient) -> None:
    # given a contact deleted with its account
    account = _create(gql, "account", {"name": "Parent"})
    contact = _create(gql, "contact", {"lastName": "C", "account": account})
    _delete(gql, "account", account)
    # when the account alone is purged (emptying the contact's lookup) and the contact restored
    gql.data(PURGE, {"object": "account", "ids": [account]})
    assert _restore(gql, "contact", contact).get("errors") is None
    # then the contact's history records the emptied lookup, between its delete and its restore
    rows = gql.data(HISTORY_VALUES, {"object": "contact", "id": contact})["recordHistory"]
    assert [(r["action"], r["field"], r["oldValue"], r["newValue"]) for r in rows][-3:] == [
        ("DELETE", None, None, None), ("UPDATE", "account", account, None), ("RESTORE", None, None, None),
    ]


# --- retention -------------------------------------------------------------------------------------
def _admin_actor(runtime: Runtime, tenant: CreatedTenant) -> Actor:
    return Actor(runtime.tenant(tenant.tenant.slug), tenant.admin_user_id, "cli")


def test_purge_expired_removes_what_was_deleted_longer_ago_than_the_retention(
    gql: GraphQLClient, runtime: Runtime, tenant: CreatedTenant
) -> None:
    actor = _admin_actor(runtime, tenant)
    # given an account deleted 31 days ago, and one deleted now: purging now removes the old one only
    old, recent = _create(gql, "account", {"name": "Old"}), _create(gql, "account", {"name": "Recent"})
    _delete(gql, "account", old)
    _delete(gql, "account", recent)
    _backdate(runtime, tenant, "account", [old], days=31)
    assert purge_expired(runtime, actor) == 1
    assert _bin_ids(gql, "account") == [recent]
    gql.data(PURGE, {"object": "account"})
    # given an account tree deleted now: a child deleted first, the parent with its contact (cascade)
    parent = _create(gql, "account", {"name": "Parent"})
    child = _create(gql, "account", {"name": "Child", "parentAccount": parent})
    contact = _create(gql, "contact", {"lastName": "C", "account": parent})
    live = _create(gql, "account", {"name": "Live"})
    _delete(gql, "account", child)
    _delete(gql, "account", parent)
    now = utcnow()
    # then with the default retention of 30 days nothing goes 29 days from now
    assert purge_expired(runtime, actor, now=now + timedelta(days=29)) == 0
    assert len(_bin(gql, "account")) == 2
    # and 30 days and a minute from now the three deleted records go, with their references to each other
    assert purge_expired(runtime, actor, now=now + timedelta(days=30, minutes=1)) == 3
    assert _bin(gql, "account") == [] and _bin(gql, "contact") == []
    assert _rows_left(runtime, tenant, "account", [parent, child, live]) == 1
    assert _rows_left(runtime, tenant, "contact", [contact]) == 0
    assert gql.data("query($id: ID!) { account(id: $id) { name } }", {"id": live}) == {"account": {"name": "Live"}}
    # when the tenant keeps deleted records 7 days, a record deleted now goes 8 days from now, not 6
    _retention(runtime, tenant, 7)
    try:
        _delete(gql, "account", live)
        assert purge_expired(runtime, actor, now=utcnow() + timedelta(days=6)) == 0
        assert purge_expired(runtime, actor, now=utcnow() + timedelta(days=8)) == 1
        assert _rows_left(runtime, tenant, "account", [live]) == 0
    finally:
        _retention(runtime, tenant, 30)


def _retention(runtime: Runtime, tenant: CreatedTenant, days: int) -> None:
    with runtime.db.system.begin() as conn:
        conn.execute(tenants.update().where(tenants.c.id == tenant.tenant.id).values(recycle_retention_days=days))


@pytest.fixture
def run_cli(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Runs ``tessera`` commands on the test session's runtime (its database and tenants)."""

    class SessionApp(cli.App):
        def __init__(self) -> None:
            super().__init__()
            self._rt = runtime

    monkeypatch.setattr(cli, "App", SessionApp)
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli.main, list(args), catch_exceptions=False)


def test_cli_records_purge_purges_expired_records_of_a_tenant(
    gql: GraphQLClient, runtime: Runtime, tenant: CreatedTenant, run_cli: Any
) -> None:
    slug = tenant.tenant.slug
    # given an account with a contact deleted 31 days ago, and one deleted now
    old = _create(gql, "account", {"name": "Old"})
    contact = _create(gql, "contact", {"lastName": "C", "account": old})
    recent = _create(gql, "account", {"name": "Recent"})
    _delete(gql, "account", old)
    _delete(gql, "account", recent)
    _backdate(runtime, tenant, "account", [old], days=31)
    _backdate(runtime, tenant, "contact", [contact], days=31)
    # when `tessera records purge --tenant` runs, twice
    first = run_cli("records", "purge", "--tenant", slug)
    second = run_cli("records", "purge", "--tenant", slug)
    # then the first purges the two old records, the second nothing
    assert (first.exit_code, first.stdout) == (0, f"{slug}: purged 2 records\n")
    assert (second.exit_code, second.stdout) == (0, f"{slug}: purged 0 records\n")
    assert _bin_ids(gql, "account") == [recent] and _bin(gql, "contact") == []
    # and without --tenant every tenant is visited, this one included
    everyone = run_cli("records", "purge")
    assert everyone.exit_code == 0
    assert f"{slug}: purged 0 records" in everyone.stdout.splitlines()
    # and an unknown tenant is refused naming it
    ghost = run_cli("records", "purge", "--tenant", "ghost")
    assert ghost.exit_code == 1
    assert "no tenant 'ghost'" in ghost.stderr
