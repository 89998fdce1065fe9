"""List-query benchmark: GraphQL list of N records × 10 scalar fields against the floor.

"walked" is the same reader handing its rows to graphql-core to complete leaf by leaf, the cost
of a resolver-per-field design. The floor is the same rows read with a hand-written SQLAlchemy Core query, turned into dicts and
``json.dumps``-ed, in the same run. Reported as ratios (GraphQL time / floor time), median of
repeated runs, because these machines are noisy.

    python -m bench.list_queries                 # SQLite
    TESSERA_BENCH_DATABASE_URL=postgresql+psycopg://root@127.0.0.1:5432/test python -m bench.list_queries
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from graphql import ExecutionContext, execute, parse

from bench.common import bench_runtime, median, serve
from tessera.api.context import RequestContext
from tessera.api.execution import Precompiled, TesseraExecutionContext
from tessera.api.graphql_view import GraphQLService
from tessera.core.config import Limits
from tessera.services.metadata import create_object
from tessera.services.records import create_records
from tessera.services.runtime import Actor
from tessera.services.tokens import authenticate
from tessera.testing import new_tenant

SIZES = (100, 1_000, 10_000)
FIELDS = [
    {"name": "title", "type": "TEXT", "maxLength": 200},
    {"name": "code", "type": "TEXT", "maxLength": 40},
    {"name": "city", "type": "TEXT", "maxLength": 80},
    {"name": "quantity", "type": "INTEGER"},
    {"name": "rank", "type": "INTEGER"},
    {"name": "price", "type": "CURRENCY"},
    {"name": "cost", "type": "NUMBER", "precision": 12, "scale": 3},
    {"name": "dueOn", "type": "DATE"},
    {"name": "active", "type": "BOOLEAN"},
    {"name": "status", "type": "PICKLIST", "options": [{"value": "open"}, {"value": "won"}, {"value": "lost"}]},
]
NAMES = [f["name"] for f in FIELDS]
QUERY = "query($n: Int!) { benchItems(first: $n) { edges { node { " + " ".join(NAMES) + " } } } }"


def _rows(count: int) -> list[dict[str, Any]]:
    start = date(2026, 1, 1)
    return [
        {
            "title": f"Item number {i}", "code": f"C-{i:06d}", "city": ("Shanghai", "Berlin", "Austin")[i % 3],
            "quantity": i % 1000, "rank": i, "price": f"{(i * 37) % 100000}.{i % 100:02d}",
            "cost": f"{i % 5000}.{i % 1000:03d}", "dueOn": (start + timedelta(days=i % 365)).isoformat(),
            "active": i % 2 == 0, "status": ("open", "won", "lost")[i % 3],
        }
        for i in range(count)
    ]


def _floor(rt: Any, table: sa.Table, n: int) -> float:
    columns = [table.c[c] for c in ("title", "code", "city", "quantity", "rank", "price", "cost", "due_on", "active", "status")]
    started = time.perf_counter()
    with rt.db.tenant(table.schema).connect() as conn:
        rows = conn.execute(sa.select(*columns).where(table.c.deleted_at.is_(None)).order_by(table.c.id).limit(n)).all()
    out = []
    for r in rows:
        out.append({
            "title": r[0], "code": r[1], "city": r[2], "quantity": r[3], "rank": r[4],
            "price": str(r[5]) if isinstance(r[5], Decimal) else r[5], "cost": str(r[6]),
            "dueOn": r[7].isoformat(), "active": r[8], "status": r[9],
        })
    json.dumps({"data": {"benchItems": {"edges": [{"node": o} for o in out]}}})
    return time.perf_counter() - started



def _graphql(service: GraphQLService, rt: Any, token: str, n: int) -> float:
    started = time.perf_counter()
    result = serve(service, rt, token, {"query": QUERY, "variables": {"n": n}})
    json.dumps(result, ensure_ascii=False, separators=(",", ":"))
    elapsed = time.perf_counter() - started
    assert "errors" not in result and len(result["data"]["benchItems"]["edges"]) == n, result.get("errors")
    return elapsed


class WalkedExecutionContext(TesseraExecutionContext):
    """Baseline: hands the reader's rows to graphql-core to complete leaf by leaf (no splice)."""

    def complete_value(self, return_type, field_nodes, info, path, result):  # type: ignore[no-untyped-def]
        if type(result) is Precompiled:
            result = result.value
        return ExecutionContext.complete_value(self, return_type, field_nodes, info, path, result)


def _walked(service: GraphQLService, rt: Any, token: str, n: int) -> float:
    with rt.db.system.connect() as conn:
        principal = authenticate(conn, token)
        model = rt.model(conn, principal.tenant)
    built = service.schemas.get(model.meta, principal.tenant.id)
    schema = built.graphql_schema
    document = parse(QUERY)
    started = time.perf_counter()
    with RequestContext(rt, principal, model, meta=built.meta) as ctx:
        result = execute(schema, document, context_value=ctx, variable_values={"n": n},
                         execution_context_class=WalkedExecutionContext)
    json.dumps({"data": result.data}, ensure_ascii=False, separators=(",", ":"))
    elapsed = time.perf_counter() - started
    assert not result.errors, result.errors
    return elapsed



def main() -> None:
    with bench_runtime(limits=Limits(max_page_size=max(SIZES), max_bulk_rows=max(SIZES))) as (rt, _tmp):
        created = new_tenant(rt, "bench")
        actor = Actor(created.tenant, created.admin_user_id, "import")
        create_object(rt, actor, {"name": "benchItem", "pluralName": "benchItems", "fields": FIELDS})
        tenant = rt.tenant("bench")
        actor = Actor(tenant, created.admin_user_id, "import")
        with rt.db.system.connect() as conn:
            model = rt.model(conn, tenant)
        create_records(rt, actor, model, "benchItem", _rows(max(SIZES)))
        table = model.tables.table("benchItem")
        service = GraphQLService(rt)
        print(f"backend: {rt.dialect}; median of repeated runs; ratio = GraphQL / floor")
        print(f"{'records':>8} {'floor ms':>9} {'graphql ms':>10} {'ratio':>6} {'walked ms':>10} {'ratio':>6}")
        for n in SIZES:
            repeats = 30 if n <= 1000 else 7
            floor = median(lambda n=n: _floor(rt, table, n), repeats)
            api = median(lambda n=n: _graphql(service, rt, created.token, n), repeats)
            walked = median(lambda n=n: _walked(service, rt, created.token, n), repeats)
            print(f"{n:>8} {floor * 1000:>9.2f} {api * 1000:>10.2f} {api / floor:>6.2f} "
                  f"{walked * 1000:>10.2f} {walked / floor:>6.2f}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
