"""Records locked while an approval request is pending: the write path asks here before an update
or a delete.

Kept apart from ``approvals`` (which writes records through ``RecordWriter``) so the writer can
import it without a cycle.
"""

from __future__ import annotations

import sqlalchemy as sa

from tessera.core.errors import Forbidden
from tessera.model.access import UserAccess
from tessera.model.definitions import ObjectDef
from tessera.storage.system_tables import approval_requests, approval_steps

PENDING = "PENDING"


def refuse_locked(conn: sa.Connection, tenant_id: str, access: UserAccess, obj: ObjectDef, record_id: str) -> None:
    """Refuse changing a record with a pending request of a locking process (FORBIDDEN).

    Administrators, system actors (the outcome's own field updates) and the request's current
    approvers may still change it.
    """
    locking = sorted(p.id for p in obj.approval_processes if p.lock_record and p.id)
    if not locking or access.profile.is_admin:
        return
    request_id = conn.execute(
        sa.select(approval_requests.c.id).where(
            approval_requests.c.tenant_id == tenant_id, approval_requests.c.record_id == record_id,
            approval_requests.c.status == PENDING, approval_requests.c.process_id.in_(locking),
        )
    ).scalar()
    if request_id is None:
        return
    if access.user_id and conn.execute(
        sa.select(approval_steps.c.id).where(
            approval_steps.c.request_id == request_id, approval_steps.c.approver_id == access.user_id,
            approval_steps.c.decision == PENDING,
        )
    ).first():
        return
    raise Forbidden(
        f"{obj.name} {record_id} is locked pending approval: only its approvers and administrators may change it "
        "until the request is decided or recalled",
        field="id", approvalRequest=request_id,
    )
