"""The GraphQL endpoint: authentication, tenant isolation, request limits, batches, error shape,
GraphiQL, health, and the per-process schema and document caches."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from graphql import GraphQLSchema, build_schema, get_introspection_query

from tessera.api.documents import DocumentCache, InvalidDocument
from tessera.core.clock import utcnow
from tessera.core.config import Limits
from tessera.core.ids import new_id
from tessera.services.runtime import Runtime
from tessera.services.tenants import CreatedTenant
from tessera.services.tokens import hash_token, issue_token
from tessera.storage.system_tables import api_tokens, users
from tessera.testing import GraphQLClient, tenant_scope

COUNT_ACCOUNTS = "{ accounts { totalCount } }"
CREATE_ACCOUNT = (
    "mutation($data: AccountCreateInput!) { createAccount(data: $data) { id name accountNumber } }"
)
CREATE_OPPORTUNITY = """
mutation($data: OpportunityCreateInput!) { createOpportunity(data: $data) { id name } }
"""
LIST_ACCOUNTS = "{ accounts { totalCount edges { node { id name accountNumber } } } }"
GET_ACCOUNT = "query($id: ID!) { account(id: $id) { id name } }"
GET_OPPORTUNITY = "query($id: ID!) { opportunity(id: $id) { id name } }"
ACCOUNT_BY_ID = "query($id: ID!) { accounts(filter: {id: {eq: $id}}) { totalCount } }"
UPDATE_ACCOUNT = 'mutation($id: ID!) { updateAccount(id: $id, data: {name: "taken"}) { id } }'
DELETE_ACCOUNT = "mutation($id: ID!) { deleteAccount(id: $id) { id } }"
OWNED_ACCOUNT = 'mutation($owner: ID!) { createAccount(data: {name: "x", owner: $owner}) { id } }'
UNKNOWN_FIELD = "{ accounts { totalCount nickname } }"
PAGE_SIZE_VARIABLE = "query($n: Int) { accounts(first: $n) { totalCount } }"
CREATE_FIELD = """
mutation($input: CreateFieldInput!) { createField(input: $input) { name type } }
"""
REGION_LIST = "{ opportunities { edges { node { name region } } } }"
REGION_CREATE = """
mutation { createOpportunity(data: {name: "Regional", closeDate: "2026-01-01", region: "EMEA"}) { region } }
"""
FRAGMENT_DEPTH_11 = """
query { accounts { ...Page } }
fragment Page on AccountConnection { edges { node { ...Parents } } }
fragment Parents on Account { parentAccount { parentAccount { parentAccount { parentAccount {
  parentAccount { parentAccount { parentAccount { name } } } } } } } }
"""
RELATION_DEPTH_11 = """
{ accounts { edges { node { opportunities { edges { node { account { contacts { edges { node {
  lastName } } } } } } } } } } }
"""
FRAGMENT_ALIASES_16 = """
query { a0: accounts { ...Totals } }
fragment Totals on AccountConnection {
  t1: totalCount t2: totalCount t3: totalCount t4: totalCount t5: totalCount t6: totalCount t7: totalCount
  t8: totalCount t9: totalCount t10: totalCount t11: totalCount t12: totalCount t13: totalCount
  t14: totalCount t15: totalCount }
"""

TWO_OPERATIONS = (
    "query Accounts { accounts { totalCount } } query Opportunities { opportunities { totalCount } }"
)
# A fragment with 10 aliases, spread 3 times: 30 aliased fields are executed.
FRAGMENT_SPREAD_ALIASES_30 = """
{ accounts { edges { node { ...Names parentAccount { ...Names parentAccount { ...Names } } } } } }
fragment Names on Account { n0: name n1: name n2: name n3: name n4: name n5: name n6: name n7: name n8: name
  n9: name }
"""


def _parent_chain(levels: int) -> str:
    """accounts > edges > node > parentAccount x levels > name: depth 4 + levels."""
    return "{ accounts { edges { node { " + "parentAccount { " * levels + "name" + " }" * levels + " } } } }"


def _aliases(count: int) -> str:
    return "{ " + " ".join(f"a{i}: accounts {{ totalCount }}" for i in range(count)) + " }"


def _tokens(count: int) -> str:
    """A valid query of exactly ``count`` lexical tokens (20 plus one per listed string)."""
    return "{ accounts(filter: {name: {in: [" + '"a" ' * (count - 20) + "]}}) { totalCount } }"


@pytest.fixture(scope="module")
def crm(runtime: Runtime, app: Flask) -> Iterator[tuple[GraphQLClient, CreatedTenant]]:
    with tenant_scope(runtime) as created:
        yield GraphQLClient(app, created.token), created


@pytest.fixture
def shared(crm: tuple[GraphQLClient, CreatedTenant]) -> GraphQLClient:
    return crm[0]


def _raw(app: Flask, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    response = app.test_client().post(
        "/graphql", data=body, headers=headers or {}, content_type="application/json"
    )
    return response.status_code, response.get_json(silent=True)


def _code(payload: Any) -> str:
    return payload["errors"][0]["extensions"]["code"]


# --- authentication ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="no-header"),
        pytest.param("", id="empty-header"),
        pytest.param("Bearer ", id="empty-token"),
        pytest.param("Bearer tsk_not-a-real-token", id="unknown-token"),
        pytest.param("Basic dXNlcjpwYXNz", id="other-scheme"),
    ],
)
def test_missing_or_bad_token_is_401(app: Flask, authorization: str | None) -> None:
    # given a request without a valid bearer token
    headers = {} if authorization is None else {"Authorization": authorization}
    # when it is posted
    status, payload = _raw(app, json.dumps({"query": COUNT_ACCOUNTS}).encode(), headers)
    # then it is refused before anything runs
    assert status == 401
    assert _code(payload) == "UNAUTHENTICATED"
    assert "data" not in payload


def _issue(runtime: Runtime, created: CreatedTenant, **values: Any) -> tuple[str, str]:
    """A second token of the tenant's admin, with its id."""
    with runtime.db.system.begin() as conn:
        token = issue_token(conn, created.tenant.id, created.admin_user_id, "test")
        token_id = conn.execute(
            sa.select(api_tokens.c.id).where(api_tokens.c.token_hash == hash_token(token))
        ).scalar_one()
        if values:
            conn.execute(api_tokens.update().where(api_tokens.c.id == token_id).values(**values))
    return token, token_id


def test_revoked_token_is_401(app: Flask, runtime: Runtime, crm: tuple[GraphQLClient, CreatedTenant]) -> None:
    # given a working second token of the tenant's admin
    token, token_id = _issue(runtime, crm[1])
    client = GraphQLClient(app, token)
    assert client.data(COUNT_ACCOUNTS)["accounts"]["totalCount"] >= 0
    # when it is revoked
    with runtime.db.system.begin() as conn:
        conn.execute(api_tokens.update().where(api_tokens.c.id == token_id).values(revoked_at=utcnow()))
    result = client.execute(COUNT_ACCOUNTS)
    # then it is refused, while the tenant's other token still works
    assert client.last_status == 401
    assert _code(result) == "UNAUTHENTICATED"
    assert crm[0].data(COUNT_ACCOUNTS)["accounts"]["totalCount"] >= 0


def test_expired_token_is_401(app: Flask, runtime: Runtime, crm: tuple[GraphQLClient, CreatedTenant]) -> None:
    # given a token that expired a minute ago
    token, _ = _issue(runtime, crm[1], expires_at=utcnow() - timedelta(minutes=1))
    # when it is used
    client = GraphQLClient(app, token)
    result = client.execute(COUNT_ACCOUNTS)
    # then it is refused
    assert client.last_status == 401
    assert _code(result) == "UNAUTHENTICATED"


def test_token_of_an_inactive_user_is_401(
    app: Flask, runtime: Runtime, crm: tuple[GraphQLClient, CreatedTenant]
) -> None:
    # given a second administrator of the tenant with a token, later deactivated
    created = crm[1]
    user_id = new_id()
    with runtime.db.system.begin() as conn:
        conn.execute(
            users.insert().values(
                id=user_id,
                tenant_id=created.tenant.id,
                email=f"{user_id}@example.com",
                name="second",
                is_active=True,
                is_admin=True,
                created_at=utcnow(),
            )
        )
        token = issue_token(conn, created.tenant.id, user_id, "second")
    client = GraphQLClient(app, token)
    assert client.data(COUNT_ACCOUNTS)["accounts"]["totalCount"] >= 0
    with runtime.db.system.begin() as conn:
        conn.execute(users.update().where(users.c.id == user_id).values(is_active=False))
    # when the token is used again
    result = client.execute(COUNT_ACCOUNTS)
    # then it is refused
    assert client.last_status == 401
    assert _code(result) == "UNAUTHENTICATED"


def test_bearer_scheme_is_case_insensitive(app: Flask, crm: tuple[GraphQLClient, CreatedTenant]) -> None:
    # given the tenant's token sent with a lower-case scheme
    headers = {"Authorization": f"bearer {crm[1].token}"}
    # when a query is posted
    status, payload = _raw(app, json.dumps({"query": COUNT_ACCOUNTS}).encode(), headers)
    # then it is answered
    assert status == 200
    assert "errors" not in payload


# --- tenant isolation -------------------------------------------------------------------------
def test_tenants_never_see_each_others_records(runtime: Runtime, app: Flask) -> None:
    with tenant_scope(runtime) as first, tenant_scope(runtime) as second:
        one, two = GraphQLClient(app, first.token), GraphQLClient(app, second.token)
        # given an account and an opportunity in the first tenant, and an account in the second
        secret = one.data(CREATE_ACCOUNT, {"data": {"name": "Secret One"}})["createAccount"]
        deal = one.data(
            CREATE_OPPORTUNITY, {"data": {"name": "Deal", "closeDate": "2026-01-01", "account": secret["id"]}}
        )["createOpportunity"]
        own = two.data(CREATE_ACCOUNT, {"data": {"name": "Own Two"}})["createAccount"]
        # when the second tenant lists, reads, filters, updates and deletes with the first tenant's ids
        listed = two.data(LIST_ACCOUNTS)["accounts"]
        read = two.data(GET_ACCOUNT, {"id": secret["id"]})["account"]
        read_deal = two.data(GET_OPPORTUNITY, {"id": deal["id"]})["opportunity"]
        filtered = two.data(ACCOUNT_BY_ID, {"id": secret["id"]})["accounts"]["totalCount"]
        update = two.error(UPDATE_ACCOUNT, {"id": secret["id"]})
        delete = two.error(DELETE_ACCOUNT, {"id": secret["id"]})
        lookup = two.error(
            CREATE_OPPORTUNITY,
            {"data": {"name": "Steal", "closeDate": "2026-01-01", "account": secret["id"]}},
        )
        owner = two.error(OWNED_ACCOUNT, {"owner": first.admin_user_id})
        # then it sees only its own records, and the other tenant's ids are unknown to it
        assert listed["totalCount"] == 1
        assert [e["node"]["name"] for e in listed["edges"]] == ["Own Two"]
        assert read is None
        assert read_deal is None
        assert filtered == 0
        assert update["extensions"]["code"] == delete["extensions"]["code"] == "NOT_FOUND"
        assert (lookup["extensions"]["code"], lookup["extensions"]["field"]) == (
            "VALIDATION_ERROR",
            "account",
        )
        assert (owner["extensions"]["code"], owner["extensions"]["field"]) == ("VALIDATION_ERROR", "owner")
        # and each tenant numbers its records on its own, the first tenant's record untouched
        assert secret["accountNumber"] == own["accountNumber"] == "ACC-00001"
        assert one.data(GET_ACCOUNT, {"id": secret["id"]})["account"] == {
            "id": secret["id"],
            "name": "Secret One",
        }
        assert one.data(LIST_ACCOUNTS)["accounts"]["totalCount"] == 1
        # and a field added by one tenant exists only in that tenant's schema
        one.data(CREATE_FIELD, {"input": {"object": "opportunity", "name": "region", "type": "TEXT"}})
        assert one.data(REGION_LIST)["opportunities"]["edges"] == [{"node": {"name": "Deal", "region": None}}]
        assert "'region'" in two.error(REGION_LIST)["message"]
    # and once a tenant is dropped its token no longer opens anything
    gone = GraphQLClient(app, first.token)
    assert _code(gone.execute(COUNT_ACCOUNTS)) == "UNAUTHENTICATED"
    assert gone.last_status == 401


# --- limits -----------------------------------------------------------------------------------
def test_body_over_1_mb_is_refused_before_parsing(app: Flask) -> None:
    # given a body of 1,000,001 bytes that is not even JSON, without a token
    body = b"x" * 1_000_001
    # when it is posted
    status, payload = _raw(app, body)
    # then it is refused with 413 and LIMIT_EXCEEDED (neither 401 nor a JSON error: nothing was read)
    assert status == 413
    assert _code(payload) == "LIMIT_EXCEEDED"


def test_body_of_exactly_1_mb_is_accepted(app: Flask, crm: tuple[GraphQLClient, CreatedTenant]) -> None:
    # given a valid request padded with whitespace to exactly 1,000,000 bytes
    body = json.dumps({"query": COUNT_ACCOUNTS}).encode()
    body += b" " * (1_000_000 - len(body))
    # when it is posted
    status, payload = _raw(app, body, {"Authorization": f"Bearer {crm[1].token}"})
    # then it is answered
    assert status == 200
    assert "errors" not in payload


@pytest.mark.parametrize(
    ("query", "allowed"),
    [
        pytest.param(_tokens(2000), True, id="2000-tokens"),
        pytest.param(_tokens(2001), False, id="2001-tokens"),
        pytest.param(_parent_chain(6), True, id="depth-10"),
        pytest.param(_parent_chain(7), False, id="depth-11"),
        pytest.param(FRAGMENT_DEPTH_11, False, id="depth-11-through-fragments"),
        pytest.param(RELATION_DEPTH_11, False, id="depth-11-through-relations"),
        pytest.param(_aliases(15), True, id="15-aliases"),
        pytest.param(_aliases(16), False, id="16-aliases"),
        pytest.param(FRAGMENT_ALIASES_16, False, id="16-aliases-through-fragments"),
        pytest.param(get_introspection_query(), True, id="introspection"),
        pytest.param(
            get_introspection_query(
                descriptions=True,
                specified_by_url=True,
                directive_is_repeatable=True,
                schema_description=True,
                input_value_deprecation=True,
            ),
            True,
            id="introspection-everything",
        ),
    ],
)
def test_document_limits(shared: GraphQLClient, query: str, allowed: bool) -> None:
    # given a document at or just beyond a limit
    # when it is posted
    result = shared.execute(query)
    # then it is answered when within the limit, else refused with LIMIT_EXCEEDED and never a 5xx
    assert shared.last_status < 500
    if allowed:
        assert not result.get("errors"), result.get("errors")
        assert result["data"]
    else:
        assert _code(result) == "LIMIT_EXCEEDED"
        assert "data" not in result


# Regression test, was a bug: api/limits.py check_document counts the aliases of each fragment definition
# once, not per spread, so a fragment of 10 aliases spread 3 times executes 30 aliased fields under the
# limit of 15
def test_aliases_are_counted_per_fragment_spread(shared: GraphQLClient) -> None:
    # given a document whose fragment of 10 aliases is spread three times
    # when it is posted
    result = shared.execute(FRAGMENT_SPREAD_ALIASES_30)
    # then it is refused like 30 aliases written out
    assert _code(result) == "LIMIT_EXCEEDED"


@pytest.mark.parametrize(
    ("operation_name", "root"), [("Accounts", "accounts"), ("Opportunities", "opportunities")]
)
def test_operation_name_selects_the_operation(shared: GraphQLClient, operation_name: str, root: str) -> None:
    # given a document with two named operations
    # when one is chosen by name, none is chosen, or an unknown one is chosen
    chosen = shared.post({"query": TWO_OPERATIONS, "operationName": operation_name})
    unnamed = shared.post({"query": TWO_OPERATIONS})
    unknown = shared.post({"query": TWO_OPERATIONS, "operationName": "Nope"})
    # then only the chosen one runs; otherwise the request is refused as invalid
    assert "errors" not in chosen
    assert list(chosen["data"]) == [root]
    assert isinstance(chosen["data"][root]["totalCount"], int)
    assert unnamed["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert unknown["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert "Nope" in unknown["errors"][0]["message"]


def test_batch_of_two_returns_a_list_in_order(app: Flask, crm: tuple[GraphQLClient, CreatedTenant]) -> None:
    # given a batch that creates an account and then counts accounts
    client = GraphQLClient(app, crm[1].token)
    before = client.data(COUNT_ACCOUNTS)["accounts"]["totalCount"]
    batch = [
        {"query": CREATE_ACCOUNT, "variables": {"data": {"name": "Batched"}}},
        {"query": COUNT_ACCOUNTS},
    ]
    # when it is posted
    results = client.post(batch)
    # then one result per operation comes back, in order, the second seeing the first's write
    assert client.last_status == 200
    assert isinstance(results, list)
    assert len(results) == 2
    assert results[0]["data"]["createAccount"]["name"] == "Batched"
    assert results[1] == {"data": {"accounts": {"totalCount": before + 1}}}


def test_batch_operations_fail_independently(app: Flask, crm: tuple[GraphQLClient, CreatedTenant]) -> None:
    # given a batch of a valid query, an invalid one and a malformed operation
    client = GraphQLClient(app, crm[1].token)
    batch = [{"query": COUNT_ACCOUNTS}, {"query": UNKNOWN_FIELD}, {"no": "query"}]
    # when it is posted
    results = client.post(batch)
    # then each gets its own result
    assert client.last_status == 200
    assert "errors" not in results[0]
    assert results[1]["errors"][0]["extensions"]["code"] == "VALIDATION_ERROR"
    assert results[2]["errors"][0]["extensions"] == {"code": "VALIDATION_ERROR", "field": "query"}


@pytest.mark.parametrize(("size", "allowed"), [(10, True), (11, False), (0, False)])
def test_batch_size_limit(
    app: Flask, crm: tuple[GraphQLClient, CreatedTenant], size: int, allowed: bool
) -> None:
    # given a batch of `size` operations
    client = GraphQLClient(app, crm[1].token)
    # when it is posted
    results = client.post([{"query": COUNT_ACCOUNTS}] * size)
    # then up to ten are answered; more (or none) are refused with LIMIT_EXCEEDED and no 5xx
    if allowed:
        assert client.last_status == 200
        assert len(results) == size
        assert all("errors" not in r for r in results)
    else:
        assert 400 <= client.last_status < 500
        assert _code(results) == "LIMIT_EXCEEDED"


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe\xfa", b'{"query": "{ accounts { totalCount } }"'])
def test_invalid_json_is_400(app: Flask, crm: tuple[GraphQLClient, CreatedTenant], body: bytes) -> None:
    # given an authenticated request whose body is not JSON
    # when it is posted
    status, payload = _raw(app, body, {"Authorization": f"Bearer {crm[1].token}"})
    # then it is refused with 400 and a validation error about the body
    assert status == 400
    assert payload["errors"][0]["extensions"] == {"code": "VALIDATION_ERROR", "field": "body"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        pytest.param({"variables": {}}, "query", id="no-query"),
        pytest.param({"query": 5}, "query", id="query-not-a-string"),
        pytest.param({"query": COUNT_ACCOUNTS, "variables": [1]}, "variables", id="variables-not-an-object"),
        pytest.param("just a string", "query", id="not-an-object"),
    ],
)
def test_malformed_operation_is_a_validation_error(shared: GraphQLClient, payload: Any, field: str) -> None:
    # given a JSON body that is not a GraphQL operation
    # when it is posted
    result = shared.post(payload)
    # then it is refused naming what is wrong
    assert shared.last_status < 500
    assert result["errors"][0]["extensions"] == {"code": "VALIDATION_ERROR", "field": field}


def test_unknown_field_is_a_validation_error_with_code_and_location(shared: GraphQLClient) -> None:
    # given a query selecting a field the schema does not have
    # when it is posted
    result = shared.execute(UNKNOWN_FIELD)
    # then graphql validation refuses it with a code, the field's name and its location; nothing runs
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert "'nickname'" in error["message"]
    assert error["locations"] == [{"line": 1, "column": 25}]
    assert "data" not in result


def test_syntax_error_is_a_validation_error(shared: GraphQLClient) -> None:
    # given a document that does not parse
    # when it is posted
    result = shared.execute("{ accounts { totalCount }")
    # then it is refused with a code and a location
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["locations"]


# Regression test, was a bug: api/errors.py error_payload maps every GraphQLError that has an
# original_error to 'internal error'/INTERNAL_ERROR; graphql-core's variable coercion errors wrap a
# GraphQLError, so a wrongly typed variable loses its message and code
def test_wrongly_typed_variable_is_a_validation_error(shared: GraphQLClient) -> None:
    # given an Int variable sent as a string
    # when the query is posted
    error = shared.error(PAGE_SIZE_VARIABLE, {"n": "ten"})
    # then it is refused as invalid input, saying what is wrong
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert "$n" in error["message"]


# --- pages ------------------------------------------------------------------------------------
def test_get_graphql_serves_graphiql(app: Flask) -> None:
    # given a browser
    # when it opens /graphql
    response = app.test_client().get("/graphql")
    # then it gets the GraphiQL page, without needing a token
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "graphiql" in page.lower()
    assert "Authorization" in page


def test_healthz(app: Flask) -> None:
    # given a running app
    # when /healthz is requested
    response = app.test_client().get("/healthz")
    # then the process and its database answer ok
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


# --- caches -----------------------------------------------------------------------------------
def test_schema_is_built_once_per_metadata_version(app: Flask, runtime: Runtime) -> None:
    service = app.extensions["tessera.graphql"]
    with tenant_scope(runtime) as created:
        client = GraphQLClient(app, created.token)
        # given a tenant whose schema has been used once
        client.data(COUNT_ACCOUNTS)
        builds = service.schemas.builds
        # when the same and other documents are posted again and again
        for _ in range(5):
            client.data(COUNT_ACCOUNTS)
            client.data(LIST_ACCOUNTS)
        # then the built schema is reused
        assert service.schemas.builds == builds
        missing = client.execute(REGION_LIST)
        assert "'region'" in missing["errors"][0]["message"]
        # when a field is added to opportunities through the API
        field = client.data(
            CREATE_FIELD, {"input": {"object": "opportunity", "name": "region", "type": "TEXT"}}
        )
        assert field["createField"] == {"name": "region", "type": "TEXT"}
        # then the next request builds a new schema in which the field can be written and read
        created_opp = client.data(REGION_CREATE)["createOpportunity"]
        assert created_opp == {"region": "EMEA"}
        listed = client.data(REGION_LIST)["opportunities"]["edges"]
        assert [e["node"] for e in listed] == [{"name": "Regional", "region": "EMEA"}]
        assert service.schemas.builds == builds + 1
        # and that schema is reused in turn
        for _ in range(3):
            client.data(REGION_LIST)
        assert service.schemas.builds == builds + 1


def _schema() -> GraphQLSchema:
    return build_schema("type Query { a: Int b: Int c: Int d: Int }")


def test_document_cache_reuses_validated_documents() -> None:
    # given a document cache and a schema
    cache, schema, limits = DocumentCache(3), _schema(), Limits()
    # when the same query is asked for twice, and for another schema
    first = cache.get(schema, "{ a }", limits)
    again = cache.get(schema, "{ a }", limits)
    other_schema = cache.get(_schema(), "{ a }", limits)
    # then the parsed document is reused for the same schema only
    assert again is first
    assert other_schema is not first


def test_document_cache_is_bounded_and_keeps_recently_used() -> None:
    # given a cache of three documents holding { a }, { b }, { c }, with { a } used last
    cache, schema, limits = DocumentCache(3), _schema(), Limits()
    docs = {q: cache.get(schema, q, limits) for q in ("{ a }", "{ b }", "{ c }")}
    cache.get(schema, "{ a }", limits)
    # when a fourth document arrives
    cache.get(schema, "{ d }", limits)
    # then the least recently used one ({ b }) was dropped and the others are still cached
    assert cache.get(schema, "{ a }", limits) is docs["{ a }"]
    assert cache.get(schema, "{ c }", limits) is docs["{ c }"]
    assert cache.get(schema, "{ b }", limits) is not docs["{ b }"]


def test_document_cache_keeps_refusals_too() -> None:
    # given a cache and an invalid document
    cache, schema, limits = DocumentCache(2), _schema(), Limits()
    # when it is asked for twice
    refusals = []
    for _ in range(2):
        with pytest.raises(InvalidDocument) as raised:
            cache.get(schema, "{ nope }", limits)
        refusals.append(raised.value.errors)
    # then both refusals carry the same validation errors
    assert refusals[0] == refusals[1]
    assert "'nope'" in refusals[0][0].message


def test_endpoint_document_cache_is_bounded_by_its_configured_size(
    app: Flask, runtime: Runtime, crm: tuple[GraphQLClient, CreatedTenant]
) -> None:
    # given a query answered through the endpoint, and the tenant's cached schema
    service = app.extensions["tessera.graphql"]
    crm[0].data(COUNT_ACCOUNTS)
    tenant = runtime.tenant(crm[1].tenant.slug)
    with runtime.db.system.connect() as conn:
        meta = runtime.model(conn, tenant).meta
    builds = service.schemas.builds
    schema = service.schemas.get(meta, tenant.id).graphql_schema
    limits = runtime.config.limits
    # when the endpoint's document cache is asked for the same query
    cached = service.documents.get(schema, COUNT_ACCOUNTS, limits)
    # then it hands back the document the request validated, without building anything
    assert service.documents.get(schema, COUNT_ACCOUNTS, limits) is cached
    assert service.schemas.builds == builds
    # when as many other documents as the cache holds pass through it
    for i in range(limits.document_cache_size):
        service.documents.get(schema, f"{{ a{i}: accounts {{ totalCount }} }}", limits)
    # then the first one has been dropped: the cache stays bounded
    assert service.documents.get(schema, COUNT_ACCOUNTS, limits) is not cached
