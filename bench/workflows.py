"""Workflow benchmark: what a record-triggered workflow adds to a write, and jobs per second.

Write overhead — single-record creates through the service layer (the path GraphQL mutations take),
medians over interleaved rounds on three identical objects:

- **plain**: no workflow (the baseline);
- **before-save**: a workflow whose UPDATE_FIELDS action computes a field in the same transaction;
- **after-commit**: a workflow with a NOTIFY action: the write only adds its outbox row (jobs are not
  run here, so this is the cost the user's request pays).

Jobs per second — the NOTIFY jobs the after-commit writes queued, run (a) in-process
(``outbox.run_due``, embedded mode: the baseline) and (b) through Redis by a real rq worker
(dispatched by the relay function, then ``SimpleWorker`` in burst mode). Needs Redis for (b):
``TESSERA_BENCH_REDIS_URL`` (default redis://127.0.0.1:6379/14); skipped when unreachable.

    python -m bench.workflows
    TESSERA_BENCH_DATABASE_URL=postgresql+psycopg://root@127.0.0.1:5432/test python -m bench.workflows
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from dataclasses import replace
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import SimpleWorker

from bench.common import bench_runtime
from tessera.jobs.transport import RqTransport, dispatch
from tessera.jobs.worker import use_runtime
from tessera.services.automation.outbox import due_jobs, run_due
from tessera.services.automation.workflows import create_workflow
from tessera.services.metadata import create_field, create_object
from tessera.services.records import create_records
from tessera.services.runtime import Actor, Runtime
from tessera.testing import new_tenant

ROUNDS = 15
WRITES_PER_ROUND = 40
FIELDS = [{"name": "title", "type": "TEXT", "maxLength": 120}, {"name": "amount", "type": "CURRENCY"},
          {"name": "note", "type": "TEXT", "maxLength": 200}]
CASES = {
    "plain": None,
    "beforeSave": {"type": "UPDATE_FIELDS", "formulas": {"note": '"big deal: " & title'}},
    "afterCommit": {"type": "NOTIFY", "recipients": ["owner"], "title": "New {{ title }} of {{ amount }}"},
}


def _setup(rt: Runtime, actor: Actor) -> None:
    for name, action in CASES.items():
        obj = f"wb{name[0].upper()}{name[1:]}"
        create_object(rt, actor, {"name": obj, "label": {"en": obj}, "pluralName": f"{obj}s"})
        for field in FIELDS:
            create_field(rt, actor, {"object": obj, **field})
        if action is not None:
            create_workflow(rt, actor, {"object": obj, "name": f"flow{name}", "trigger": {"event": "CREATED"},
                                        "condition": "amount > 100", "actions": [action]})


def _write_round(rt: Runtime, actor: Actor, obj: str) -> float:
    with rt.read(actor.tenant) as conn:
        model = rt.model(conn, actor.tenant)
    started = time.perf_counter()
    for i in range(WRITES_PER_ROUND):
        create_records(rt, actor, model, obj, [{"title": f"deal {i}", "amount": "5000"}], bulk=False)
    return (time.perf_counter() - started) / WRITES_PER_ROUND


def main() -> None:
    with bench_runtime() as (rt, _tmp):
        created = new_tenant(rt)
        actor = Actor(created.tenant, created.admin_user_id, "api")
        _setup(rt, actor)
        actor = Actor(rt.tenant(created.tenant.slug), created.admin_user_id, "api")
        times: dict[str, list[float]] = {name: [] for name in CASES}
        for name in CASES:  # warm-up
            _write_round(rt, actor, f"wb{name[0].upper()}{name[1:]}")
        for _ in range(ROUNDS):
            for name in CASES:
                times[name].append(_write_round(rt, actor, f"wb{name[0].upper()}{name[1:]}"))
        base = statistics.median(times["plain"])
        print(f"backend: {rt.dialect}; {ROUNDS} rounds x {WRITES_PER_ROUND} single-record creates per case")
        for name in CASES:
            median = statistics.median(times[name])
            print(f"  {name:<12} {median * 1000:7.2f} ms/write   ratio vs plain {median / base:5.2f}")
        _jobs_per_second(rt, rt.config)


def _jobs_per_second(rt: Runtime, config: Any) -> None:
    queued = len(due_jobs(rt, limit=1_000_000))
    half = queued // 2
    started = time.perf_counter()
    ran = run_due(rt, limit=half)
    embedded = ran / (time.perf_counter() - started)
    print(f"jobs: {queued} NOTIFY jobs queued by the after-commit writes")
    print(f"  in-process (embedded)  {embedded:8.1f} jobs/s over {ran} jobs   (baseline)")
    redis_url = os.environ.get("TESSERA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    try:
        Redis.from_url(redis_url).ping()
    except RedisError as exc:
        print(f"  rq worker: skipped (Redis at {redis_url} unreachable: {exc})")
        return
    rq_rt = Runtime(replace(config, redis_url=redis_url,
                            jobs=replace(config.jobs, queue_name=f"bench{uuid.uuid4().hex[:6]}")))
    transport = RqTransport(rq_rt)
    rq_rt.transport = transport
    use_runtime(rq_rt)
    try:
        started = time.perf_counter()
        sent = dispatch(rq_rt, transport.queue, limit=1_000_000)
        dispatched = time.perf_counter()
        SimpleWorker([transport.queue], connection=transport.redis).work(burst=True, logging_level="WARNING")
        finished = time.perf_counter()
        worker_rate = sent / (finished - dispatched)
        print(f"  relay to Redis          {sent / (dispatched - started):8.1f} jobs/s over {sent} jobs")
        print(f"  rq worker (SimpleWorker){worker_rate:8.1f} jobs/s over {sent} jobs   ratio vs in-process "
              f"{worker_rate / embedded:4.2f}")
        left = len(due_jobs(rq_rt, limit=10))
        if left:
            print(f"  warning: {left} jobs still due after the worker finished", file=sys.stderr)
    finally:
        transport.queue.delete()
        rq_rt.close()


if __name__ == "__main__":
    main()
