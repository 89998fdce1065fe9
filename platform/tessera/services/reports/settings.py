"""The tenant's calendar for reports: time zone and the month its fiscal year starts in."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tessera.core.errors import ValidationError
from tessera.model.reports.calendar import check_zone
from tessera.services.audit import log_event
from tessera.services.reports.saved import _admin
from tessera.services.runtime import Actor, Runtime
from tessera.storage.system_tables import tenants


def get_report_settings(rt: Runtime, actor: Actor) -> dict[str, Any]:
    with rt.db.system.connect() as conn:
        row = conn.execute(sa.select(tenants.c.timezone, tenants.c.fiscal_year_start_month)
                           .where(tenants.c.id == actor.tenant.id)).one()
    return {"timezone": row.timezone, "fiscalYearStartMonth": row.fiscal_year_start_month}


def update_report_settings(rt: Runtime, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """Administrators set ``timezone`` (an IANA name) and ``fiscalYearStartMonth`` (1–12)."""
    _admin(actor)
    values: dict[str, Any] = {}
    if data.get("timezone") is not None:
        check_zone(data["timezone"])
        values["timezone"] = data["timezone"]
    month = data.get("fiscalYearStartMonth")
    if month is not None:
        if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
            raise ValidationError("fiscalYearStartMonth: a month from 1 to 12", field="fiscalYearStartMonth")
        values["fiscal_year_start_month"] = month
    if values:
        with rt.db.system.begin() as conn:
            conn.execute(sa.update(tenants).where(tenants.c.id == actor.tenant.id).values(**values))
            log_event(conn, actor.tenant.id, "metadata", target="report settings", user_id=actor.user_id,
                      details={"after": data})
    return get_report_settings(rt, actor)
