"""Registry refresh benchmark: 5,000 accounts refreshed from their LEI records, in accounts per second.

LEI records are generated in the shape of a real GLEIF record (Shell plc's, shipped with the plugin),
each with its own LEI, name and number, and saved as list responses of 500 in a folder; 5,000
accounts hold those LEIs. The ``gleif`` connector then refreshes them, 100 per page and transaction
(``batchSize``): a first run writes the registry fields of every account (and one risk event per
account sampled as lapsed), a second run finds them all unchanged. The baseline, in the same run, is
the provider's own work alone — reading the accounts' pages from memory, looking their records up,
detecting risk events and mapping the fields — without any database access.

    python -m bench.registry_refresh                 # SQLite
    TESSERA_BENCH_DATABASE_URL=postgresql+psycopg://root@127.0.0.1:5432/test python -m bench.registry_refresh
"""

from __future__ import annotations

import copy
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.common import bench_runtime, provider_baseline
from tessera.services.connectors.instances import create_connector
from tessera.services.connectors.runs import run_connector
from tessera.services.plugins import install_plugin
from tessera.services.records.write import RecordWriter
from tessera.services.runtime import Actor
from tessera.testing import new_tenant
from tessera_registry.gleif import GleifRegistry
from tessera_registry.sample import DATA

ACCOUNTS = 5_000
PER_FILE = 500
BATCH = 100
LAPSED_EVERY = 50


def lei(number: int) -> str:
    prefix = f"5493BENCH{number:09d}"
    check = 98 - int("".join(str(int(c, 36)) for c in prefix + "00")) % 97
    return f"{prefix}{check:02d}"


def records() -> list[dict[str, Any]]:
    shape = json.loads((DATA / "lei-record-21380068P1DRHMJ8KU70-shell-issued.json").read_text())["data"]
    found = []
    for number in range(ACCOUNTS):
        record = copy.deepcopy(shape)
        record["id"] = record["attributes"]["lei"] = lei(number)
        record["attributes"]["entity"]["legalName"]["name"] = f"BENCH TRADING {number} LIMITED"
        record["attributes"]["entity"]["registeredAs"] = f"{number:08d}"
        if number % LAPSED_EVERY == 0:
            record["attributes"]["registration"]["status"] = "LAPSED"
        found.append(record)
    return found


class _Memory:
    """A sync context answering the accounts' pages from memory (the baseline)."""

    tenant_slug = "bench"
    config: dict[str, Any] = {}
    http = None

    def __init__(self, accounts: list[dict[str, Any]]) -> None:
        self.accounts = accounts

    def records(self, object_name: str, *, fields: Any, filter: Any = None, order_by: Any = None,
                limit: int | None = None) -> list[dict[str, Any]]:
        after = (filter or {}).get("lei", {}).get("gt")
        rows = [a for a in self.accounts if after is None or a["lei"] > after]
        return rows[:limit]


def baseline(folder: Path, accounts: list[dict[str, Any]]) -> float:
    """Seconds to page through the accounts, look their records up, detect risks and map, without writing."""
    return provider_baseline(lambda: GleifRegistry({"source": str(folder), "batchSize": BATCH}), _Memory(accounts))


def main() -> None:
    with bench_runtime() as (rt, tmp):
        folder = Path(tmp) / "gleif"
        folder.mkdir()
        found = records()
        for start in range(0, len(found), PER_FILE):
            (folder / f"lei-records-{start // PER_FILE:03d}.json").write_text(json.dumps({"data": found[start:start + PER_FILE]}))
        accounts = [{"id": f"a{n}", "name": f"Bench {n}", "owner": None, "lei": lei(n), "registryLegalName": None,
                     "entityStatus": None, "registrationStatus": None, "successorLei": None, "successorName": None}
                    for n in range(ACCOUNTS)]
        accounts.sort(key=lambda a: a["lei"])
        floor = baseline(folder, accounts)

        created = new_tenant(rt)
        admin = Actor(created.tenant, created.admin_user_id, "cli")
        install_plugin(rt, admin, "registry")
        admin = replace(admin, tenant=rt.tenant(created.tenant.slug))
        with rt.write(admin.tenant) as conn:
            writer = RecordWriter(conn, rt.model(conn, admin.tenant), admin, rt.config.limits, rt.plugins)
            for start in range(0, ACCOUNTS, 1_000):
                writer.create("account", [{"name": a["name"], "lei": a["lei"]} for a in accounts[start:start + 1_000]])
        create_connector(rt, admin, {"name": "bench", "plugin": "registry",
                                     "config": {"source": str(folder), "batchSize": BATCH}})
        started = time.perf_counter()
        first = run_connector(rt, admin, "bench")
        refresh = time.perf_counter() - started
        started = time.perf_counter()
        second = run_connector(rt, admin, "bench")
        unchanged = time.perf_counter() - started
        assert first.status == second.status == "SUCCEEDED", (first, second)
        assert (first.updated, second.unchanged) == (ACCOUNTS, ACCOUNTS), (first, second)
        risks = first.counts.get("riskEvent", {}).get("created", 0)
        print(f"backend: {rt.dialect}; {ACCOUNTS} accounts, {first.pages} pages of {BATCH}, {risks} risk events")
        print(f"first refresh (every account written): {refresh:.2f} s = {ACCOUNTS / refresh:,.0f} accounts/s")
        print(f"second refresh (all unchanged): {unchanged:.2f} s = {ACCOUNTS / unchanged:,.0f} accounts/s")
        print(f"baseline (page, look up, detect, map; no database): {floor:.2f} s = {ACCOUNTS / floor:,.0f} accounts/s")
        print(f"ratio first / baseline: {refresh / floor:.1f}x; second / baseline: {unchanged / floor:.1f}x")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
