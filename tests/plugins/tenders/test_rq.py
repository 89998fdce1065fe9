"""A connector run through Redis and an rq worker: each page is a job the previous page queued.

Runs when ``TESSERA_TEST_REDIS_URL`` is set (CI sets it); skipped otherwise.
"""

from __future__ import annotations

from rq import SimpleWorker
from tests.plugins.tenders.conftest import RUNS, Feed, Tenders, load

from tessera.jobs.transport import RqTransport
from tessera.jobs.worker import use_runtime
from tessera.services.connectors.runs import run_connector
from tessera.services.runtime import Actor, Runtime


def test_pages_chain_through_rq(tenders: Tenders, feed: Feed, rq_runtime: Runtime) -> None:
    first = load("fictional-1.1-release-package-ocds-213czf-000-00001.json")
    first["links"] = {"next": f"{feed.url}/pages/two"}
    feed.pages["one"] = first
    feed.pages["two"] = load("worked-example-updates/tender1.json")
    tenders.connector("chain", f"{feed.url}/pages/one")
    rt = rq_runtime
    actor = Actor(rt.tenant(tenders.created.tenant.slug), tenders.created.admin_user_id, "api")
    started = run_connector(rt, actor, "chain")
    assert started.status == "RUNNING" and started.pages == 0  # queued to rq, not run in this process
    queue = RqTransport(rt).queue
    use_runtime(rt)
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    [run] = tenders.admin.data(RUNS, {"n": "chain"})["connectorRuns"]
    assert (run["status"], run["pages"], run["created"], run["failed"]) == ("SUCCEEDED", 2, 2, 0)
    assert len(tenders.tenders()) == 2
