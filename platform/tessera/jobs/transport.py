"""Transports: ``attach(rt)`` gives a runtime the one its configuration asks for.

- ``EmbeddedTransport``: no Redis. ``inline`` runs due jobs in the thread that committed them, right
  after the commit (tests and the CLI see their effects at once); ``thread`` leaves them to a
  background thread of the process (``tessera serve``), which also retries and ticks schedules.
- ``RqTransport``: after a commit, due outbox rows are marked DISPATCHED and enqueued to rq. If Redis
  is down the rows stay PENDING in the database and the relay of ``tessera worker`` sends them once
  it is back: nothing a committed change queued is lost.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Literal

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

from tessera.core.clock import utcnow
from tessera.services.automation.outbox import DISPATCHED, PENDING, due_jobs, run_due
from tessera.services.automation.schedules import tick
from tessera.services.runtime import Runtime, Transport
from tessera.storage.system_tables import outbox

log = logging.getLogger("tessera.jobs")

PERFORM = "tessera.jobs.worker.perform_job"
TICK_SECONDS = 60.0


class EmbeddedTransport:
    """Jobs in this process (see the module docstring)."""

    def __init__(self, rt: Runtime, mode: Literal["inline", "thread"] = "inline") -> None:
        self.rt = rt
        self.mode = mode
        self._local = threading.local()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def committed(self) -> None:
        if self.mode == "thread":
            self._wake.set()
            return
        if getattr(self._local, "running", False):
            return  # jobs' own commits: the loop below picks up what they queued
        self._local.running = True
        try:
            run_due(self.rt)
        finally:
            self._local.running = False

    def start(self, poll_seconds: float = 1.0) -> None:
        """Run due jobs (retries included) and the schedule tick in a background thread."""
        if self._thread is not None:
            return

        def loop() -> None:
            next_tick = 0.0
            while not self._stop.is_set():
                try:
                    if time.monotonic() >= next_tick:
                        tick(self.rt)
                        next_tick = time.monotonic() + TICK_SECONDS
                    self._local.running = True
                    run_due(self.rt)
                except Exception:  # the loop must outlive any one failure; jobs log their own
                    log.exception("embedded job loop failed")
                finally:
                    self._local.running = False
                self._wake.wait(poll_seconds)
                self._wake.clear()

        self._thread = threading.Thread(target=loop, name="tessera-jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None


class RqTransport:
    """Jobs through Redis and rq (see the module docstring)."""

    def __init__(self, rt: Runtime, redis: Redis | None = None) -> None:
        self.rt = rt
        self.redis = redis or Redis.from_url(rt.config.redis_url or "", socket_timeout=5, socket_connect_timeout=2)
        self.queue = Queue(rt.config.jobs.queue_name, connection=self.redis)

    def committed(self) -> None:
        try:
            dispatch(self.rt, self.queue)
        except RedisError as exc:
            log.warning("redis unavailable; jobs wait in the outbox", extra={"error": str(exc)})


def dispatch(rt: Runtime, queue: Queue, *, limit: int = 500) -> int:
    """Move due PENDING outbox rows to ``queue``; returns how many were enqueued."""
    sent = 0
    settings = rt.config.jobs
    for job_id in due_jobs(rt, limit=limit):
        with rt.db.system.begin() as conn:
            row = conn.execute(
                outbox.update().where(outbox.c.id == job_id, outbox.c.status == PENDING)
                .values(status=DISPATCHED, dispatched_at=utcnow()).returning(outbox.c.attempts)
            ).first()
        if row is None:
            continue
        try:
            queue.enqueue(PERFORM, job_id, job_id=rq_job_id(job_id, row.attempts), job_timeout=settings.timeout_seconds,
                          result_ttl=3_600, failure_ttl=7 * 86_400, description=f"outbox {job_id}")
        except Exception:
            with rt.db.system.begin() as conn:
                conn.execute(outbox.update().where(outbox.c.id == job_id, outbox.c.status == DISPATCHED)
                             .values(status=PENDING, dispatched_at=None))
            raise
        sent += 1
    return sent


def rq_job_id(job_id: str, attempts: int) -> str:
    """One rq job per dispatch of an outbox row (a re-dispatch after a crash is a new rq job)."""
    return f"{job_id}_{attempts}"


def attach(rt: Runtime, *, mode: Literal["inline", "thread"] = "inline") -> Transport:
    """Give ``rt`` the transport its configuration asks for, and return it."""
    transport: Transport = RqTransport(rt) if rt.config.redis_url else EmbeddedTransport(rt, mode)
    rt.transport = transport
    return transport

