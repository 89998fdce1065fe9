"""The reaper: puts abandoned jobs back in line.

rq does not re-queue the job of a worker killed mid-job (after its timeout it lands in the failed
registry). The outbox row says what really happened, so the reaper works from it:

- RUNNING past its lease: the worker died or hung past the job timeout; its transaction never
  committed, so the job goes back to PENDING (or FAILED when it has used all its attempts);
- DISPATCHED whose rq job is gone, failed, stopped or cancelled (Redis lost it, or its worker died
  before claiming it): back to PENDING.

Jobs are idempotent (see ``services/automation/outbox.py``), so a job put back runs its effects once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from tessera.core.clock import utcnow
from tessera.jobs.transport import rq_job_id
from tessera.services.automation.outbox import DISPATCHED, RUNNING, abandon, expired_leases, release
from tessera.services.runtime import Runtime

log = logging.getLogger("tessera.jobs")

DISPATCH_GRACE = timedelta(seconds=30)
"""A dispatched job younger than this is left alone (its rq job may not be visible yet)."""
LOST = {JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}


def reap(rt: Runtime, queue: Queue | None = None) -> int:
    """Put abandoned jobs back; returns how many."""
    put_back = 0
    now = utcnow()
    for row in expired_leases(rt):
        if row["status"] == RUNNING:
            if row["attempts"] >= (row["max_attempts"] or rt.config.jobs.max_attempts):
                changed = abandon(rt, row["id"], attempts=row["attempts"])
            else:
                changed = release(rt, row["id"], from_status=RUNNING, attempts=row["attempts"])
        elif row["status"] == DISPATCHED and queue is not None:
            if row["dispatched_at"] is None or now - row["dispatched_at"] < DISPATCH_GRACE:
                continue
            if not _lost(queue, rq_job_id(row["id"], row["attempts"])):
                continue
            changed = release(rt, row["id"], from_status=DISPATCHED, attempts=row["attempts"])
        else:
            continue
        if changed:
            put_back += 1
            log.warning("abandoned job put back", extra={"job": row["id"], "was": row["status"]})
    return put_back


def _lost(queue: Queue, job_id: str) -> bool:
    try:
        job = Job.fetch(job_id, connection=queue.connection)
    except NoSuchJobError:
        return True
    return job.get_status(refresh=False) in LOST
