"""The audit log through ``auditEvents`` (administrators only, newest first): one metadata event per
changed definition with its before and after, security changes (passwords masked), API tokens, purges,
logins, failed logins and logouts; nothing for a refused change.

The module shares one tenant (each test uses names of its own) and tests compare the events a step added;
the test of the whole log has a tenant of its own, whose log starts empty.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tessera.core.clock import utcnow
from tessera.services.records.recycle import purge_expired
from tessera.services.runtime import Actor, Runtime
from tessera.services.tenants import CreatedTenant
from tessera.testing import GraphQLClient, tenant_scope

EVENTS = """
query($kind: String, $first: Int) {
  auditEvents(kind: $kind, first: $first) { id kind target userId address details at }
}
"""
CREATE_FIELD = "mutation($input: CreateFieldInput!) { createField(input: $input) { name } }"
UPDATE_FIELD = "mutation($input: UpdateFieldInput!) { updateField(input: $input) { name } }"
DELETE_FIELD = "mutation($input: DeleteFieldInput!) { deleteField(input: $input) { name } }"
CREATE_RULE = "mutation($input: CreateValidationRuleInput!) { createValidationRule(input: $input) { name } }"
UPDATE_RULE = "mutation($input: UpdateValidationRuleInput!) { updateValidationRule(input: $input) { name } }"
DELETE_RULE = "mutation($input: DeleteValidationRuleInput!) { deleteValidationRule(input: $input) { name } }"
CREATE_OBJECT = "mutation($input: CreateObjectInput!) { createObject(input: $input) { name } }"
UPDATE_OBJECT = "mutation($input: UpdateObjectInput!) { updateObject(input: $input) { name } }"
DELETE_OBJECT = "mutation($input: DeleteObjectInput!) { deleteObject(input: $input) { name } }"
CREATE_USER = "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }"
UPDATE_USER = "mutation($input: UpdateUserInput!) { updateUser(input: $input) { id } }"
CREATE_ROLE = "mutation($input: RoleInput!) { createRole(input: $input) { name } }"
CREATE_SET = "mutation($input: PermissionSetInput!) { createPermissionSet(input: $input) { name } }"
CREATE_TOKEN = "mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { id } } }"
REVOKE_TOKEN = "mutation($id: ID!) { revokeApiToken(id: $id) { id } }"
SHARE = "mutation($input: ShareRecordInput!) { shareRecord(input: $input) { id } }"
UNSHARE = "mutation($id: ID!) { unshareRecord(id: $id) { id } }"
LOGIN = """
mutation($tenant: String!, $email: String!, $password: String!) {
  login(tenant: $tenant, email: $email, password: $password) { csrfToken }
}
"""
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def tenant(runtime: Runtime) -> Iterator[CreatedTenant]:
    with tenant_scope(runtime) as created:
        yield created


@pytest.fixture(scope="module")
def gql(app: Any, tenant: CreatedTenant) -> GraphQLClient:
    return GraphQLClient(app, tenant.token)


def _events(gql: GraphQLClient, kind: str | None = None, first: int | None = None) -> list[dict[str, Any]]:
    variables: dict[str, Any] = {}
    if kind is not None:
        variables["kind"] = kind
    if first is not None:
        variables["first"] = first
    return gql.data(EVENTS, variables)["auditEvents"]


class Log:
    """The events a step adds to a tenant's log, oldest first."""

    def __init__(self, gql: GraphQLClient) -> None:
        self.gql = gql
        self.seen = {e["id"] for e in _events(gql, first=500)}

    def new(self) -> list[dict[str, Any]]:
        events = [e for e in _events(self.gql, first=500) if e["id"] not in self.seen]
        self.seen.update(e["id"] for e in events)
        return events[::-1]

    def new_summary(self) -> list[tuple[str, str | None, Any]]:
        """(kind, target, details) of the new events."""
        return [(e["kind"], e["target"], e["details"]) for e in self.new()]


def _code(error: dict[str, Any]) -> str:
    return error["extensions"]["code"]


def _user(gql: GraphQLClient, app: Any, email: str, **extra: Any) -> tuple[str, GraphQLClient]:
    user_id = gql.data(CREATE_USER, {"input": {"email": email, **extra}})["createUser"]["id"]
    token = gql.data(CREATE_TOKEN, {"input": {"name": email, "user": user_id}})["createApiToken"]["token"]
    return user_id, GraphQLClient(app, token)


# --- metadata -------------------------------------------------------------------------------------
def test_field_changes_log_one_event_each_with_before_and_after(gql: GraphQLClient, tenant: CreatedTenant) -> None:
    log = Log(gql)
    tier = {"name": "tier", "type": "TEXT", "label": {"en": "Tier"}, "maxLength": 20}
    # when a field is created
    gql.data(CREATE_FIELD, {"input": {"object": "account", "name": "tier", "type": "TEXT", "label": "Tier",
                                      "maxLength": 20}})
    # then one event holds it, with no before, by the administrator
    events = log.new()
    assert [(e["kind"], e["target"], e["details"], e["userId"], e["address"]) for e in events] == [
        ("metadata", "field account.tier", {"before": None, "after": tier}, tenant.admin_user_id, None),
    ]
    # when it is changed
    gql.data(UPDATE_FIELD, {"input": {"object": "account", "name": "tier", "label": {"en": "Level", "zh": "等级"},
                                      "required": True}})
    changed = {"name": "tier", "type": "TEXT", "label": {"en": "Level", "zh": "等级"}, "required": True,
               "maxLength": 20}
    assert log.new_summary() == [("metadata", "field account.tier", {"before": tier, "after": changed})]
    # when it stops being tracked in history
    gql.data(UPDATE_FIELD, {"input": {"object": "account", "name": "tier", "trackHistory": False}})
    untracked = {**changed, "trackHistory": False}
    assert log.new_summary() == [("metadata", "field account.tier", {"before": changed, "after": untracked})]
    # when it is deleted
    gql.data(DELETE_FIELD, {"input": {"object": "account", "name": "tier"}})
    assert log.new_summary() == [("metadata", "field account.tier", {"before": untracked, "after": None})]


def test_validation_rule_changes_are_logged(gql: GraphQLClient) -> None:
    log = Log(gql)
    rule = {"name": "cityNeeded", "expression": 'ISBLANK(billingCity)', "message": {"en": "a city please"}}
    gql.data(CREATE_RULE, {"input": {"object": "account", **rule, "message": "a city please"}})
    assert log.new_summary() == [
        ("metadata", "validation rule account.cityNeeded", {"before": None, "after": rule}),
    ]
    gql.data(UPDATE_RULE, {"input": {"object": "account", "name": "cityNeeded", "active": False,
                                     "field": "billingCity"}})
    changed = {**rule, "field": "billingCity", "active": False}
    assert log.new_summary() == [
        ("metadata", "validation rule account.cityNeeded", {"before": rule, "after": changed}),
    ]
    gql.data(DELETE_RULE, {"input": {"object": "account", "name": "cityNeeded"}})
    assert log.new_summary() == [
        ("metadata", "validation rule account.cityNeeded", {"before": changed, "after": None}),
    ]


def test_object_changes_log_the_header_and_each_field(gql: GraphQLClient) -> None:
    log = Log(gql)
    # when an object with two fields is created
    gql.data(CREATE_OBJECT, {"input": {"name": "vessel", "pluralName": "vessels", "fields": [
        {"name": "hull", "type": "TEXT", "maxLength": 30}, {"name": "tonnage", "type": "INTEGER"},
    ]}})
    # then its header and each field get an event
    header = {"name": "vessel", "pluralName": "vessels", "label": {"en": "Vessel"}, "pluralLabel": {"en": "Vessels"}}
    hull = {"name": "hull", "type": "TEXT", "label": {"en": "Hull"}, "maxLength": 30}
    tonnage = {"name": "tonnage", "type": "INTEGER", "label": {"en": "Tonnage"}}
    assert sorted(log.new_summary(), key=lambda e: e[1]) == [
        ("metadata", "field vessel.hull", {"before": None, "after": hull}),
        ("metadata", "field vessel.tonnage", {"before": None, "after": tonnage}),
        ("metadata", "object vessel", {"before": None, "after": header}),
    ]
    # when its label and sharing change, only the header's event is written
    gql.data(UPDATE_OBJECT, {"input": {"name": "vessel", "label": {"en": "Ship", "zh": "船"}, "sharing": "PRIVATE"}})
    changed = {**header, "label": {"en": "Ship", "zh": "船"}, "sharing": "PRIVATE"}
    assert log.new_summary() == [("metadata", "object vessel", {"before": header, "after": changed})]
    # when the object is deleted, its header and fields go with an event each
    gql.data(DELETE_OBJECT, {"input": {"name": "vessel"}})
    assert sorted(log.new_summary(), key=lambda e: e[1]) == [
        ("metadata", "field vessel.hull", {"before": hull, "after": None}),
        ("metadata", "field vessel.tonnage", {"before": tonnage, "after": None}),
        ("metadata", "object vessel", {"before": changed, "after": None}),
    ]


def test_refused_metadata_changes_log_nothing(gql: GraphQLClient, app: Any) -> None:
    # given a custom field an (inactive) rule uses, and a standard user
    gql.data(CREATE_FIELD, {"input": {"object": "account", "name": "region", "type": "TEXT"}})
    gql.data(CREATE_RULE, {"input": {"object": "account", "name": "regionNeeded", "active": False,
                                     "expression": "ISBLANK(region)", "message": "region"}})
    _, rep = _user(gql, app, "rep@example.com")
    log = Log(gql)
    # when changes are refused: a reserved name, deleting a field a rule uses, a standard field's deletion,
    # a standard user's change
    reserved = gql.error(CREATE_FIELD, {"input": {"object": "account", "name": "select", "type": "TEXT"}})
    in_use = gql.error(DELETE_FIELD, {"input": {"object": "account", "name": "region"}})
    standard = gql.error(DELETE_FIELD, {"input": {"object": "account", "name": "billingCity"}})
    forbidden = rep.error(CREATE_FIELD, {"input": {"object": "account", "name": "tier", "type": "TEXT"}})
    # then nothing was logged
    assert [_code(e) for e in (reserved, in_use, standard, forbidden)] == [
        "VALIDATION_ERROR", "IN_USE", "FORBIDDEN", "FORBIDDEN"]
    assert log.new() == []


# --- security -------------------------------------------------------------------------------------
def test_security_changes_are_logged_with_passwords_masked(gql: GraphQLClient, app: Any) -> None:
    log = Log(gql)
    secret, new_secret = "first secret 123", "second secret 456"
    gql.data(CREATE_ROLE, {"input": {"name": "seller"}})
    user_id = gql.data(CREATE_USER, {"input": {"email": "pat@example.com", "password": secret, "role": "seller",
                                               "permissionSets": ["standardUser"]}})["createUser"]["id"]
    gql.data(UPDATE_USER, {"input": {"id": user_id, "password": new_secret, "active": False}})
    gql.data(CREATE_SET, {"input": {"name": "readAccounts",
                                    "objectPermissions": [{"object": "account", "read": True}]}})
    account = gql.data('mutation { createAccount(data: {name: "Shared"}) { id } }')["createAccount"]["id"]
    share = gql.data(SHARE, {"input": {"object": "account", "record": account, "user": user_id,
                                       "access": "EDIT"}})["shareRecord"]["id"]
    gql.data(UNSHARE, {"id": share})
    events = log.new()
    assert [(e["kind"], e["target"], e["details"]) for e in events] == [
        ("security", "createRole seller", {"name": "seller"}),
        ("security", "createUser pat@example.com", {"email": "pat@example.com", "password": "***", "role": "seller",
                                                    "permissionSets": ["standardUser"]}),
        ("security", f"updateUser {user_id}", {"id": user_id, "password": "***", "active": False}),
        ("security", "createPermissionSet readAccounts",
         {"name": "readAccounts", "objectPermissions": [{"object": "account", "read": True}]}),
        ("security", f"shareRecord account {account}", {"user": user_id, "role": None, "access": "EDIT"}),
        ("security", f"unshareRecord account {account}", {"user": user_id, "role": None, "access": "EDIT"}),
    ]
    # and no password appears anywhere in the log
    logged = json.dumps(_events(gql, first=500))
    assert secret not in logged and new_secret not in logged


def test_token_creation_and_revocation_are_logged(gql: GraphQLClient, tenant: CreatedTenant, app: Any) -> None:
    user_id, _ = _user(gql, app, "bot@example.com")
    log = Log(gql)
    issued = gql.data(CREATE_TOKEN, {"input": {"name": "ci", "user": user_id, "scope": "READ_ONLY"}})["createApiToken"]
    token_id = issued["apiToken"]["id"]
    gql.data(REVOKE_TOKEN, {"id": token_id})
    gql.data(REVOKE_TOKEN, {"id": token_id})  # already revoked: nothing more to log
    events = log.new()
    assert [(e["kind"], e["target"], e["details"], e["userId"]) for e in events] == [
        ("token_created", "token ci", {"tokenId": token_id, "for": user_id, "scope": "READ_ONLY"},
         tenant.admin_user_id),
        ("token_revoked", "token ci", {"tokenId": token_id}, tenant.admin_user_id),
    ]
    # and the token itself is never logged
    assert issued["token"] not in json.dumps(events)


def test_purges_are_logged_with_their_counts(gql: GraphQLClient, runtime: Runtime, tenant: CreatedTenant) -> None:
    ids = [gql.data('mutation($n: String!) { createAccount(data: {name: $n}) { id } }', {"n": n})["createAccount"]["id"]
           for n in ("A", "B", "C")]
    for record_id in ids:
        gql.data("mutation($id: ID!) { deleteAccount(id: $id) { id } }", {"id": record_id})
    log = Log(gql)
    # when two are purged through the API, and the third by retention
    gql.data('mutation($ids: [ID!]) { purgeDeletedRecords(object: "account", ids: $ids) }', {"ids": ids[:2]})
    actor = Actor(runtime.tenant(tenant.tenant.slug), tenant.admin_user_id, "cli")
    now = utcnow() + timedelta(days=31)
    assert purge_expired(runtime, actor, now=now) == 1
    # and a retention purge finds nothing more, and an API purge neither
    assert purge_expired(runtime, actor, now=now) == 0
    gql.data('mutation { purgeDeletedRecords(object: "account") }')
    # then each purge that ran is logged with its count (an empty retention purge is not)
    cutoff = (now - timedelta(days=30)).isoformat()
    assert [(e["kind"], e["target"], e["details"], e["userId"]) for e in log.new()] == [
        ("purge", "object account", {"records": 2}, tenant.admin_user_id),
        ("purge", "expired", {"records": 1, "deletedBefore": cutoff}, tenant.admin_user_id),
        ("purge", "object account", {"records": 0}, tenant.admin_user_id),
    ]


def _login(app: Any, address: str, tenant: str, email: str, password: str) -> Any:
    return app.test_client().post(
        "/graphql", json={"query": LOGIN, "variables": {"tenant": tenant, "email": email, "password": password}},
        base_url="https://localhost", environ_overrides={"REMOTE_ADDR": address},
    )


def test_logins_failed_logins_and_logouts_are_logged_with_the_address(
    gql: GraphQLClient, tenant: CreatedTenant, app: Any
) -> None:
    slug = tenant.tenant.slug
    user_id, _ = _user(gql, app, "lee@example.com", password=PASSWORD)
    log = Log(gql)
    address = "10.62.0.1"
    # when the user fails once, an unknown email fails, the user logs in and out, and a login to an unknown
    # tenant fails
    assert _login(app, address, slug, "lee@example.com", "wrong password").get_json()["errors"]
    assert _login(app, address, slug, "nobody@example.com", PASSWORD).get_json()["errors"]
    client = app.test_client()
    response = client.post("/graphql", json={"query": LOGIN, "variables": {
        "tenant": slug, "email": "LEE@example.com", "password": PASSWORD}},
        base_url="https://localhost", environ_overrides={"REMOTE_ADDR": address})
    csrf = response.get_json()["data"]["login"]["csrfToken"]
    logout = client.post("/graphql", json={"query": "mutation { logout }"}, headers={"X-CSRF-Token": csrf},
                         base_url="https://localhost", environ_overrides={"REMOTE_ADDR": "10.62.0.2"})
    assert logout.get_json() == {"data": {"logout": True}}
    assert _login(app, address, "ghosttenant", "lee@example.com", PASSWORD).get_json()["errors"]
    # then the tenant's log holds each, with the client address; the unknown tenant's attempt is not in it
    assert [(e["kind"], e["target"], e["userId"], e["address"], e["details"]) for e in log.new()] == [
        ("login_failed", "lee@example.com", user_id, address, None),
        ("login_failed", "nobody@example.com", None, address, None),
        ("login", "lee@example.com", user_id, address, None),
        ("logout", None, user_id, "10.62.0.2", None),
    ]


# --- reading the log ----------------------------------------------------------------------------
def test_the_log_is_for_administrators_newest_first_by_kind(runtime: Runtime, app: Any) -> None:
    with tenant_scope(runtime) as fresh:
        _read_the_log(GraphQLClient(app, fresh.token), app)


def _read_the_log(gql: GraphQLClient, app: Any) -> None:
    # given a new tenant where a role, a user and a field were created, in that order
    gql.data(CREATE_ROLE, {"input": {"name": "seller"}})
    _, rep = _user(gql, app, "rep@example.com")
    gql.data(CREATE_FIELD, {"input": {"object": "account", "name": "tier", "type": "TEXT"}})
    # then the log lists them newest first, each at its time
    events = _events(gql)
    assert [(e["kind"], e["target"]) for e in events] == [
        ("metadata", "field account.tier"), ("token_created", "token rep@example.com"),
        ("security", "createUser rep@example.com"), ("security", "createRole seller"),
    ]
    assert [e["at"] for e in events] == sorted((e["at"] for e in events), reverse=True)
    # and by kind, and only as many as asked for
    assert [e["target"] for e in _events(gql, kind="security")] == ["createUser rep@example.com", "createRole seller"]
    assert [e["target"] for e in _events(gql, first=1)] == ["field account.tier"]
    assert gql.data(EVENTS, {"first": None})["auditEvents"] == events
    assert _events(gql, kind="logout") == []
    # and a standard user may not read it
    refused = rep.error(EVENTS, {})
    assert _code(refused) == "FORBIDDEN"
    assert rep.execute(EVENTS, {})["data"] is None


def test_events_of_one_tenant_stay_out_of_another(gql: GraphQLClient, runtime: Runtime, app: Any) -> None:
    # given another tenant with a user, a token and a new field
    log = Log(gql)
    with tenant_scope(runtime) as other:
        other_gql = GraphQLClient(app, other.token)
        _user(other_gql, app, "elsewhere@example.com")
        other_gql.data(CREATE_FIELD, {"input": {"object": "account", "name": "tier", "type": "TEXT"}})
        assert {e["kind"] for e in _events(other_gql)} == {"metadata", "security", "token_created"}
        # then this tenant's log holds none of it
        assert log.new() == []
