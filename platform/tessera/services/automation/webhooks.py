"""Webhook deliveries: POST the run's JSON body, signed, with retries and a delivery log.

Each delivery has an id (``X-Tessera-Delivery``) and a body fixed when the run queued it, so every
attempt sends the same bytes and the same id: a receiver that records ids sees each delivery once,
however often it had to be retried. ``X-Tessera-Signature: sha256=<hex>`` is the HMAC-SHA256 of the
raw body with the webhook's secret. A 2xx answer delivers; anything else (or no answer within the
timeout) fails the attempt, and the outbox retries with exponential backoff up to ``maxAttempts``.

Before each attempt the URL is checked (``tessera.services.outbound``): an address on a private
network (unless the operator allows them) fails the delivery at once, without retries. Redirects are
not followed: a receiver answers its webhook itself (urllib would turn the POST into a bodiless GET,
and a redirect could lead to an address the check refuses).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.core.errors import NotFound
from tessera.services.automation.outbox import JobContext, failure_text, job_kind
from tessera.services.automation.workflows import workflow_definition
from tessera.services.outbound import OutboundRefused, Unresolvable, check_url
from tessera.storage.system_tables import webhook_deliveries

log = logging.getLogger("tessera.webhooks")

USER_AGENT = "Tessera-Webhooks/1"
MAX_LISTED = 500


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class DeliveryFailed(Exception):
    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> None:
        return None  # urllib then raises HTTPError with the 3xx status: the attempt fails


_opener = urllib.request.build_opener(_NoRedirects())


def _on_error(conn: sa.Connection, row: Mapping[str, Any], error: Exception, final: bool) -> None:
    conn.execute(webhook_deliveries.update().where(webhook_deliveries.c.id == row["payload"]["deliveryId"]).values(
        attempts=row["attempts"], last_error=failure_text(error)[:2000],
        response_status=error.status if isinstance(error, DeliveryFailed) else None,
        status="FAILED" if final else "RETRYING",
    ))


@job_kind("webhook.deliver", on_error=_on_error)
def deliver(ctx: JobContext) -> None:
    payload = ctx.payload
    delivery = ctx.conn.execute(
        sa.select(webhook_deliveries).where(webhook_deliveries.c.id == payload["deliveryId"])
    ).mappings().first()
    if delivery is None or delivery["status"] == "DELIVERED":
        return
    definition = workflow_definition(ctx.conn, payload["workflowId"], payload["version"])
    if definition is None:
        raise NotFound(f"workflow {delivery['workflow_name']} version {payload['version']} is gone")
    try:
        check_url(delivery["url"], allow_private=ctx.rt.config.allow_private_networks)
    except Unresolvable as exc:  # DNS may answer again: retried like no answer
        raise DeliveryFailed(str(exc)) from None
    except OutboundRefused as exc:
        # Retrying cannot make a refused address allowed: the delivery fails now, and its job ends
        # (DONE: nothing is left to try) instead of spending its attempts.
        ctx.conn.execute(webhook_deliveries.update().where(webhook_deliveries.c.id == delivery["id"]).values(
            status="FAILED", attempts=ctx.attempt, last_error=failure_text(exc)[:2000], response_status=None))
        log.warning("webhook refused", extra={"delivery": delivery["id"], "error": str(exc)})
        return
    secret = definition["actions"][payload["action"]]["secret"]
    body = delivery["body"].encode()
    request = urllib.request.Request(delivery["url"], data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": USER_AGENT,
        "X-Tessera-Delivery": delivery["id"], "X-Tessera-Event": "workflow",
        "X-Tessera-Signature": signature(secret, body),
    })
    started = time.perf_counter()
    try:
        with _opener.open(request, timeout=float(payload.get("timeoutSeconds", 10))) as response:
            status = response.status
            response.read(1_024)
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"HTTP {exc.code} from {delivery['url']}", exc.code) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryFailed(f"no answer from {delivery['url']}: {reason}") from None
    if not 200 <= status < 300:
        raise DeliveryFailed(f"HTTP {status} from {delivery['url']}", status)
    ctx.conn.execute(webhook_deliveries.update().where(webhook_deliveries.c.id == delivery["id"]).values(
        status="DELIVERED", attempts=ctx.attempt, response_status=status, delivered_at=utcnow(), last_error=None,
        duration_ms=int((time.perf_counter() - started) * 1000),
    ))


@dataclass(frozen=True)
class Delivery:
    id: str
    workflow: str | None
    url: str
    status: str
    attempts: int
    response_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    duration_ms: int | None
    body: str


def list_deliveries(conn: sa.Connection, tenant_id: str, *, workflow: str | None = None, status: str | None = None,
                    first: int = 50) -> list[Delivery]:
    query = sa.select(webhook_deliveries).where(webhook_deliveries.c.tenant_id == tenant_id)
    if workflow is not None:
        query = query.where(webhook_deliveries.c.workflow_name == workflow)
    if status is not None:
        query = query.where(webhook_deliveries.c.status == status)
    query = query.order_by(webhook_deliveries.c.created_at.desc(), webhook_deliveries.c.id)
    return [
        Delivery(r["id"], r["workflow_name"], r["url"], r["status"], r["attempts"], r["response_status"],
                 r["last_error"], r["created_at"], r["delivered_at"], r["duration_ms"], r["body"])
        for r in conn.execute(query.limit(max(1, min(first, MAX_LISTED)))).mappings()
    ]
