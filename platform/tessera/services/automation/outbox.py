"""The transactional outbox: background work is a row written in the transaction that causes it.

A committed change never loses its follow-up work (the row commits with it) and a rolled-back one
never starts any. Each row carries an idempotency key (``job_key``, unique): enqueueing the same
work twice stores it once. Running a job is:

1. **claim** — one committed UPDATE moves it to RUNNING, counts the attempt and sets a lease; only
   one claimant wins, however many times the row was handed to workers;
2. **work** — the handler's database effects and the move to DONE commit in ONE transaction, guarded
   by the attempt number, so a worker killed mid-job leaves nothing behind, and a job run twice
   (an abandoned lease picked up while the first run still lives) commits once;
3. on failure, the effects roll back and the row waits ``retry_base * 2**(attempt-1)`` seconds
   (capped) before the next attempt, or ends FAILED after ``max_attempts`` (re-queueable).

How rows reach a worker (in-process, or rq) is the transport's business (``tessera.jobs``).
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from tessera.core.clock import utcnow
from tessera.core.errors import NotFound
from tessera.core.ids import new_id
from tessera.model.registry import TenantRef
from tessera.services.runtime import QUEUED_FLAG, Runtime, tenant_ref
from tessera.storage.system_tables import outbox

log = logging.getLogger("tessera.jobs")

PENDING, DISPATCHED, RUNNING, DONE, FAILED = "PENDING", "DISPATCHED", "RUNNING", "DONE", "FAILED"
STATUSES = (PENDING, DISPATCHED, RUNNING, DONE, FAILED)
LEASE_GRACE_SECONDS = 30


def lease_seconds(timeout_seconds: int) -> int:
    """How long a claimed job may run before the reaper may give it to another worker: longer than
    rq's own job timeout, which stops a job that runs too long."""
    return timeout_seconds + min(LEASE_GRACE_SECONDS, timeout_seconds)


@dataclass
class JobContext:
    """What a job handler gets: its payload, and an open transaction that commits with its DONE mark."""

    rt: Runtime
    conn: sa.Connection
    tenant: TenantRef | None
    payload: Mapping[str, Any]
    job_id: str
    job_key: str
    attempt: int
    max_attempts: int

    @property
    def last_attempt(self) -> bool:
        return self.attempt >= self.max_attempts


Handler = Callable[[JobContext], None]


ErrorHandler = Callable[[sa.Connection, Mapping[str, Any], Exception, bool], None]
"""``(conn, outbox row, the error, final)``: records a failed attempt where the kind keeps its log."""


def failure_text(error: Exception) -> str:
    """How a job's failure is written in logs: the error's type and message."""
    return f"{type(error).__name__}: {error}"


@dataclass(frozen=True)
class JobKind:
    """A kind of job: ``run`` does the work; ``on_error`` (optional) logs each failed attempt."""

    name: str
    run: Handler
    on_error: ErrorHandler | None = None


_kinds: dict[str, JobKind] = {}


def job_kind(name: str, *, on_error: ErrorHandler | None = None) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of ``name`` jobs."""
    def register(run: Handler) -> Handler:
        _kinds[name] = JobKind(name, run, on_error)
        return run
    return register


def kinds() -> Mapping[str, JobKind]:
    # Handlers live beside the features they serve; importing them here registers them all.
    from tessera.services.automation import handlers  # noqa: F401

    return _kinds


# --- enqueue ------------------------------------------------------------------------------------
def enqueue(
    conn: sa.Connection, *, tenant_id: str | None, kind: str, payload: Mapping[str, Any], key: str,
    max_attempts: int | None = None, delay_seconds: float = 0,
) -> bool:
    """Add a job in the caller's transaction; False when a job with ``key`` already exists."""
    now = utcnow()
    values = dict(
        id=new_id(), tenant_id=tenant_id, kind=kind, payload=dict(payload), job_key=key[:255], status=PENDING,
        attempts=0, max_attempts=max_attempts or 0, available_at=now + timedelta(seconds=delay_seconds),
        created_at=now,
    )
    result = conn.execute(_insert_once(conn.dialect.name), values)
    if result.rowcount:
        conn.info[QUEUED_FLAG] = True
    return bool(result.rowcount)


@lru_cache(maxsize=2)
def _insert_once(dialect: str) -> Any:
    insert = postgresql.insert(outbox) if dialect == "postgresql" else sqlite.insert(outbox)
    return insert.on_conflict_do_nothing(index_elements=["job_key"])


# --- run ----------------------------------------------------------------------------------------
def perform(rt: Runtime, job_id: str) -> str:
    """Run one job (claim, work, settle); returns the status it ended in, or "" if another had it."""
    settings = rt.config.jobs
    now = utcnow()
    with rt.db.system.begin() as conn:
        row = conn.execute(
            outbox.update()
            .where(outbox.c.id == job_id, outbox.c.status.in_((PENDING, DISPATCHED)), outbox.c.available_at <= now)
            .values(status=RUNNING, attempts=outbox.c.attempts + 1,
                    lease_until=now + timedelta(seconds=lease_seconds(settings.timeout_seconds)))
            .returning(*outbox.c)
        ).mappings().first()
        if row is None:
            return ""
        tenant = tenant_ref(conn, tenant_id=row["tenant_id"]) if row["tenant_id"] else None
    kind = kinds().get(row["kind"])
    attempt = row["attempts"]
    max_attempts = row["max_attempts"] or settings.max_attempts
    started = time.perf_counter()
    try:
        if kind is None:
            raise NotFound(f"no job kind '{row['kind']}' in this process (is its plugin installed?)")
        engine = rt.db.tenant(tenant.schema_name) if tenant else rt.db.system
        with rt.system_write(engine) as conn:
            kind.run(JobContext(rt, conn, tenant, row["payload"], job_id, row["job_key"], attempt, max_attempts))
            settled = conn.execute(
                outbox.update().where(outbox.c.id == job_id, outbox.c.status == RUNNING, outbox.c.attempts == attempt)
                .values(status=DONE, finished_at=utcnow(), lease_until=None, last_error=None)
            ).rowcount
            if not settled:
                raise _Superseded()
    except _Superseded:
        log.warning("job superseded", extra={"job": job_id, "kind": row["kind"], "attempt": attempt})
        return ""
    except Exception as exc:  # any failure of a job is recorded, then retried or failed
        return _failed(rt, row, attempt, max_attempts, exc, kind)
    log.info("job done", extra={"job": job_id, "kind": row["kind"], "attempt": attempt,
                                "ms": round((time.perf_counter() - started) * 1000, 1)})
    return DONE


class _Superseded(Exception):
    """The row was taken over by a later attempt: this run's effects must not commit."""


def backoff_seconds(rt: Runtime, attempt: int) -> float:
    settings = rt.config.jobs
    return min(settings.retry_base_seconds * (2 ** max(0, attempt - 1)), settings.retry_max_seconds)


def _failed(rt: Runtime, row: Mapping[str, Any], attempt: int, max_attempts: int, exc: Exception,
            kind: JobKind | None) -> str:
    message = failure_text(exc)
    final = attempt >= max_attempts
    log.warning("job failed", extra={"job": row["id"], "kind": row["kind"], "attempt": attempt,
                                     "final": final, "error": message})
    with rt.db.system.begin() as conn:
        values: dict[str, Any] = dict(last_error=(message + "\n" + traceback.format_exc(limit=5))[:4000],
                                      lease_until=None)
        if final:
            values.update(status=FAILED, finished_at=utcnow())
        else:
            values.update(status=PENDING, available_at=utcnow() + timedelta(seconds=backoff_seconds(rt, attempt)))
        changed = conn.execute(
            outbox.update().where(outbox.c.id == row["id"], outbox.c.status == RUNNING, outbox.c.attempts == attempt)
            .values(**values)
        ).rowcount
        if changed and kind is not None and kind.on_error is not None:
            kind.on_error(conn, row, exc, final)
    return FAILED if final else PENDING


def due_jobs(rt: Runtime, *, limit: int = 100, tenant_id: str | None = None) -> list[str]:
    """Ids of PENDING jobs whose time has come, oldest first."""
    query = sa.select(outbox.c.id).where(outbox.c.status == PENDING, outbox.c.available_at <= utcnow())
    if tenant_id is not None:
        query = query.where(outbox.c.tenant_id == tenant_id)
    with rt.db.system.connect() as conn:
        return list(conn.execute(query.order_by(outbox.c.available_at, outbox.c.created_at).limit(limit)).scalars())


def run_due(rt: Runtime, *, limit: int = 1_000) -> int:
    """Run due jobs in this process until none is left (or ``limit`` ran); returns how many ran."""
    ran = 0
    while ran < limit:
        batch = due_jobs(rt, limit=min(100, limit - ran))
        if not batch:
            break
        for job_id in batch:
            perform(rt, job_id)
            ran += 1
    return ran


# --- leases and administration -------------------------------------------------------------------
def expired_leases(rt: Runtime) -> list[dict[str, Any]]:
    """RUNNING jobs whose lease ran out (their worker died or hung), and DISPATCHED ones, for the reaper."""
    with rt.db.system.connect() as conn:
        return [dict(r) for r in conn.execute(
            sa.select(outbox.c.id, outbox.c.status, outbox.c.attempts, outbox.c.max_attempts, outbox.c.dispatched_at,
                      outbox.c.lease_until)
            .where(sa.or_(
                sa.and_(outbox.c.status == RUNNING, outbox.c.lease_until < utcnow()),
                outbox.c.status == DISPATCHED,
            ))
        ).mappings()]


def release(rt: Runtime, job_id: str, *, from_status: str, attempts: int | None = None) -> bool:
    """Put an abandoned job back to PENDING (now), if it is still where the caller saw it."""
    with rt.db.system.begin() as conn:
        query = outbox.update().where(outbox.c.id == job_id, outbox.c.status == from_status)
        if attempts is not None:
            query = query.where(outbox.c.attempts == attempts)
        return bool(conn.execute(query.values(status=PENDING, available_at=utcnow(), lease_until=None)).rowcount)


def abandon(rt: Runtime, job_id: str, *, attempts: int) -> bool:
    """End a RUNNING job that was abandoned on its last attempt (it killed or hung its workers)."""
    with rt.db.system.begin() as conn:
        return bool(conn.execute(
            outbox.update().where(outbox.c.id == job_id, outbox.c.status == RUNNING, outbox.c.attempts == attempts)
            .values(status=FAILED, finished_at=utcnow(), lease_until=None,
                    last_error="abandoned: its worker stopped in the middle of every attempt")
        ).rowcount)


@dataclass(frozen=True)
class JobRow:
    id: str
    tenant_id: str | None
    kind: str
    key: str
    status: str
    attempts: int
    max_attempts: int
    available_at: datetime
    created_at: datetime
    finished_at: datetime | None
    last_error: str | None
    payload: Mapping[str, Any] = field(default_factory=dict)


def list_jobs(rt: Runtime, *, tenant_id: str | None = None, status: str | None = None, first: int = 50) -> list[JobRow]:
    query = sa.select(outbox)
    if tenant_id is not None:
        query = query.where(outbox.c.tenant_id == tenant_id)
    if status is not None:
        query = query.where(outbox.c.status == status)
    query = query.order_by(outbox.c.created_at.desc(), outbox.c.id).limit(max(1, min(first, 1_000)))
    with rt.db.system.connect() as conn:
        return [
            JobRow(r["id"], r["tenant_id"], r["kind"], r["job_key"], r["status"], r["attempts"],
                   r["max_attempts"] or rt.config.jobs.max_attempts, r["available_at"], r["created_at"],
                   r["finished_at"], r["last_error"], r["payload"])
            for r in conn.execute(query).mappings()
        ]


def requeue(rt: Runtime, ids: Iterable[str] | None = None, *, tenant_id: str | None = None) -> int:
    """Give FAILED jobs (``ids``, or all of the tenant's) a fresh set of attempts; returns how many."""
    query = outbox.update().where(outbox.c.status == FAILED)
    if ids is not None:
        query = query.where(outbox.c.id.in_(list(ids)))
    if tenant_id is not None:
        query = query.where(outbox.c.tenant_id == tenant_id)
    with rt.db.system.begin() as conn:
        count = conn.execute(query.values(status=PENDING, attempts=0, available_at=utcnow(), finished_at=None)).rowcount
    if count and rt.transport is not None:
        rt.transport.committed()
    return count
