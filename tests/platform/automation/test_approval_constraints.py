"""The database itself keeps one pending approval request per record, so two submissions racing
past the service's check cannot both succeed (the loser gets CONFLICT)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.core.ids import new_id
from tessera.services.automation.approval_processes import add_approval_process_in
from tessera.services.metadata.change import run_change
from tessera.services.runtime import Actor, Runtime
from tessera.services.tenants import CreatedTenant
from tessera.storage.system_tables import approval_requests


def _request(tenant_id: str, process_id: str, record_id: str, status: str) -> dict[str, object]:
    return dict(id=new_id(), tenant_id=tenant_id, process_id=process_id, object_name="opportunity",
                record_id=record_id, status=status, step=1, submitted_by=None, submitted_at=utcnow())


def test_a_second_pending_request_for_a_record_is_refused_by_the_database(
    runtime: Runtime, tenant: CreatedTenant
) -> None:
    actor = Actor(runtime.tenant(tenant.tenant.slug), tenant.admin_user_id, "api")
    process = run_change(runtime, actor, lambda change: add_approval_process_in(
        change, {"object": "opportunity", "name": "bigDeal", "approvers": {"type": "MANAGER_CHAIN", "levels": 1}},
        origin="custom"))
    record_id = new_id()
    with runtime.write(actor.tenant) as conn:
        conn.execute(approval_requests.insert(), [
            _request(actor.tenant.id, process.id or "", record_id, "APPROVED"),
            _request(actor.tenant.id, process.id or "", record_id, "REJECTED"),
            _request(actor.tenant.id, process.id or "", record_id, "PENDING"),
        ])
    with pytest.raises(sa.exc.IntegrityError), runtime.write(actor.tenant) as conn:
        conn.execute(approval_requests.insert(), [_request(actor.tenant.id, process.id or "", record_id, "PENDING")])
    with runtime.read(actor.tenant) as conn:
        statuses = sorted(conn.execute(sa.select(approval_requests.c.status).where(
            approval_requests.c.record_id == record_id)).scalars())
    assert statuses == ["APPROVED", "PENDING", "REJECTED"]
