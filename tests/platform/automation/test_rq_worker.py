"""Background jobs through real Redis and real ``tessera worker`` processes: nothing a committed change
queued is lost when Redis is down, and a worker killed with SIGKILL in the middle of a job leaves no
lost and no duplicated effect once the reaper and another worker have recovered.

These tests need Redis: they run when ``TESSERA_TEST_REDIS_URL`` is set (CI sets it, and then an
unreachable Redis fails them) and are skipped otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from redis import Redis
from rq import Queue, SimpleWorker

from tessera.jobs.transport import RqTransport, dispatch
from tessera.jobs.worker import use_runtime
from tessera.services import records as record_service
from tessera.services.automation import workflows as workflow_service
from tessera.services.runtime import Actor, Runtime
from tessera.services.tenants import CreatedTenant
from tessera.storage.system_tables import outbox, webhook_deliveries
from tessera.testing import tenant_scope

SECRET = "a-secret-of-at-least-16"


@pytest.fixture
def rq_runtime(runtime: Runtime, redis_url: str | None) -> Iterator[Runtime]:
    """A second runtime on the session's database whose jobs go through Redis (own queue)."""
    if not redis_url:
        pytest.skip("needs Redis: set TESSERA_TEST_REDIS_URL")
    config = replace(runtime.config, redis_url=redis_url,
                     jobs=replace(runtime.config.jobs, queue_name=f"tq{uuid.uuid4().hex[:8]}", timeout_seconds=2,
                                  retry_base_seconds=0.2))
    rt = Runtime(config)
    rt.transport = RqTransport(rt)
    try:
        yield rt
    finally:
        Queue(config.jobs.queue_name, connection=Redis.from_url(redis_url)).empty()
        rt.close()


def _admin(rt: Runtime, created: CreatedTenant) -> Actor:
    return Actor(rt.tenant(created.tenant.slug), created.admin_user_id, "api")


def _create_deal(rt: Runtime, actor: Actor) -> None:
    with rt.read(actor.tenant) as conn:
        model = rt.model(conn, actor.tenant)
    record_service.create_records(rt, actor, model, "opportunity", [{"name": "Deal", "closeDate": "2026-12-01"}])


def _activities(rt: Runtime, actor: Actor, subject: str) -> int:
    with rt.read(actor.tenant) as conn:
        model = rt.model(conn, actor.tenant)
        table = model.tables.table("activity")
        column = table.c[model.meta.by_name["activity"].field("subject").column_name]  # type: ignore[union-attr]
        return conn.execute(sa.select(sa.func.count()).select_from(table).where(column == subject)).scalar_one()


def _jobs(rt: Runtime, tenant_id: str) -> list[dict[str, Any]]:
    with rt.db.system.connect() as conn:
        return [dict(r) for r in conn.execute(
            sa.select(outbox.c.kind, outbox.c.status, outbox.c.attempts).where(outbox.c.tenant_id == tenant_id)
        ).mappings()]


def test_redis_down_when_a_record_is_saved_loses_nothing(rq_runtime: Runtime, redis_url: str) -> None:
    rt = rq_runtime
    with tenant_scope(rt) as created:
        actor = _admin(rt, created)
        workflow_service.create_workflow(rt, actor, {
            "object": "opportunity", "name": "followUp", "trigger": {"event": "CREATED"},
            "actions": [{"type": "CREATE_RECORD", "object": "activity", "link": "opportunity",
                         "values": {"subject": "call the buyer", "activityType": "call"}}],
        })
        # given Redis unreachable for this process
        down = Runtime(replace(rt.config, redis_url="redis://127.0.0.1:1/0"))
        down.transport = RqTransport(down)
        try:
            # when a record is saved, the save succeeds and its follow-up waits in the outbox
            _create_deal(down, actor)
        finally:
            down.close()
        assert [(j["kind"], j["status"]) for j in _jobs(rt, actor.tenant.id)] == [("workflow.run", "PENDING")]
        assert _activities(rt, actor, "call the buyer") == 0
        # then once Redis is back, the relay sends it and a worker runs it exactly once
        queue = RqTransport(rt).queue
        assert dispatch(rt, queue) == 1
        assert dispatch(rt, queue) == 0
        use_runtime(rt)
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
        assert _activities(rt, actor, "call the buyer") == 1
        assert [(j["kind"], j["status"]) for j in _jobs(rt, actor.tenant.id)] == [("workflow.run", "DONE")]


class _Receiver(BaseHTTPRequestHandler):
    """Blocks the first delivery until told to let go (its worker is killed meanwhile); accepts later ones."""

    seen: list[str]
    accepted: list[str]
    first_arrived: threading.Event
    release: threading.Event

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(expected, self.headers["X-Tessera-Signature"])
        delivery = self.headers["X-Tessera-Delivery"]
        self.seen.append(delivery)
        if len(self.seen) == 1:
            self.first_arrived.set()
            self.release.wait(30)
            return  # the worker that sent this is dead by now: nobody reads an answer
        if delivery not in self.accepted:
            self.accepted.append(delivery)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def _worker(rt: Runtime, log: Path) -> subprocess.Popen[bytes]:
    config = rt.config
    env = dict(os.environ)
    env.update({
        "TESSERA_DATA_DIR": str(config.data_dir), "TESSERA_DATABASE_URL": config.database_url,
        "TESSERA_SCHEMA_PREFIX": config.schema_prefix, "TESSERA_SECRET_KEY": config.secret_key,
        "TESSERA_REDIS_URL": config.redis_url or "", "TESSERA_QUEUE": config.jobs.queue_name,
        "TESSERA_JOB_TIMEOUT_SECONDS": str(config.jobs.timeout_seconds), "TESSERA_JOB_RETRY_BASE_SECONDS": "0.2",
        "TESSERA_ALLOW_PRIVATE_NETWORKS": "1",  # the webhook receiver listens on loopback
    })
    executable = Path(sys.executable).parent / "tessera"
    with log.open("ab") as out:
        return subprocess.Popen([str(executable), "worker", "--no-scheduler"], env=env, stdout=out,
                                stderr=subprocess.STDOUT)


def _wait(condition: Any, seconds: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{log.read_text(errors='replace')[-3000:]}"
        time.sleep(0.05)


@pytest.mark.slow
def test_worker_killed_mid_job_loses_nothing_and_duplicates_nothing(rq_runtime: Runtime, tmp_path: Path) -> None:
    rt = rq_runtime
    handler = type("Receiver", (_Receiver,), {"seen": [], "accepted": [], "first_arrived": threading.Event(),
                                              "release": threading.Event()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    log = tmp_path / "workers.log"
    workers: list[subprocess.Popen[bytes]] = []
    try:
        with tenant_scope(rt) as created:
            actor = _admin(rt, created)
            workflow_service.create_workflow(rt, actor, {
                "object": "opportunity", "name": "toErp", "trigger": {"event": "CREATED"},
                "actions": [
                    {"type": "CREATE_RECORD", "object": "activity", "link": "opportunity",
                     "values": {"subject": "sent to ERP", "activityType": "task"}},
                    {"type": "WEBHOOK", "url": f"http://127.0.0.1:{server.server_port}/hook", "secret": SECRET,
                     "timeoutSeconds": 30},
                ],
            })
            _create_deal(rt, actor)
            workers.append(_worker(rt, log))
            # when the worker is in the middle of the delivery, it is killed
            _wait(handler.first_arrived.is_set, 30, "the first delivery", log)
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(timeout=10)
            handler.release.set()
            with rt.db.system.connect() as conn:
                stuck = conn.execute(sa.select(outbox.c.status).where(
                    outbox.c.tenant_id == actor.tenant.id, outbox.c.kind == "webhook.deliver")).scalar_one()
            assert stuck == "RUNNING"
            # then a new worker's reaper puts the abandoned job back once its lease ran out, and it is delivered
            workers.append(_worker(rt, log))

            def delivered() -> bool:
                with rt.db.system.connect() as conn:
                    return conn.execute(sa.select(webhook_deliveries.c.status).where(
                        webhook_deliveries.c.tenant_id == actor.tenant.id)).scalar_one() == "DELIVERED"

            _wait(delivered, 40, "the delivery after recovery", log)
            with rt.db.system.connect() as conn:
                delivery = conn.execute(sa.select(webhook_deliveries).where(
                    webhook_deliveries.c.tenant_id == actor.tenant.id)).mappings().one()
            # the same delivery (id and body) was sent twice and accepted once; nothing else ran twice
            assert handler.seen == [delivery["id"], delivery["id"]]
            assert handler.accepted == [delivery["id"]]
            assert json.loads(delivery["body"])["deliveryId"] == delivery["id"]
            assert delivery["attempts"] == 2
            assert _activities(rt, actor, "sent to ERP") == 1
            assert sorted((j["kind"], j["status"]) for j in _jobs(rt, actor.tenant.id)) == [
                ("webhook.deliver", "DONE"), ("workflow.run", "DONE")]
    finally:
        for process in workers:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
        server.shutdown()
        server.server_close()
