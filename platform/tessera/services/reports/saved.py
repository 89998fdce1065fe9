"""Saved reports: create, update, delete, list. Definitions are checked on save by compiling them for
an administrator, so a saved report always names fields that exist."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from croniter import croniter

from tessera.core.clock import utcnow
from tessera.core.errors import Conflict, Forbidden, NotFound, ValidationError
from tessera.core.ids import new_id
from tessera.model.access import SYSTEM
from tessera.model.names import check_name
from tessera.services.audit import log_event
from tessera.services.reports.run import compile_for
from tessera.services.runtime import Actor, Runtime
from tessera.storage.system_tables import reports


@dataclass(frozen=True)
class SavedReport:
    id: str
    name: str
    labels: Mapping[str, str]
    description: str | None
    object: str
    definition: Mapping[str, Any]
    origin: str
    updated_at: datetime
    snapshot_cron: str | None = None


def _admin(actor: Actor) -> None:
    if not actor.access.profile.is_admin:
        raise Forbidden("only administrators change reports and dashboards")


def _row(row: Any) -> SavedReport:
    return SavedReport(row.id, row.name, row.labels or {}, row.description, row.object_name, row.definition,
                       row.origin, row.updated_at, row.snapshot_cron)


def check_cron(value: Any) -> str | None:
    """A snapshot schedule: five cron fields (UTC), or None for none."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value.split()) != 5 or not croniter.is_valid(value):
        raise ValidationError("snapshotCron: five cron fields (minute hour day month weekday)", field="snapshotCron")
    return value


def system_actor(actor: Actor) -> Actor:
    """``actor`` with the platform's own access: definitions are checked against all the metadata."""
    return Actor(actor.tenant, actor.user_id, actor.channel, SYSTEM)


def check_definition(rt: Runtime, actor: Actor, definition: Any) -> dict[str, Any]:
    """The definition, refused unless it compiles (defaults of its parameters bound)."""
    if not isinstance(definition, Mapping):
        raise ValidationError("definition: an object is required", field="definition")
    with rt.read(actor.tenant) as conn:
        compile_for(rt, system_actor(actor), conn, definition)
    return dict(definition)


def list_reports(rt: Runtime, actor: Actor) -> list[SavedReport]:
    with rt.db.system.connect() as conn:
        rows = conn.execute(sa.select(reports).where(reports.c.tenant_id == actor.tenant.id).order_by(reports.c.name))
        return [_row(r) for r in rows]


def get_report(rt: Runtime, actor: Actor, name: str) -> SavedReport:
    with rt.db.system.connect() as conn:
        row = conn.execute(sa.select(reports).where(reports.c.tenant_id == actor.tenant.id,
                                                    reports.c.name == name)).first()
    if row is None:
        raise NotFound(f"name: no report '{name}'", field="name")
    return _row(row)


def save_report_in(conn: sa.Connection, rt: Runtime, actor: Actor, data: Mapping[str, Any], *, create: bool,
                   origin: str = "custom") -> None:
    name = check_name(data.get("name"), what="report")
    existing = conn.execute(sa.select(reports.c.id, reports.c.definition, reports.c.snapshot_cron).where(
        reports.c.tenant_id == actor.tenant.id, reports.c.name == name)).first()
    given = data.get("definition")
    if given is None and not create and existing is not None:
        given = existing.definition
    definition = check_definition(rt, actor, given)
    now = utcnow()
    values: dict[str, Any] = {"object_name": definition.get("object"), "definition": definition, "updated_at": now}
    for key, column in (("label", "labels"), ("description", "description")):
        if create or key in data:
            value = data.get(key)
            values[column] = ({} if value is None else {"en": value} if isinstance(value, str) else dict(value)
                              ) if key == "label" else value
    if create or "snapshotCron" in data:
        values["snapshot_cron"] = check_cron(data.get("snapshotCron"))
        if existing is None or existing.snapshot_cron != values["snapshot_cron"]:
            values["snapshot_fired_at"] = None  # a new schedule is armed by the next tick
    if create:
        if existing is not None:
            raise Conflict(f"name: a report '{name}' exists", field="name")
        conn.execute(reports.insert().values(id=new_id(), tenant_id=actor.tenant.id, name=name, origin=origin,
                                             created_by=actor.user_id, created_at=now, **values))
    else:
        if existing is None:
            raise NotFound(f"name: no report '{name}'", field="name")
        conn.execute(reports.update().where(reports.c.id == existing.id).values(**values))
    log_event(conn, actor.tenant.id, "metadata", target=f"report {name}", user_id=actor.user_id,
              details={"after": definition})


def create_report(rt: Runtime, actor: Actor, data: dict[str, Any]) -> SavedReport:
    _admin(actor)
    with rt.db.system.begin() as conn:
        save_report_in(conn, rt, actor, data, create=True)
    return get_report(rt, actor, data["name"])


def update_report(rt: Runtime, actor: Actor, data: dict[str, Any]) -> SavedReport:
    _admin(actor)
    with rt.db.system.begin() as conn:
        save_report_in(conn, rt, actor, data, create=False)
    return get_report(rt, actor, data["name"])


def delete_report(rt: Runtime, actor: Actor, data: dict[str, Any]) -> SavedReport:
    _admin(actor)
    found = get_report(rt, actor, str(data.get("name")))
    with rt.db.system.begin() as conn:
        conn.execute(reports.delete().where(reports.c.id == found.id))
        log_event(conn, actor.tenant.id, "metadata", target=f"report {found.name}", user_id=actor.user_id,
                  details={"before": dict(found.definition)})
    return found
