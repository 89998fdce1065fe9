"""DDL on PostgreSQL waits only briefly for locks, retries, and never queues readers behind it."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest
import sqlalchemy as sa

from tessera.core.errors import Conflict
from tessera.services.metadata import create_field
from tessera.services.runtime import Actor, Runtime
from tessera.testing import tenant_scope

ADD_FIELD = {"object": "account", "name": "segment", "type": "TEXT"}


@pytest.fixture
def short_lock_runtime(runtime: Runtime, backend: str):  # type: ignore[no-untyped-def]
    if backend != "postgresql":
        pytest.skip("lock_timeout is PostgreSQL behaviour; SQLite serialises writers with its file lock")
    rt = Runtime(replace(runtime.config, ddl_lock_timeout_ms=100, ddl_retries=2))
    try:
        yield rt
    finally:
        rt.close()


def test_metadata_change_gives_up_with_conflict_while_a_long_read_holds_the_table(short_lock_runtime: Runtime) -> None:
    rt = short_lock_runtime
    with tenant_scope(rt) as created:
        actor = Actor(created.tenant, created.admin_user_id)
        schema = created.tenant.schema_name
        # given a long-running read transaction on the account table
        with rt.db.system.connect() as reader:
            reader.execute(sa.text(f'SELECT count(*) FROM "{schema}".account'))
            started = time.perf_counter()
            # when an admin adds a field to that table
            with pytest.raises(Conflict) as info:
                create_field(rt, actor, dict(ADD_FIELD))
            elapsed = time.perf_counter() - started
            reader.rollback()
        # then it gave up quickly (3 tries of 100 ms plus back-off) and changed nothing
        assert elapsed < 3
        assert "try again" in info.value.message
        with rt.db.system.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("account", schema=schema)}
        assert "segment" not in columns
        # and once the read has finished, the same change goes through
        field = create_field(rt, actor, dict(ADD_FIELD))
        assert field.name == "segment"


def _wait_for_lock_waiter(rt: Runtime) -> None:
    """Block until some session waits on a lock (the ALTER), at most two seconds."""
    deadline = time.monotonic() + 2
    with rt.db.system.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE 'ALTER TABLE%'"
            )).scalar_one()
            conn.rollback()
            if waiting:
                return
    raise AssertionError("the metadata change never waited for its lock")


def test_readers_are_not_queued_behind_a_waiting_metadata_change(short_lock_runtime: Runtime) -> None:
    rt = short_lock_runtime
    with tenant_scope(rt) as created:
        actor = Actor(created.tenant, created.admin_user_id)
        schema = created.tenant.schema_name
        errors: list[BaseException] = []
        with rt.db.system.connect() as long_reader:
            long_reader.execute(sa.text(f'SELECT count(*) FROM "{schema}".account'))

            def change() -> None:
                try:
                    create_field(rt, actor, dict(ADD_FIELD))
                except Conflict as exc:
                    errors.append(exc)

            worker = threading.Thread(target=change)
            worker.start()
            _wait_for_lock_waiter(rt)
            # when another reader arrives while the ALTER waits
            started = time.perf_counter()
            with rt.db.system.connect() as other:
                other.execute(sa.text("SET lock_timeout = '5s'"))
                other.execute(sa.text(f'SELECT count(*) FROM "{schema}".account'))
            waited = time.perf_counter() - started
            worker.join(timeout=10)
            long_reader.rollback()
        # then that reader waited at most about one lock_timeout, not for the long read to end
        assert waited < 1.0
        assert len(errors) == 1
