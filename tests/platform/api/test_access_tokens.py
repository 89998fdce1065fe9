"""API tokens: scoped (READ_ONLY tokens run no mutation), expiring, revocable, tied to an active
user, shown once and stored only as a SHA-256 hash; non-administrators see and revoke their own.

One tenant for the module; each test issues tokens of its own. ``rep`` is a non-administrator.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tessera.services import tokens as token_service
from tessera.services.runtime import Runtime
from tessera.storage.system_tables import api_tokens
from tessera.testing import GraphQLClient, tenant_scope

CREATE_USER = "mutation($input: CreateUserInput!) { createUser(input: $input) { id } }"
UPDATE_USER = "mutation($input: UpdateUserInput!) { updateUser(input: $input) { id active } }"
ISSUE = """
mutation($input: CreateApiTokenInput!) {
  createApiToken(input: $input) { token apiToken { id userId name scope createdAt expiresAt revokedAt } }
}
"""
REVOKE = "mutation($id: ID!) { revokeApiToken(id: $id) { id revokedAt } }"
TOKENS = "{ apiTokens { id userId name scope createdAt expiresAt revokedAt } }"
ME = "{ me { id isAdmin tokenScope } }"


@dataclass
class World:
    app: Any
    runtime: Runtime
    admin: GraphQLClient
    admin_id: str
    rep_id: str

    def issue(self, client: GraphQLClient, name: str, **data: Any) -> tuple[GraphQLClient, dict[str, Any]]:
        """A token issued by ``client`` (for ``user`` when given), as a client, and its public record."""
        issued = client.data(ISSUE, {"input": {"name": name, **data}})["createApiToken"]
        return GraphQLClient(self.app, issued["token"]), {**issued["apiToken"], "token": issued["token"]}


@pytest.fixture(scope="module")
def world(runtime: Runtime, app: Any) -> Iterator[World]:
    with tenant_scope(runtime) as created:
        admin = GraphQLClient(app, created.token)
        rep_id = admin.data(CREATE_USER, {"input": {"email": "rep@example.com"}})["createUser"]["id"]
        yield World(app, runtime, admin, created.admin_user_id, rep_id)


def _unauthenticated(client: GraphQLClient) -> str:
    """The message of a request refused before it ran (HTTP 401)."""
    result = client.execute(ME)
    assert client.last_status == 401, result
    assert "data" not in result
    assert [e["extensions"]["code"] for e in result["errors"]] == ["UNAUTHENTICATED"]
    return result["errors"][0]["message"]


def _rep(world: World, name: str, **data: Any) -> tuple[GraphQLClient, dict[str, Any]]:
    return world.issue(world.admin, name, user=world.rep_id, **data)


# --- scope ---------------------------------------------------------------------------------------
def test_a_read_only_token_queries_but_cannot_mutate(world: World) -> None:
    reader, info = _rep(world, "read only", scope="READ_ONLY")
    assert info["scope"] == "READ_ONLY"
    assert reader.data(ME)["me"] == {"id": world.rep_id, "isAdmin": False, "tokenScope": "READ_ONLY"}
    assert reader.data("{ accounts { totalCount } }") == {"accounts": {"totalCount": 0}}
    for document in ['mutation { createAccount(data: {name: "By a reader"}) { id } }',
                     'mutation { createApiToken(input: {name: "more"}) { token } }',
                     f'mutation {{ revokeApiToken(id: "{info["id"]}") {{ id }} }}']:
        result = reader.execute(document)
        assert reader.last_status == 200
        assert [e["extensions"]["code"] for e in result["errors"]] == ["FORBIDDEN"], result
        assert "read-only" in result["errors"][0]["message"]
    # a mutation picked by operationName from a document that also holds a query
    both = "query Q { me { id } } mutation M { createAccount(data: {name: \"By a reader\"}) { id } }"
    assert reader.post({"query": both, "operationName": "M"})["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert reader.post({"query": both, "operationName": "Q"})["data"] == {"me": {"id": world.rep_id}}
    # nothing happened: no account, the token is not revoked, no new token
    assert world.admin.data("{ accounts { totalCount } }") == {"accounts": {"totalCount": 0}}
    mine = {t["id"]: t for t in reader.data(TOKENS)["apiTokens"]}
    assert mine[info["id"]]["revokedAt"] is None
    assert "more" not in {t["name"] for t in mine.values()}


def test_a_read_only_token_of_an_administrator_cannot_mutate_either(world: World) -> None:
    reader, _ = world.issue(world.admin, "admin read only", scope="READ_ONLY")
    assert reader.data(ME)["me"] == {"id": world.admin_id, "isAdmin": True, "tokenScope": "READ_ONLY"}
    assert reader.data("{ users { email } }")["users"]
    error = reader.error('mutation { createRole(input: {name: "readOnlyRole"}) { name } }')
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "readOnlyRole" not in {r["name"] for r in world.admin.data("{ roles { name } }")["roles"]}


# --- expiry, revocation, deactivation -----------------------------------------------------------
def test_a_revoked_token_is_refused_at_once(world: World) -> None:
    first, info = _rep(world, "to revoke")
    second, _ = _rep(world, "to keep")
    assert first.data(ME)["me"]["id"] == world.rep_id
    revoked = first.data(REVOKE, {"id": info["id"]})["revokeApiToken"]
    assert revoked["id"] == info["id"] and revoked["revokedAt"] is not None
    assert _unauthenticated(first) == "invalid API token"
    # only that token
    assert second.data(ME)["me"]["id"] == world.rep_id
    listed = {t["id"]: t for t in second.data(TOKENS)["apiTokens"]}
    assert listed[info["id"]]["revokedAt"] == revoked["revokedAt"]


def test_an_expired_token_is_refused(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    in_an_hour = datetime.now(UTC) + timedelta(hours=1)
    expiring, info = _rep(world, "expiring", expiresAt=in_an_hour.isoformat().replace("+00:00", "Z"))
    lasting, _ = _rep(world, "lasting")
    assert info["expiresAt"] is not None
    assert datetime.fromisoformat(info["expiresAt"].replace("Z", "+00:00")) == in_an_hour.replace(
        microsecond=in_an_hour.microsecond // 1000 * 1000)
    assert expiring.data(ME)["me"]["id"] == world.rep_id
    # two hours later
    later = datetime.now(UTC) + timedelta(hours=2)
    monkeypatch.setattr(token_service, "utcnow", lambda: later)
    assert _unauthenticated(expiring) == "expired API token"
    assert lasting.data(ME)["me"]["id"] == world.rep_id


def test_a_token_cannot_be_issued_already_expired(world: World) -> None:
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    for expires_at, message in [(past, "expiresAt: must be in the future"),
                                ("2030-01-01T00:00:00", "expiresAt: needs a time zone")]:
        error = world.admin.error(ISSUE, {"input": {"name": "bad", "user": world.rep_id, "expiresAt": expires_at}})
        assert (error["extensions"]["code"], error["message"]) == ("VALIDATION_ERROR", message)
    assert "bad" not in {t["name"] for t in world.admin.data(TOKENS)["apiTokens"]}


def test_a_deactivated_users_tokens_are_refused(world: World) -> None:
    user_id = world.admin.data(CREATE_USER, {"input": {"email": "leaver@example.com"}})["createUser"]["id"]
    leaver, _ = world.issue(world.admin, "leaver", user=user_id)
    assert leaver.data(ME)["me"]["id"] == user_id
    world.admin.data(UPDATE_USER, {"input": {"id": user_id, "active": False}})
    assert _unauthenticated(leaver) == "invalid API token"
    # no new token for them either
    error = world.admin.error(ISSUE, {"input": {"name": "again", "user": user_id}})
    assert error["extensions"]["code"] == "NOT_FOUND"
    # reactivated, the same token works again (it was not revoked)
    world.admin.data(UPDATE_USER, {"input": {"id": user_id, "active": True}})
    assert leaver.data(ME)["me"]["id"] == user_id


def test_missing_or_unknown_tokens_are_refused(world: World) -> None:
    assert _unauthenticated(GraphQLClient(world.app, None)).startswith("missing")
    assert _unauthenticated(GraphQLClient(world.app, "tsk_not-a-real-token")) == "invalid API token"


# --- listing and revoking -------------------------------------------------------------------------
def test_a_non_admin_sees_and_revokes_only_their_own_tokens(world: World) -> None:
    other_id = world.admin.data(CREATE_USER, {"input": {"email": "other@example.com"}})["createUser"]["id"]
    rep, by_admin = _rep(world, "rep listing")
    _, own = world.issue(rep, "made by rep")
    _, others = world.issue(world.admin, "other's", user=other_id)
    assert own["userId"] == world.rep_id
    listed = rep.data(TOKENS)["apiTokens"]
    assert {t["userId"] for t in listed} == {world.rep_id}
    assert {by_admin["id"], own["id"]} <= {t["id"] for t in listed}
    assert others["id"] not in {t["id"] for t in listed}
    # the administrator lists every token of the tenant: theirs, the rep's, the other user's
    every = world.admin.data(TOKENS)["apiTokens"]
    assert {world.admin_id, world.rep_id, other_id} <= {t["userId"] for t in every}
    assert {by_admin["id"], own["id"], others["id"]} <= {t["id"] for t in every}
    # another user's token is not found for a non-administrator, and stays valid
    error = rep.error(REVOKE, {"id": others["id"]})
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert next(t for t in world.admin.data(TOKENS)["apiTokens"] if t["id"] == others["id"])["revokedAt"] is None
    # a non-administrator issues tokens for themselves only
    error = rep.error(ISSUE, {"input": {"name": "for other", "user": other_id}})
    assert error["extensions"]["code"] == "FORBIDDEN"
    # an administrator revokes anyone's
    assert world.admin.data(REVOKE, {"id": own["id"]})["revokeApiToken"]["revokedAt"] is not None


def test_only_the_tokens_hash_is_stored_and_the_token_is_never_listed(world: World) -> None:
    client, info = _rep(world, "hashed")
    token = info["token"]
    assert token.startswith("tsk_") and len(token) > 40
    with world.runtime.db.system.connect() as conn:
        row = conn.execute(sa.select(api_tokens).where(api_tokens.c.id == info["id"])).mappings().one()
    assert row["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {str(v) for v in row.values()}
    assert all(token not in str(v) for v in row.values())
    assert row["user_id"] == world.rep_id and row["scope"] == "READ_WRITE"
    # the listings (the rep's and the administrator's) never show it, nor its hash
    for lister in (client, world.admin):
        listing = json.dumps(lister.data(TOKENS))
        assert info["id"] in listing
        assert token not in listing and row["token_hash"] not in listing
    assert client.data(ME)["me"]["id"] == world.rep_id
