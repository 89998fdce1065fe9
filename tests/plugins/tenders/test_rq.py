"""A connector run through Redis and an rq worker: each page is a job the previous page queued.

Runs when ``TESSERA_TEST_REDIS_URL`` is set (CI sets it); skipped otherwise.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from tests.plugins.tenders.conftest import RUNS, Feed, Tenders, load

from tessera.jobs.transport import RqTransport
from tessera.jobs.worker import use_runtime
from tessera.services.connectors.runs import run_connector
from tessera.services.runtime import Actor, Runtime


@pytest.fixture
def rq_runtime(runtime: Runtime, redis_url: str | None) -> Iterator[Runtime]:
    if not redis_url:
        pytest.skip("needs Redis: set TESSERA_TEST_REDIS_URL")
    config = replace(runtime.config, redis_url=redis_url,
                     jobs=replace(runtime.config.jobs, queue_name=f"tq{uuid.uuid4().hex[:8]}"))
    rt = Runtime(config)
    rt.transport = RqTransport(rt)
    try:
        yield rt
    finally:
        Queue(config.jobs.queue_name, connection=Redis.from_url(redis_url)).empty()
        rt.close()


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
