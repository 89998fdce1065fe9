"""Names the API owns whatever a tenant defines: every static GraphQL type and root field is
reserved, so no object can generate a type or a root field that collides with one."""

from __future__ import annotations

from tessera.api.schema import build_schema
from tessera.model.definitions import TenantMetadata
from tessera.model.names import ROOT_FIELD_NAMES, STATIC_TYPE_NAMES

EMPTY = TenantMetadata(tenant_slug="none", schema_name="t_none", version=1, objects=())


def test_every_static_type_of_the_schema_is_reserved() -> None:
    # given the schema of a tenant without objects: only the API's own types
    schema = build_schema(EMPTY).graphql_schema
    own = {name for name in schema.type_map if not name.startswith("__")}
    # then object names can never generate any of them
    assert own - STATIC_TYPE_NAMES == set()


def test_every_static_root_field_is_reserved() -> None:
    schema = build_schema(EMPTY).graphql_schema
    assert schema.query_type is not None
    assert set(schema.query_type.fields) - ROOT_FIELD_NAMES == set()
