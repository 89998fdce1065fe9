"""Shared fixtures: one migrated runtime per test session (SQLite, or PostgreSQL when
TESSERA_TEST_DATABASE_URL is set), a fresh tenant per test, a GraphQL client."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest
import redis

from tessera.services.runtime import Runtime
from tessera.services.tenants import CreatedTenant, drop_tenant
from tessera.testing import (
    TEST_REDIS_URL,
    GraphQLClient,
    config_for_tests,
    drop_test_schemas,
    make_app,
    migrated_runtime,
    new_tenant,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first: the workers share files out in collection order, and a slow file collected
    last keeps one worker busy while the other has nothing left to do."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    logging.getLogger("tessera").setLevel(logging.WARNING)
    config = config_for_tests(tmp_path_factory.mktemp("tessera"))
    rt = migrated_runtime(config)
    try:
        yield rt
    finally:
        rt.close()
        drop_test_schemas(config)


@pytest.fixture(scope="session")
def app(runtime: Runtime):  # type: ignore[no-untyped-def]
    return make_app(runtime)


@pytest.fixture
def tenant(runtime: Runtime) -> Iterator[CreatedTenant]:
    created = new_tenant(runtime)
    try:
        yield created
    finally:
        drop_tenant(runtime, created.tenant.slug)


@pytest.fixture
def gql(app, tenant: CreatedTenant) -> GraphQLClient:  # type: ignore[no-untyped-def]
    return GraphQLClient(app, tenant.token)


@pytest.fixture
def backend(runtime: Runtime) -> str:
    return runtime.dialect


@pytest.fixture(scope="session")
def redis_url() -> str | None:
    """The Redis URL CI asks for; when set, Redis must answer."""
    url = os.environ.get(TEST_REDIS_URL)
    if url:
        redis.Redis.from_url(url).ping()
    return url
