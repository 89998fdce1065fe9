"""A registry refresh through Redis and an rq worker: each page is a job the previous page queued.

Runs when ``TESSERA_TEST_REDIS_URL`` is set (CI sets it); skipped otherwise.
"""

from __future__ import annotations

from rq import SimpleWorker
from tests.plugins.registry.conftest import AMAZON, FUND, RUNS, SHELL, Gleif, Registry

from tessera.jobs.transport import RqTransport
from tessera.jobs.worker import use_runtime
from tessera.services.connectors.runs import run_connector
from tessera.services.runtime import Actor, Runtime


def test_pages_chain_through_rq(registry: Registry, gleif: Gleif, rq_runtime: Runtime) -> None:
    registry.accounts([{"name": "Amazon", "lei": AMAZON, "registryLegalName": "AMAZON VIDEO LIMITED"},
                       {"name": "Shell", "lei": SHELL}, {"name": "Fund", "lei": FUND}])
    registry.connector(gleif.base, batchSize=1)
    rt = rq_runtime
    actor = Actor(rt.tenant(registry.created.tenant.slug), registry.created.admin_user_id, "api")
    started = run_connector(rt, actor, "gleif")
    assert started.status == "RUNNING" and started.pages == 0  # queued to rq, not run in this process
    queue = RqTransport(rt).queue
    use_runtime(rt)
    SimpleWorker([queue], connection=queue.connection).work(burst=True)
    [run] = registry.admin.data(RUNS, {"n": "gleif"})["connectorRuns"]
    assert (run["status"], run["pages"], run["updated"], run["failed"]) == ("SUCCEEDED", 3, 3, 0)
    assert sorted(e["kind"] for e in registry.risks()) == ["legalNameChanged", "registrationLapsed"]
    assert len([h for h in gleif.hits if "filter[lei]" in h]) == 3
