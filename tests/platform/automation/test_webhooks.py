"""Webhook actions against a real HTTP receiver on loopback.

The receiver (``http.server`` in a thread, an ephemeral port on 127.0.0.1) checks
``X-Tessera-Signature`` with the shared secret over the raw body, records every request with its
``X-Tessera-Delivery`` id, and can be told to answer the next requests with 500 or to hang past the
webhook's ``timeoutSeconds``. It accepts a delivery (answers 2xx) only when the signature is right.

The module's runtime retries fast (``retry_base_seconds`` 0.1); retries are run with
``outbox.run_due`` once their backoff has passed.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa

from tessera.services.automation import outbox as outbox_service
from tessera.services.runtime import Runtime
from tessera.storage.system_tables import outbox
from tessera.testing import GraphQLClient, make_app, migrated_runtime, tenant_scope

RETRY_BASE = 0.1
SECRET = "s3cret-for-the-receiver-" + uuid.uuid4().hex[:8]

CREATE_WORKFLOW = "mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { name version } }"
DELETE_WORKFLOW = "mutation($n: String!) { deleteWorkflow(name: $n) { name } }"
WORKFLOWS = "{ workflows { name } }"
DELIVERIES = """
query($w: String, $s: String) {
  webhookDeliveries(workflow: $w, status: $s) { id workflow url status attempts responseStatus lastError durationMs body } }
"""
RUNS = "query($w: String) { workflowRuns(workflow: $w) { status recordId version } }"
JOBS = "query($s: JobStatus) { jobs(status: $s, first: 200) { id kind key status attempts maxAttempts lastError } }"
CREATE_OPP = "mutation($d: OpportunityCreateInput!) { createOpportunity(data: $d) { id name amount owner { id } } }"
CREATE_USER = "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }"
CREATE_TOKEN = "mutation($i: CreateApiTokenInput!) { createApiToken(input: $i) { token } }"


# --- the receiver ---------------------------------------------------------------------------------
@dataclass
class Request:
    delivery: str | None
    body: bytes
    signed: bool
    arrived: datetime
    headers: dict[str, str]


@dataclass
class Receiver:
    secret: str
    requests: list[Request] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    fail_next: int = 0
    hang_next: int = 0
    hang_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.accepted.clear()
            self.fail_next = self.hang_next = 0

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        expected = "sha256=" + hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        signed = hmac.compare_digest(expected, handler.headers.get("X-Tessera-Signature") or "")
        delivery = handler.headers.get("X-Tessera-Delivery")
        with self.lock:
            self.requests.append(Request(delivery, body, signed, datetime.now(UTC), dict(handler.headers)))
            if self.hang_next:
                self.hang_next -= 1
                verdict = "hang"
            elif self.fail_next:
                self.fail_next -= 1
                verdict = "fail"
            else:
                verdict = "ok" if signed else "forged"
        if verdict == "hang":
            time.sleep(self.hang_seconds)  # the sender gave up long ago: close without an answer
            return
        status = {"ok": 200, "fail": 500, "forged": 401}[verdict]
        handler.send_response(status)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        if status == 200:
            with self.lock:
                self.accepted.append(delivery or "")


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    state = Receiver(SECRET)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            state.handle(self)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/tessera"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


# --- the module's runtime and tenant --------------------------------------------------------------
@dataclass
class World:
    rt: Runtime
    admin: GraphQLClient
    tenant_id: str
    slug: str
    rep_id: str
    rep: GraphQLClient


@pytest.fixture(scope="module")
def world(runtime: Runtime) -> Iterator[World]:
    jobs = replace(runtime.config.jobs, retry_base_seconds=RETRY_BASE, max_attempts=3)
    rt = migrated_runtime(replace(runtime.config, jobs=jobs))
    app = make_app(rt)
    try:
        with tenant_scope(rt) as created:
            admin = GraphQLClient(app, created.token)
            rep_id = admin.data(CREATE_USER, {"i": {"email": "rep@example.com", "name": "rep"}})["createUser"]["id"]
            token = admin.data(CREATE_TOKEN, {"i": {"name": "rep", "user": rep_id}})["createApiToken"]["token"]
            yield World(rt, admin, created.tenant.id, created.tenant.slug, rep_id, GraphQLClient(app, token))
    finally:
        rt.close()


@pytest.fixture(autouse=True)
def _clean(world: World, receiver: Receiver) -> Iterator[None]:
    receiver.reset()
    yield
    for found in world.admin.data(WORKFLOWS)["workflows"]:
        world.admin.data(DELETE_WORKFLOW, {"n": found["name"]})


def _hook(world: World, receiver: Receiver, name: str, **action: Any) -> None:
    spec = {"type": "WEBHOOK", "url": receiver.url, "secret": SECRET, "timeoutSeconds": 2, **action}
    world.admin.data(CREATE_WORKFLOW, {"i": {"object": "opportunity", "name": name, "trigger": {"event": "CREATED"},
                                             "actions": [spec]}})


def _opp(client: GraphQLClient, **data: Any) -> dict[str, Any]:
    values = {"name": f"deal-{uuid.uuid4().hex[:8]}", "closeDate": "2026-06-30", "amount": "1234.5",
              "description": "internal notes", **data}
    return client.data(CREATE_OPP, {"d": values})["createOpportunity"]


def _deliveries(world: World, workflow: str) -> list[dict[str, Any]]:
    return world.admin.data(DELIVERIES, {"w": workflow})["webhookDeliveries"]


def _job_of(world: World, delivery_id: str) -> dict[str, Any]:
    with world.rt.db.system.connect() as conn:
        rows = [dict(r) for r in conn.execute(
            sa.select(outbox).where(outbox.c.tenant_id == world.tenant_id, outbox.c.kind == "webhook.deliver")
        ).mappings() if r["payload"]["deliveryId"] == delivery_id]
    assert len(rows) == 1, rows
    return rows[0]


def _next_attempt(world: World, delivery_id: str) -> dict[str, Any]:
    """Wait until the delivery's retry is due, run due jobs, and return its outbox row."""
    before = _job_of(world, delivery_id)
    assert before["status"] == "PENDING", before
    deadline = time.monotonic() + 60 * RETRY_BASE
    while time.monotonic() < deadline:
        time.sleep(RETRY_BASE / 4)
        outbox_service.run_due(world.rt)
        row = _job_of(world, delivery_id)
        if row["attempts"] != before["attempts"]:
            return row
    raise AssertionError(f"delivery {delivery_id} was not retried")


# --- tests ------------------------------------------------------------------------------------------
def test_a_delivery_is_signed_and_carries_the_chosen_fields(world: World, receiver: Receiver) -> None:
    _hook(world, receiver, "dealHook", fields=["name", "amount", "stage"])
    record = _opp(world.rep, name="Hooli")
    [request] = receiver.requests
    assert request.signed
    assert request.headers["Content-Type"] == "application/json"
    assert receiver.accepted == [request.delivery]
    payload = json.loads(request.body)
    assert payload["deliveryId"] == request.delivery
    assert (payload["event"], payload["workflow"], payload["object"], payload["recordId"], payload["tenant"]) == (
        "CREATED", "dealHook", "opportunity", record["id"], world.slug)
    sent = payload["record"]
    assert set(sent) == {"id", "owner", "createdAt", "updatedAt", "name", "amount", "stage"}
    assert (sent["id"], sent["name"], sent["stage"], sent["owner"]) == (record["id"], "Hooli", "prospecting", world.rep_id)
    assert float(sent["amount"]) == 1234.5
    [delivery] = _deliveries(world, "dealHook")
    assert (delivery["id"], delivery["status"], delivery["attempts"]) == (request.delivery, "DELIVERED", 1)
    assert (delivery["responseStatus"], delivery["lastError"], delivery["url"]) == (200, None, receiver.url)
    assert delivery["body"].encode() == request.body and delivery["durationMs"] >= 0
    assert [r["status"] for r in world.admin.data(RUNS, {"w": "dealHook"})["workflowRuns"]] == ["SUCCEEDED"]


def test_without_a_field_list_every_readable_field_is_sent(world: World, receiver: Receiver) -> None:
    _hook(world, receiver, "fullHook")
    record = _opp(world.admin, name="Pied Piper")
    [request] = receiver.requests
    sent = json.loads(request.body)["record"]
    assert (sent["name"], sent["description"], sent["closeDate"]) == ("Pied Piper", "internal notes", "2026-06-30")
    assert sent["nextStep"] is None and sent["id"] == record["id"]
    assert {"opportunityNumber", "forecastCategory", "probability", "account"} <= set(sent)


def test_a_wrong_secret_is_caught_by_the_receiver(world: World, receiver: Receiver) -> None:
    _hook(world, receiver, "wrongSecret", secret="not-the-receivers-secret", maxAttempts=1)
    _opp(world.admin)
    [request] = receiver.requests
    assert not request.signed and receiver.accepted == []
    [delivery] = _deliveries(world, "wrongSecret")
    assert (delivery["status"], delivery["attempts"], delivery["responseStatus"]) == ("FAILED", 1, 401)
    assert "HTTP 401" in delivery["lastError"]


def test_failed_attempts_are_retried_with_the_same_id_and_body_and_accepted_once(
    world: World, receiver: Receiver
) -> None:
    receiver.fail_next = 2
    _hook(world, receiver, "flakyHook", maxAttempts=5)
    _opp(world.rep)
    [first] = receiver.requests
    [delivery] = _deliveries(world, "flakyHook")
    assert (delivery["id"], delivery["status"], delivery["attempts"]) == (first.delivery, "RETRYING", 1)
    assert delivery["responseStatus"] == 500 and "HTTP 500" in delivery["lastError"]
    assert receiver.accepted == []

    assert _next_attempt(world, first.delivery or "")["status"] == "PENDING"
    assert _deliveries(world, "flakyHook")[0]["attempts"] == 2
    assert _next_attempt(world, first.delivery or "")["status"] == "DONE"

    assert len(receiver.requests) == 3
    assert {r.delivery for r in receiver.requests} == {first.delivery}
    assert {r.body for r in receiver.requests} == {first.body}
    assert all(r.signed for r in receiver.requests)
    assert receiver.accepted == [first.delivery]
    [delivered] = _deliveries(world, "flakyHook")
    assert (delivered["status"], delivered["attempts"], delivered["responseStatus"], delivered["lastError"]) == (
        "DELIVERED", 3, 200, None)
    # nothing left to run: no further request reaches the receiver
    time.sleep(2 * RETRY_BASE)
    outbox_service.run_due(world.rt)
    assert len(receiver.requests) == 3
    # the workflow's own run succeeded at once: the delivery is a job of its own
    assert [r["status"] for r in world.admin.data(RUNS, {"w": "flakyHook"})["workflowRuns"]] == ["SUCCEEDED"]


def test_a_receiver_that_does_not_answer_in_time_is_retried(world: World, receiver: Receiver) -> None:
    receiver.hang_next, receiver.hang_seconds = 1, 4.0
    _hook(world, receiver, "slowHook", timeoutSeconds=0.2, maxAttempts=3)
    started = time.monotonic()
    _opp(world.admin)
    # the sender gave up after its timeout, long before the receiver would have answered
    assert time.monotonic() - started < 3.0
    [delivery] = _deliveries(world, "slowHook")
    assert (delivery["status"], delivery["attempts"], delivery["responseStatus"]) == ("RETRYING", 1, None)
    assert "no answer from" in delivery["lastError"]
    assert _next_attempt(world, delivery["id"])["status"] == "DONE"
    assert [r.delivery for r in receiver.requests] == [delivery["id"], delivery["id"]]
    assert receiver.accepted == [delivery["id"]]
    [delivered] = _deliveries(world, "slowHook")
    assert (delivered["status"], delivered["attempts"], delivered["responseStatus"]) == ("DELIVERED", 2, 200)


def test_after_max_attempts_the_delivery_fails_and_the_backoff_doubles(world: World, receiver: Receiver) -> None:
    receiver.fail_next = 100
    _hook(world, receiver, "deadHook", maxAttempts=4)
    _opp(world.admin)
    [delivery] = _deliveries(world, "deadHook")
    delivery_id = delivery["id"]
    waits = []  # how long after each failed attempt (its request's arrival) the next one was scheduled
    rows = [_job_of(world, delivery_id)]
    for _ in range(3):
        row = rows[-1]
        waits.append((row["available_at"] - receiver.requests[row["attempts"] - 1].arrived).total_seconds())
        rows.append(_next_attempt(world, delivery_id))
    final = rows[-1]
    assert (final["status"], final["attempts"], final["max_attempts"]) == ("FAILED", 4, 4)
    # retry_base * 2**(attempt-1): 0.1 s, 0.2 s, 0.4 s after the failed attempt
    for attempt, wait in enumerate(waits, start=1):
        assert wait >= RETRY_BASE * 2 ** (attempt - 1), waits
    assert waits[1] - waits[0] >= RETRY_BASE / 2 and waits[2] - waits[1] >= RETRY_BASE, waits
    # attempts really were spaced out by the backoff
    arrivals = [r.arrived for r in receiver.requests]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(arrivals)]
    assert len(arrivals) == 4 and all(gap >= RETRY_BASE * 2 ** i for i, gap in enumerate(gaps)), gaps

    [failed] = _deliveries(world, "deadHook")
    assert (failed["status"], failed["attempts"], failed["responseStatus"]) == ("FAILED", 4, 500)
    assert "HTTP 500" in failed["lastError"]
    assert world.admin.data(DELIVERIES, {"s": "FAILED"})["webhookDeliveries"][0]["id"] == delivery_id
    job = next(j for j in world.admin.data(JOBS, {"s": "FAILED"})["jobs"] if j["kind"] == "webhook.deliver")
    assert (job["attempts"], job["maxAttempts"]) == (4, 4) and "HTTP 500" in job["lastError"]
    assert {r.delivery for r in receiver.requests} == {delivery_id} and receiver.accepted == []

    # an administrator requeues it once the receiver is healthy again: delivered, still the same id
    receiver.fail_next = 0
    assert world.admin.data("mutation($ids: [ID!]) { requeueJobs(ids: $ids) }", {"ids": [job["id"]]})["requeueJobs"] == 1
    assert receiver.accepted == [delivery_id]
    assert _deliveries(world, "deadHook")[0]["status"] == "DELIVERED"
