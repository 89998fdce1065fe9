"""What every benchmark shares: a migrated runtime on SQLite or on ``TESSERA_BENCH_DATABASE_URL``,
medians of repeated runs, and serving one GraphQL operation the way the endpoint does."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from tessera.api.context import RequestContext
from tessera.api.graphql_view import GraphQLService
from tessera.services.runtime import Runtime
from tessera.services.tokens import authenticate
from tessera.testing import config_for_tests, drop_test_schemas, migrated_runtime


@contextmanager
def bench_runtime(**config_changes: Any) -> Iterator[tuple[Runtime, Path]]:
    """A migrated runtime in a temporary directory (SQLite), or on the PostgreSQL database named by
    ``TESSERA_BENCH_DATABASE_URL`` under a schema prefix of its own, removed afterwards."""
    url = os.environ.get("TESSERA_BENCH_DATABASE_URL")
    if url:
        os.environ["TESSERA_TEST_DATABASE_URL"] = url
    with tempfile.TemporaryDirectory() as tmp:
        config = config_for_tests(Path(tmp))
        if config_changes:
            config = replace(config, **config_changes)
        rt = migrated_runtime(config)
        try:
            yield rt, Path(tmp)
        finally:
            rt.close()
            drop_test_schemas(config)


def median(fn: Any, repeats: int) -> float:
    """The median of ``repeats`` timings of ``fn()`` after one warm-up run (caches, statement cache)."""
    fn()
    return statistics.median(fn() for _ in range(repeats))


def serve(service: GraphQLService, rt: Any, token: str, operation: dict[str, Any]) -> dict[str, Any]:
    """One operation the way the endpoint serves it: token, model and access lookups, then the run."""
    with rt.db.system.connect() as conn:
        principal = authenticate(conn, token)
        model = rt.model(conn, principal.tenant)
        access = rt.access(conn, principal.tenant, principal.user_id)
    with RequestContext(rt, principal, model, access=access) as ctx:
        return service.run(ctx, operation)


def provider_baseline(make_provider: Any, context: Any) -> float:
    """Seconds a connector provider takes to fetch, transform and map every page without the database:
    the baseline the connector benches compare a sync with. ``make_provider()`` builds one per page, as
    a sync does."""
    from tessera.services.connectors.mapping import map_document

    started = time.perf_counter()
    cursor = None
    while True:
        provider = make_provider()
        page = provider.fetch(cursor, context)
        for record in provider.transform(page, context):
            document = getattr(record, "document", None)
            if document is not None:
                map_document(document, provider.default_mapping)
                for target in provider.child_targets:
                    for _, child in record.children.get(target.object, ()):
                        map_document(child, target.mapping)
        if page.next_cursor is None:
            return time.perf_counter() - started
        cursor = page.next_cursor
