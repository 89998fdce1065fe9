"""Fixtures shared by the plugins' tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from redis import Redis
from rq import Queue

from tessera.jobs.transport import RqTransport
from tessera.services.runtime import Runtime


@pytest.fixture
def rq_runtime(runtime: Runtime, redis_url: str | None) -> Iterator[Runtime]:
    """A runtime whose jobs go through Redis to rq (a queue of its own); skipped without Redis."""
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
