"""Formula-filter benchmark: counting 100,000 records by a formula field against the same predicate
written by hand in SQL.

Each case is a formula field and the predicate an engineer would write for it directly. Three
timings per case, medians of repeated runs in the same process:

- **hand**: ``SELECT count(*) … WHERE <hand-written predicate>`` with SQLAlchemy Core;
- **compiled**: the same count with the filter Tessera compiles from the formula (``QueryCompiler``);
- **graphql**: ``benchDeals(filter: {<formula>: …}) { totalCount }`` through the GraphQL service.

    python -m bench.formula_filter                 # SQLite
    TESSERA_BENCH_DATABASE_URL=postgresql+psycopg://root@127.0.0.1:5432/test python -m bench.formula_filter
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from bench.common import bench_runtime, median, serve
from tessera.api.graphql_view import GraphQLService
from tessera.core.clock import utcnow
from tessera.core.ids import new_id
from tessera.model.records.query import QueryCompiler
from tessera.services.metadata import create_field, create_object
from tessera.services.runtime import Actor
from tessera.testing import new_tenant

RECORDS = 100_000
REPEATS = 9
FIELDS = [
    {"name": "title", "type": "TEXT", "maxLength": 120},
    {"name": "amount", "type": "CURRENCY"},
    {"name": "probability", "type": "PERCENT"},
    {"name": "stage", "type": "PICKLIST", "options": [{"value": "open"}, {"value": "won"}, {"value": "lost"}]},
    {"name": "closeDate", "type": "DATE"},
]
FORMULAS = [
    {"name": "weighted", "type": "FORMULA", "resultType": "CURRENCY", "expression": "amount * probability / 100"},
    {"name": "bigOpen", "type": "FORMULA", "resultType": "BOOLEAN",
     "expression": 'AND(ISPICKVAL(stage, "open"), amount >= 50000)'},
    {"name": "followUp", "type": "FORMULA", "resultType": "DATE", "expression": "ADDDAYS(closeDate, 14)"},
]


def _cases(table: sa.Table, dialect: str) -> list[tuple[str, dict[str, Any], sa.ColumnElement[bool]]]:
    """(formula, GraphQL filter, the hand-written predicate meaning the same)."""
    c = table.c
    return [
        ("weighted", {"weighted": {"gt": "20000"}},
         sa.func.round(c.amount * c.probability / 100, 2) > 20000),
        ("bigOpen", {"bigOpen": {"eq": True}},
         sa.and_(c.stage == "open", c.amount >= 50000)),
        ("followUp", {"followUp": {"lt": "2026-03-01"}},
         _add_days(c.close_date, 14, dialect) < date(2026, 3, 1)),
    ]


def _add_days(column: Any, days: int, dialect: str) -> Any:
    if dialect == "sqlite":
        return sa.func.date(column, f"+{days} days")
    return column + days


def _rows(count: int) -> list[dict[str, Any]]:
    now = utcnow()
    start = date(2026, 1, 1)
    return [
        {
            "id": new_id(), "created_at": now, "updated_at": now, "version": 1,
            "title": f"Deal {i}", "amount": Decimal(f"{(i * 7919) % 100000}.{i % 100:02d}"),
            "probability": Decimal((i * 13) % 101), "stage": ("open", "won", "lost")[i % 3],
            "close_date": start + timedelta(days=i % 180),
        }
        for i in range(count)
    ]


def _count(rt: Any, table: sa.Table, where: sa.ColumnElement[bool]) -> Callable[[], float]:
    query = sa.select(sa.func.count()).select_from(table).where(table.c.deleted_at.is_(None), where)

    def run() -> float:
        started = time.perf_counter()
        with rt.db.tenant(table.schema).connect() as conn:
            conn.execute(query).scalar_one()
        return time.perf_counter() - started

    return run


def _graphql(service: GraphQLService, rt: Any, token: str, filter_: dict[str, Any]) -> Callable[[], float]:
    query = "query($f: BenchDealFilter) { benchDeals(filter: $f) { totalCount } }"

    def run() -> float:
        started = time.perf_counter()
        result = serve(service, rt, token, {"query": query, "variables": {"f": filter_}})
        assert "errors" not in result, result["errors"]
        return time.perf_counter() - started

    return run


def main() -> None:
    with bench_runtime() as (rt, _tmp):
        created = new_tenant(rt, "bench")
        actor = Actor(created.tenant, created.admin_user_id, "import")
        create_object(rt, actor, {"name": "benchDeal", "pluralName": "benchDeals", "fields": FIELDS})
        for formula in FORMULAS:
            create_field(rt, Actor(rt.tenant("bench"), created.admin_user_id), {"object": "benchDeal", **formula})
        tenant = rt.tenant("bench")
        with rt.db.system.connect() as conn:
            model = rt.model(conn, tenant)
        table = model.tables.table("benchDeal")
        with rt.db.tenant(tenant.schema_name).begin() as conn:
            rows = _rows(RECORDS)
            for start in range(0, RECORDS, 10_000):
                conn.execute(table.insert(), rows[start:start + 10_000])
        service = GraphQLService(rt)
        compiler = QueryCompiler(model.field_sql(rt.dialect))
        obj = model.meta.by_name["benchDeal"]
        print(f"backend: {rt.dialect}; {RECORDS:,} records; median of {REPEATS} runs; ratios against hand")
        print(f"{'formula':>10} {'matches':>8} {'hand ms':>8} {'compiled':>9} {'ratio':>6} {'graphql':>8} {'ratio':>6}")
        for name, filter_, hand_where in _cases(table, rt.dialect):
            compiled_where = compiler.where(obj, filter_)
            with rt.db.tenant(tenant.schema_name).connect() as conn:
                expected = conn.execute(sa.select(sa.func.count()).select_from(table).where(
                    table.c.deleted_at.is_(None), hand_where)).scalar_one()
                got = conn.execute(sa.select(sa.func.count()).select_from(table).where(compiled_where)).scalar_one()
            assert got == expected, f"{name}: formula filter counts {got}, hand-written {expected}"
            hand = median(_count(rt, table, hand_where), REPEATS)
            compiled = median(_count(rt, table, compiled_where), REPEATS)
            api = median(_graphql(service, rt, created.token, filter_), REPEATS)
            print(f"{name:>10} {expected:>8} {hand * 1000:>8.1f} {compiled * 1000:>9.1f} {compiled / hand:>6.2f} "
                  f"{api * 1000:>8.1f} {api / hand:>6.2f}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
