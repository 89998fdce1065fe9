"""Connector sync benchmark: 10,000 OCDS releases through the tenders connector, in releases per second.

Releases are generated from the shape of the standard's worked example (tender, tender update,
amendment, award; 2,500 processes × 4 releases), written as release packages of 500 releases in a
folder, then synced by ``connector.sync`` jobs (one package per page and transaction). The baseline,
in the same run, is the provider's own work alone — reading, compiling every process and building
the records, without any database write — so the ratio shows what the write path costs.

    python -m bench.connector_sync                 # SQLite
    TESSERA_BENCH_DATABASE_URL=postgresql+psycopg://root@127.0.0.1:5432/test python -m bench.connector_sync
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
from tessera.services.runtime import Actor
from tessera.testing import new_tenant
from tessera_tenders.feed import TenderFeed

OCDS = Path(__file__).parents[1] / "tests" / "fixtures" / "ocds" / "worked-example-updates"
PROCESSES = 2_500
PER_PACKAGE = 500


def releases() -> list[dict[str, Any]]:
    shapes = [json.loads((OCDS / f"{n}.json").read_text())["releases"][0] for n in ("tender1", "tender2", "tender3", "award1")]
    found = []
    for number in range(PROCESSES):
        ocid = f"ocds-bench-{number:06d}"
        for shape in shapes:
            release = copy.deepcopy(shape)
            release["ocid"] = ocid
            release["id"] = f"{ocid}-{shape['id'].rsplit('-', 1)[-1]}"
            release["tender"] = {**release.get("tender", {}), "title": f"Bench tender {number}"} if "tender" in release else None
            if release["tender"] is None:
                del release["tender"]
            found.append(release)
    return found


def write_packages(folder: Path, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), PER_PACKAGE):
        package = {"version": "1.1", "publishedDate": "2016-03-01T00:00:00Z", "releases": items[start:start + PER_PACKAGE]}
        (folder / f"package-{start // PER_PACKAGE:03d}.json").write_text(json.dumps(package))


class _NoStore:
    tenant_slug = "bench"
    config: dict[str, Any] = {}
    http = None

    def records(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        return []


def baseline(folder: Path) -> float:
    """Seconds to read, compile and map every package without writing."""
    return provider_baseline(lambda: TenderFeed({"source": str(folder)}), _NoStore())


def main() -> None:
    with bench_runtime() as (rt, tmp):
        folder = Path(tmp) / "packages"
        folder.mkdir()
        items = releases()
        write_packages(folder, items)
        floor = baseline(folder)
        created = new_tenant(rt)
        admin = Actor(created.tenant, created.admin_user_id, "cli")
        install_plugin(rt, admin, "tenders")
        admin = replace(admin, tenant=rt.tenant(created.tenant.slug))
        create_connector(rt, admin, {"name": "bench", "plugin": "tenders", "config": {"source": str(folder)}})
        started = time.perf_counter()
        run = run_connector(rt, admin, "bench")
        elapsed = time.perf_counter() - started
        assert run.status == "SUCCEEDED", run
        print(f"backend: {rt.dialect}; {len(items)} releases, {PROCESSES} processes, {run.pages} pages")
        print(f"sync: {elapsed:.2f} s = {len(items) / elapsed:,.0f} releases/s "
              f"(created {run.created}, failed {run.failed})")
        print(f"baseline (read + compile + map, no writes): {floor:.2f} s = {len(items) / floor:,.0f} releases/s")
        print(f"ratio sync / baseline: {elapsed / floor:.1f}x")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
