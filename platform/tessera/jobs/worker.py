"""``tessera worker``: rq workers with the application's runtime, the outbox relay and the reaper.

rq imports ``perform_job`` by name; it runs the outbox job with the runtime this process built.
A relay thread moves due outbox rows (new, retried, or left behind while Redis was down) to the
queue every second and runs the reaper every few seconds. Schedules: ``tessera scheduler`` runs
rq's cron scheduler, which enqueues ``schedule_tick`` every minute.
"""

from __future__ import annotations

import logging
import threading

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker
from rq.cron import CronScheduler

from tessera.core.config import Config
from tessera.jobs.reaper import reap
from tessera.jobs.transport import RqTransport, dispatch
from tessera.services.automation.outbox import perform
from tessera.services.automation.schedules import tick
from tessera.services.runtime import Runtime

log = logging.getLogger("tessera.jobs")

_runtime: Runtime | None = None
REAP_EVERY = 5


def use_runtime(rt: Runtime) -> None:
    global _runtime
    _runtime = rt


def runtime() -> Runtime:
    """The runtime of this worker process (built from the environment if rq started us directly)."""
    global _runtime
    if _runtime is None:
        rt = Runtime(Config.from_env())
        rt.transport = RqTransport(rt)
        _runtime = rt
    return _runtime


def perform_job(job_id: str) -> str:
    return perform(runtime(), job_id)


def schedule_tick() -> int:
    return tick(runtime())


class Relay:
    """Outbox → queue every second, reaper every ``REAP_EVERY`` seconds, in a daemon thread."""

    def __init__(self, rt: Runtime, queue: Queue, interval: float = 1.0) -> None:
        self.rt, self.queue, self.interval = rt, queue, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tessera-relay", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        rounds = 0
        while not self._stop.is_set():
            try:
                dispatch(self.rt, self.queue)
                if rounds % REAP_EVERY == 0:
                    reap(self.rt, self.queue)
            except RedisError as exc:
                log.warning("redis unavailable; relay waits", extra={"error": str(exc)})
            except Exception:
                log.exception("relay round failed")
            rounds += 1
            self._stop.wait(self.interval)


def run_worker(rt: Runtime, *, burst: bool = False, name: str | None = None) -> None:
    """Run one rq worker (jobs in this process, no fork per job) with the relay beside it."""
    use_runtime(rt)
    transport = RqTransport(rt)
    rt.transport = transport
    relay = Relay(rt, transport.queue)
    relay.start()
    try:
        worker = SimpleWorker([transport.queue], connection=transport.redis, name=name)
        worker.work(burst=burst, with_scheduler=False, logging_level="WARNING")
    finally:
        relay.stop()


def run_scheduler(rt: Runtime) -> None:
    """rq's cron scheduler: the schedule tick every minute (cron workflows, date-relative
    workflows, plugins' scheduled jobs)."""
    redis = Redis.from_url(rt.config.redis_url or "")
    scheduler = CronScheduler(connection=redis, logging_level="WARNING")
    scheduler.register(schedule_tick, queue_name=rt.config.jobs.queue_name, cron="* * * * *",
                       job_timeout=rt.config.jobs.timeout_seconds, name="tessera-schedule-tick")
    scheduler.start()

