"""Grouped-report benchmark: stage × close month, SUM(amount) and COUNT over 1,000,000 records,
against the hand-written SQL for the same figures, in the same run.

Three timings, medians of repeated runs in the same process:

- **hand**: ``SELECT stage, <month of close_date>, sum(amount), count(*) … GROUP BY 1, 2`` with
  SQLAlchemy Core, rows fetched into Python;
- **report**: ``run_definition`` (compile for the caller, execute, shape rows, totals and chart);
- **graphql**: ``runReport(definition: …)`` through the GraphQL service (token, model and access
  lookups included).

The rows are inserted in bulk (``executemany`` in batches on SQLite, ``COPY`` on PostgreSQL), not
through the write path, which is not what is measured here.

    python -m bench.report_grouped                  # SQLite
    TESSERA_BENCH_DATABASE_URL=postgresql+psycopg://root@127.0.0.1:5432/test python -m bench.report_grouped
    TESSERA_BENCH_RECORDS=100000 python -m bench.report_grouped   # a quicker run
"""

from __future__ import annotations

import os
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
from tessera.services.metadata import create_object
from tessera.services.reports.run import run_definition
from tessera.services.runtime import Actor, Runtime
from tessera.testing import new_tenant

RECORDS = int(os.environ.get("TESSERA_BENCH_RECORDS", "1000000"))
REPEATS = 5
BATCH = 20_000
STAGES = ("prospecting", "qualification", "proposal", "negotiation", "closedWon", "closedLost")
FIELDS = [
    {"name": "title", "type": "TEXT", "maxLength": 120},
    {"name": "amount", "type": "CURRENCY"},
    {"name": "stage", "type": "PICKLIST", "options": [{"value": s} for s in STAGES]},
    {"name": "closeDate", "type": "DATE"},
]
DEFINITION = {
    "object": "benchDeal",
    "groupBy": [{"field": "stage"}, {"field": "closeDate", "bucket": "MONTH"}],
    "measures": [{"function": "SUM", "field": "amount", "alias": "amount"}, {"function": "COUNT", "alias": "n"}],
}
QUERY = "query($d: ReportDefinitionInput!) { runReport(definition: $d) { rows totals } }"


def _row(i: int, now: Any, start: date) -> dict[str, Any]:
    return {"id": new_id(), "created_at": now, "updated_at": now, "version": 1, "title": f"Deal {i}",
            "amount": Decimal(f"{(i * 7919) % 100000}.{i % 100:02d}") if i % 13 else None,
            "stage": STAGES[(i * 7) % len(STAGES)], "close_date": start + timedelta(days=(i * 31) % 730)}


def _load(rt: Runtime, table: sa.Table, schema: str) -> None:
    now, start = utcnow(), date(2025, 1, 1)
    columns = ["id", "created_at", "updated_at", "version", "title", "amount", "stage", "close_date"]
    with rt.db.tenant(schema).begin() as conn:
        if rt.dialect == "postgresql":
            cursor = conn.connection.driver_connection.cursor()
            target = f'"{table.schema}"."{table.name}"' if table.schema else f'"{table.name}"'
            with cursor.copy(f"COPY {target} ({', '.join(columns)}) FROM STDIN") as copy:
                for i in range(RECORDS):
                    row = _row(i, now, start)
                    copy.write_row([row[c] for c in columns])
            return
        for first in range(0, RECORDS, BATCH):
            conn.execute(table.insert(), [_row(i, now, start) for i in range(first, min(first + BATCH, RECORDS))])


def _hand_statement(table: sa.Table, dialect: str) -> sa.Select[Any]:
    c = table.c
    month = sa.func.substr(c.close_date, 1, 7) if dialect == "sqlite" else sa.func.to_char(c.close_date, "YYYY-MM")
    return (sa.select(c.stage, month.label("month"), sa.func.sum(c.amount), sa.func.count())
            .where(c.deleted_at.is_(None)).group_by(c.stage, month).order_by(c.stage, month))


def _timed(fn: Callable[[], Any]) -> Callable[[], float]:
    def run() -> float:
        started = time.perf_counter()
        fn()
        return time.perf_counter() - started
    return run


def main() -> None:
    with bench_runtime() as (rt, _tmp):
        created = new_tenant(rt, "bench")
        actor = Actor(created.tenant, created.admin_user_id)
        create_object(rt, actor, {"name": "benchDeal", "pluralName": "benchDeals", "fields": FIELDS})
        tenant = rt.tenant("bench")
        actor = Actor(tenant, created.admin_user_id)
        with rt.db.system.connect() as conn:
            table = rt.model(conn, tenant).tables.table("benchDeal")
        started = time.perf_counter()
        _load(rt, table, tenant.schema_name)
        if rt.dialect == "postgresql":
            with rt.db.tenant(tenant.schema_name).begin() as conn:
                conn.exec_driver_sql(f'ANALYZE "{table.schema}"."{table.name}"')
        print(f"loaded {RECORDS:,} records in {time.perf_counter() - started:.1f} s")
        hand_query = _hand_statement(table, rt.dialect)

        def hand() -> list[Any]:
            with rt.db.tenant(tenant.schema_name).connect() as conn:
                return conn.execute(hand_query).all()

        expected = [[s, m, Decimal(str(a or 0)).quantize(Decimal("0.01")), n] for s, m, a, n in hand()]
        got = run_definition(rt, actor, DEFINITION)
        assert [[s, m, Decimal(a), n] for s, m, a, n in got.rows] == expected, "report and hand SQL disagree"
        service = GraphQLService(rt)

        def graphql() -> None:
            result = serve(service, rt, created.token, {"query": QUERY, "variables": {"d": DEFINITION}})
            assert "errors" not in result, result["errors"]

        hand_s = median(_timed(hand), REPEATS)
        report_s = median(_timed(lambda: run_definition(rt, actor, DEFINITION)), REPEATS)
        api_s = median(_timed(graphql), REPEATS)
        print(f"backend: {rt.dialect}; {RECORDS:,} records; {len(expected)} groups; median of {REPEATS} runs")
        print(f"hand {hand_s * 1000:.0f} ms | report {report_s * 1000:.0f} ms ({report_s / hand_s:.2f}x) | "
              f"graphql {api_s * 1000:.0f} ms ({api_s / hand_s:.2f}x)")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
