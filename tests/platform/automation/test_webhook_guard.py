"""The private-network guard on webhooks: a WEBHOOK action to a private address is refused when
saved; a delivery to one fails at once, logged, without retries and without reaching the receiver;
redirects are never followed.

The receiver is a plain ``http.server`` on 127.0.0.1: ``/hook`` answers 200, ``/moved`` redirects to
``/hook``. The session's runtime allows private networks (tests serve on loopback); ``guarded``
turns them off for one test.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tessera.services.automation import outbox as outbox_service
from tessera.services.runtime import Runtime
from tessera.services.tenants import CreatedTenant
from tessera.testing import GraphQLClient

SECRET = "a-long-shared-secret-value"
HINT = "outbound calls to private networks are off (set TESSERA_ALLOW_PRIVATE_NETWORKS=1 to allow them)"
CREATE_WORKFLOW = "mutation($i: CreateWorkflowInput!) { createWorkflow(input: $i) { name version } }"
UPDATE_WORKFLOW = "mutation($i: UpdateWorkflowInput!) { updateWorkflow(input: $i) { name version } }"
DELIVERIES = "query($w: String) { webhookDeliveries(workflow: $w) { url status attempts responseStatus lastError } }"
JOBS = "{ jobs(first: 50) { kind status attempts } }"
CREATE_OPP = "mutation($d: OpportunityCreateInput!) { createOpportunity(data: $d) { id } }"


@dataclass
class Receiver:
    base: str = ""
    paths: list[str] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            state.paths.append(self.path)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            moved = self.path == "/moved"
            self.send_response(302 if moved else 200)
            if moved:
                self.send_header("Location", f"{state.base}/hook")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def guarded(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    monkeypatch.setattr(runtime, "config", runtime.config.with_overrides(allow_private_networks=False))
    return runtime


def _hook(name: str, url: str, **action: Any) -> dict[str, Any]:
    spec = {"type": "WEBHOOK", "url": url, "secret": SECRET, "timeoutSeconds": 2, **action}
    return {"object": "opportunity", "name": name, "trigger": {"event": "CREATED"}, "actions": [spec]}


def _opp(gql: GraphQLClient) -> None:
    gql.data(CREATE_OPP, {"d": {"name": "Hooli", "closeDate": "2026-06-30", "amount": "10"}})


# --- when saved -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("url", "reason"), [
    ("http://10.0.0.5/hook", "http://10.0.0.5/hook: 10.0.0.5 is a private address"),
    ("https://169.254.169.254/latest", "https://169.254.169.254/latest: 169.254.169.254 is a link-local address"),
    ("http://localhost:9/hook", "http://localhost:9/hook: "),
])
def test_a_webhook_to_a_private_address_is_refused_when_saved(gql: GraphQLClient, guarded: Runtime, url: str,
                                                              reason: str) -> None:
    error = gql.error(CREATE_WORKFLOW, {"i": _hook("privateHook", url)})
    assert error["extensions"]["code"] == "VALIDATION_ERROR" and error["extensions"]["field"] == "actions"
    assert error["message"].startswith(f"actions.0.url: {reason}") and error["message"].endswith(HINT)


def test_a_change_to_a_private_address_is_refused(gql: GraphQLClient, guarded: Runtime) -> None:
    # given a webhook to a public address (an IP literal: checked without DNS)
    assert gql.data(CREATE_WORKFLOW, {"i": _hook("hook", "http://93.184.216.34/hook")})["createWorkflow"]["version"] == 1
    # when its URL moves to the private network, then the change is refused
    changed = _hook("hook", "http://10.0.0.5/hook")
    del changed["object"]
    error = gql.error(UPDATE_WORKFLOW, {"i": changed})
    assert error["extensions"]["code"] == "VALIDATION_ERROR"
    assert error["message"] == f"actions.0.url: http://10.0.0.5/hook: 10.0.0.5 is a private address; {HINT}"


def test_a_private_address_is_accepted_when_the_operator_allows_it(gql: GraphQLClient) -> None:
    assert gql.data(CREATE_WORKFLOW, {"i": _hook("lanHook", "http://10.0.0.5/hook")})["createWorkflow"]["name"]


# --- when delivered ---------------------------------------------------------------------------------
def test_a_delivery_to_a_refused_address_fails_at_once(gql: GraphQLClient, runtime: Runtime, tenant: CreatedTenant,
                                                       receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a webhook to the loopback receiver, saved while private networks were allowed
    gql.data(CREATE_WORKFLOW, {"i": _hook("loopHook", f"{receiver.base}/hook", maxAttempts=5)})
    # when the operator turns them off and a record triggers it
    monkeypatch.setattr(runtime, "config", runtime.config.with_overrides(allow_private_networks=False))
    _opp(gql)
    # then the delivery failed on its first attempt, with the reason, and the receiver heard nothing
    [delivery] = gql.data(DELIVERIES, {"w": "loopHook"})["webhookDeliveries"]
    assert (delivery["status"], delivery["attempts"], delivery["responseStatus"]) == ("FAILED", 1, None)
    assert delivery["lastError"] == (f"OutboundRefused: {receiver.base}/hook: 127.0.0.1 is a loopback address; "
                                     f"{HINT}")
    assert receiver.paths == []
    # and nothing is left to retry: its job is done
    assert [j for j in gql.data(JOBS)["jobs"] if j["kind"] == "webhook.deliver"] == [
        {"kind": "webhook.deliver", "status": "DONE", "attempts": 1}]
    assert outbox_service.due_jobs(runtime, tenant_id=tenant.tenant.id) == []


def test_redirects_are_not_followed(gql: GraphQLClient, receiver: Receiver) -> None:
    gql.data(CREATE_WORKFLOW, {"i": _hook("movedHook", f"{receiver.base}/moved", maxAttempts=1)})
    _opp(gql)
    [delivery] = gql.data(DELIVERIES, {"w": "movedHook"})["webhookDeliveries"]
    assert (delivery["status"], delivery["responseStatus"]) == ("FAILED", 302)
    assert delivery["lastError"] == f"DeliveryFailed: HTTP 302 from {receiver.base}/moved"
    assert receiver.paths == ["/moved"]
