"""Connector instances through GraphQL: credentials encrypted and masked, admins only, mapping edits."""

from __future__ import annotations

import sqlalchemy as sa

from tessera.services.tenants import CreatedTenant
from tessera.storage.system_tables import connectors
from tessera.testing import GraphQLClient

INSTALL = 'mutation { installPlugin(name: "tenders") { installed } }'
CREATE = "mutation($i: CreateConnectorInput!) { createConnector(input: $i) { name config mapping mappingEdited } }"
UPDATE = "mutation($i: UpdateConnectorInput!) { updateConnector(input: $i) { name config mapping mappingEdited schedule } }"
LIST = "{ connectors { name plugin provider config target matchKey } }"
DELETE = 'mutation { deleteConnector(name: "feed") { name } }'
CREATE_USER = "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }"
CREATE_TOKEN = "mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { token } }"


def _create(gql: GraphQLClient, **extra: object) -> dict:
    config = {"source": "https://example.org/ocds", "apiKey": "s3cr3t-value", "apiKeyHeader": "X-Feed-Key",
              "headers": {"X": "1"}}
    return gql.data(CREATE, {"i": {"name": "feed", "plugin": "tenders", "config": config, **extra}})["createConnector"]


def test_credentials_are_encrypted_at_rest_and_masked(runtime, gql: GraphQLClient, tenant: CreatedTenant) -> None:
    gql.data(INSTALL)
    shown = _create(gql)
    assert shown["config"] == {"source": "https://example.org/ocds", "apiKey": "********", "apiKeyHeader": "X-Feed-Key",
                               "headers": {"X": "1"}}  # a header's name is no secret
    assert not shown["mappingEdited"] and shown["mapping"][0] == {"field": "ocid", "path": "ocid", "transform": None}
    with runtime.db.system.connect() as conn:
        row = conn.execute(sa.select(connectors)).mappings().one()
    assert "s3cr3t" not in str(dict(row)) and row["secrets"]
    # the mask given back keeps the stored secret
    updated = gql.data(UPDATE, {"i": {"name": "feed", "config": {"source": "https://example.org/ocds",
                                                                   "apiKey": "********"}, "schedule": "0 6 * * *"}})["updateConnector"]
    assert updated["config"]["apiKey"] == "********" and updated["schedule"] == "0 6 * * *"
    with runtime.db.system.connect() as conn:
        assert conn.execute(sa.select(connectors.c.secrets)).scalar() is not None
    assert gql.data(LIST)["connectors"][0]["target"] == "tender"
    # keys not given stay as they are; an explicit null clears the schedule
    kept = gql.data(UPDATE, {"i": {"name": "feed", "active": False}})["updateConnector"]
    assert kept["schedule"] == "0 6 * * *" and kept["config"]["apiKey"] == "********"
    assert gql.data(UPDATE, {"i": {"name": "feed", "schedule": None}})["updateConnector"]["schedule"] is None


def test_mapping_is_editable_and_checked(gql: GraphQLClient) -> None:
    gql.data(INSTALL)
    _create(gql)
    mapping = [{"field": "title", "path": "tender.title", "transform": "upper"}]
    assert gql.data(UPDATE, {"i": {"name": "feed", "mapping": mapping}})["updateConnector"]["mappingEdited"]
    error = gql.error(UPDATE, {"i": {"name": "feed", "mapping": [{"field": "nope", "path": "x"}]}})
    assert error["extensions"]["code"] == "VALIDATION_ERROR" and "no field 'nope'" in error["message"]
    error = gql.error(UPDATE, {"i": {"name": "feed", "mapping": [{"field": "title", "path": "x", "transform": "zip"}]}})
    assert "not one of" in error["message"]
    assert not gql.data(UPDATE, {"i": {"name": "feed", "mapping": []}})["updateConnector"]["mappingEdited"]


def test_refusals(gql: GraphQLClient, app) -> None:
    error = gql.error(CREATE, {"i": {"name": "feed", "plugin": "tenders", "config": {"source": "x"}}})
    assert "not installed" in error["message"]
    gql.data(INSTALL)
    error = gql.error(CREATE, {"i": {"name": "feed", "plugin": "tenders", "config": {"source": "/etc"}}})
    assert "connector-files" in error["message"]
    error = gql.error(CREATE, {"i": {"name": "feed", "plugin": "tenders", "config": {}}})
    assert "source" in error["message"]
    _create(gql)
    assert gql.error(CREATE, {"i": {"name": "feed", "plugin": "tenders", "config": {"source": "https://a.b"}}}
                     )["extensions"]["code"] == "CONFLICT"
    user = gql.data(CREATE_USER, {"i": {"email": "rep@example.com", "name": "rep"}})["createUser"]["id"]
    token = gql.data(CREATE_TOKEN, {"i": {"name": "t", "user": user}})["createApiToken"]["token"]
    rep = GraphQLClient(app, token)
    assert rep.error(LIST)["extensions"]["code"] == "FORBIDDEN"
    assert rep.error('mutation { runConnector(name: "feed") { status } }')["extensions"]["code"] == "FORBIDDEN"
    assert gql.data(DELETE)["deleteConnector"]["name"] == "feed"
    assert gql.data(LIST)["connectors"] == []
