"""Saved reports in metadata packages: an object's ``reports:`` list (the source object is the
object the list sits under), applied in the package's transaction after its objects and fields, so a
report may use anything the package defines. Applying the same package again changes nothing.

Dashboards are not part of packages: they refer to roles, which are the tenant's own, and are made
with ``createDashboard``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.core.errors import ValidationError
from tessera.core.ids import new_id
from tessera.model.access import SYSTEM
from tessera.model.names import check_name
from tessera.model.registry import TenantModel
from tessera.model.reports import Settings, bind_parameters, compile_report, parse_definition
from tessera.services.metadata.change import Change
from tessera.services.reports.saved import check_cron
from tessera.storage.system_tables import reports

KEYS = {"name", "label", "description", "definition", "snapshotCron"}


def _spec(object_name: str, index: int, item: Any) -> dict[str, Any]:
    where = f"{object_name}.reports.{index}"
    if not isinstance(item, Mapping):
        raise ValidationError(f"{where}: each report is a mapping", field=where)
    unknown = sorted(set(item) - KEYS)
    if unknown:
        raise ValidationError(f"{where}.{unknown[0]}: not part of a packaged report", field=f"{where}.{unknown[0]}")
    definition = item.get("definition")
    if not isinstance(definition, Mapping):
        raise ValidationError(f"{where}.definition: an object is required", field=f"{where}.definition")
    if definition.get("object", object_name) != object_name:
        raise ValidationError(f"{where}.definition.object: a report listed under {object_name} reports on it",
                              field=f"{where}.definition.object")
    label = item.get("label")
    try:
        cron = check_cron(item.get("snapshotCron"))
    except ValidationError as exc:
        raise ValidationError(f"{where}.{exc.message}", field=f"{where}.snapshotCron") from None
    return {
        "name": check_name(item.get("name"), what="report"),
        "labels": {} if label is None else {"en": label} if isinstance(label, str) else dict(label),
        "description": item.get("description"),
        "definition": {**definition, "object": object_name},
        "snapshot_cron": cron,
    }


def apply_reports_in(change: Change, objects: list[dict[str, Any]], origin: str, counts: dict[str, int]) -> None:
    """Create or update the reports listed under the package's objects (counted only when there are any)."""
    listed = [(spec["name"], i, item) for spec in objects for i, item in enumerate(spec.get("reports") or [])]
    if not listed:
        return
    counts.setdefault("reportsCreated", 0)
    counts.setdefault("reportsUpdated", 0)
    fields = TenantModel(change.reload()).field_sql(change.conn.dialect.name)
    for object_name, index, item in listed:
        spec = _spec(object_name, index, item)
        try:
            compile_report(parse_definition(bind_parameters(spec["definition"], None)), fields, SYSTEM, Settings())
        except ValidationError as exc:
            where = f"{object_name}.reports.{index}"
            raise ValidationError(f"{where}: {exc.message}", field=f"{where}.{exc.field or 'definition'}") from None
        _upsert(change, spec, origin, counts)


def _upsert(change: Change, spec: dict[str, Any], origin: str, counts: dict[str, int]) -> None:
    conn, tenant_id = change.conn, change.tenant.id
    current = conn.execute(sa.select(reports).where(reports.c.tenant_id == tenant_id,
                                                    reports.c.name == spec["name"])).first()
    values = {"labels": spec["labels"], "description": spec["description"], "definition": spec["definition"],
              "object_name": spec["definition"]["object"], "snapshot_cron": spec["snapshot_cron"]}
    if current is None:
        now = utcnow()
        conn.execute(reports.insert().values(id=new_id(), tenant_id=tenant_id, name=spec["name"], origin=origin,
                                             created_by=None, created_at=now, updated_at=now, **values))
        counts["reportsCreated"] += 1
    elif any(getattr(current, key) != value for key, value in values.items()):
        if current.snapshot_cron != values["snapshot_cron"]:
            values["snapshot_fired_at"] = None
        conn.execute(reports.update().where(reports.c.id == current.id).values(updated_at=utcnow(), **values))
        counts["reportsUpdated"] += 1
