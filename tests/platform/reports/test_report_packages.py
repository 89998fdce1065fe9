"""Saved reports in metadata packages: listed under their source object, applied with the package
(able to use what it defines), idempotent, and refused with the entry named."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.core.errors import ValidationError
from tessera.services.packages import apply_package
from tessera.services.reports.saved import get_report
from tessera.services.runtime import Actor, Runtime

TICKET = {
    "name": "ticket", "pluralName": "tickets",
    "fields": [{"name": "subject", "type": "TEXT"}, {"name": "openedAt", "type": "DATETIME"},
               {"name": "priority", "type": "PICKLIST", "options": [{"value": "low"}, {"value": "high"}]}],
    "reports": [{"name": "ticketsByWeek", "label": "Tickets by week", "snapshotCron": "0 7 * * 1", "definition": {
        "groupBy": [{"field": "openedAt", "bucket": "WEEK"}, {"field": "priority"}],
        "measures": [{"function": "COUNT", "alias": "n"}]}}],
}


def _actor(runtime: Runtime, tenant: Any) -> Actor:
    return Actor(runtime.tenant(tenant.tenant.slug), tenant.admin_user_id)


def test_reports_apply_with_their_object_and_again_change_nothing(runtime: Runtime, tenant: Any) -> None:
    actor = _actor(runtime, tenant)
    counts = apply_package(runtime, actor, [TICKET])
    assert counts["objectsCreated"] == 1 and counts["reportsCreated"] == 1
    saved = get_report(runtime, actor, "ticketsByWeek")
    assert saved.object == "ticket" and saved.snapshot_cron == "0 7 * * 1"
    assert saved.labels == {"en": "Tickets by week"} and saved.definition["object"] == "ticket"
    again = apply_package(runtime, actor, [TICKET])
    assert not any(again.values())
    changed = {**TICKET, "reports": [{**TICKET["reports"][0], "description": "Weekly"}]}
    assert apply_package(runtime, actor, [changed])["reportsUpdated"] == 1
    assert get_report(runtime, actor, "ticketsByWeek").description == "Weekly"


def test_a_package_without_reports_counts_as_before(runtime: Runtime, tenant: Any) -> None:
    counts = apply_package(runtime, _actor(runtime, tenant), [{k: v for k, v in TICKET.items() if k != "reports"}])
    assert "reportsCreated" not in counts


@pytest.mark.parametrize("report, field", [
    ({"name": "bad", "definition": {"groupBy": [{"field": "nope"}]}}, "ticket.reports.0.groupBy.0.field"),
    ({"name": "bad", "definition": {"object": "account"}}, "ticket.reports.0.definition.object"),
    ({"name": "bad", "definition": {}, "colour": "red"}, "ticket.reports.0.colour"),
    ({"name": "bad", "definition": {"columns": ["subject"]}, "snapshotCron": "daily"}, "ticket.reports.0.snapshotCron"),
])
def test_a_broken_report_refuses_the_package(runtime: Runtime, tenant: Any, report: dict[str, Any], field: str) -> None:
    actor = _actor(runtime, tenant)
    with pytest.raises(ValidationError) as info:
        apply_package(runtime, actor, [{**TICKET, "reports": [report]}])
    assert info.value.field == field
    # nothing of the package was applied
    with runtime.read(actor.tenant) as conn:
        assert runtime.model(conn, actor.tenant).meta.object("ticket") is None
