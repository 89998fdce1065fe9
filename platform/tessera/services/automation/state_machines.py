"""Stage state machines (as in Frappe workflows): which values a picklist field may move between,
who may make each move, and which fields must be filled on entering a state.

Definitions are metadata (one transaction through ``run_change``, so the version bumps and every
process reloads them); ``check`` is what ``RecordWriter`` calls on every create and update, so the
rules hold on every write path. Administrators and system actors (jobs, workflows, plugins,
approvals) bypass the role checks but never the transition graph or the required fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import marshmallow as ma
import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.core.errors import Conflict, Forbidden, NotFound, ValidationError, ValidationErrors
from tessera.core.ids import new_id
from tessera.model.access import UserAccess
from tessera.model.definitions import ObjectDef, StateMachineDef, TransitionDef
from tessera.model.schemas import load
from tessera.services.automation.dependents import first_problem, role_names, state_machine_problems
from tessera.services.metadata.change import Change, run_change
from tessera.services.runtime import Actor, Runtime
from tessera.storage.system_tables import roles, state_machines

MAX_TRANSITIONS = 500
MACHINE_KEYS = ("field", "transitions", "requiredFields", "active")


class TransitionSchema(ma.Schema):
    from_ = ma.fields.String(data_key="from", load_default=None, allow_none=True)
    to = ma.fields.String(required=True)
    roles = ma.fields.List(ma.fields.String(), load_default=list, allow_none=True)


class MachineSchema(ma.Schema):
    field = ma.fields.String(required=True)
    transitions = ma.fields.List(ma.fields.Nested(TransitionSchema), required=True,
                                 validate=ma.validate.Length(1, MAX_TRANSITIONS))
    requiredFields = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()),
                                    load_default=dict, allow_none=True)
    active = ma.fields.Boolean(load_default=True)


# --- definitions -------------------------------------------------------------------------------
def create_state_machine(rt: Runtime, actor: Actor, data: dict[str, Any], *, origin: str = "custom") -> StateMachineDef:
    return run_change(rt, actor, lambda change: add_state_machine_in(change, data, origin=origin))


def update_state_machine(rt: Runtime, actor: Actor, data: dict[str, Any]) -> StateMachineDef:
    """Change the keys given (``transitions`` and ``requiredFields`` replace the stored ones)."""
    def step(change: Change) -> StateMachineDef:
        obj = change.object(data.get("object") or "")
        old = _existing(obj, data.get("field"))
        merged = {**export_state_machine(old), **{k: v for k, v in data.items() if k != "object" and v is not None}}
        return _save(change, obj, _build(change, obj, merged, origin=old.origin), old)

    return run_change(rt, actor, step)


def delete_state_machine(rt: Runtime, actor: Actor, data: dict[str, Any]) -> StateMachineDef:
    def step(change: Change) -> StateMachineDef:
        machine = _existing(change.object(data.get("object") or ""), data.get("field"))
        change.conn.execute(state_machines.delete().where(state_machines.c.id == machine.id))
        return machine

    return run_change(rt, actor, step)


def apply_state_machine(rt: Runtime, actor: Actor, data: dict[str, Any], *, origin: str = "custom") -> StateMachineDef:
    """Create the machine, or make the stored one exactly ``data`` (for metadata packages)."""
    return run_change(rt, actor, lambda change: apply_state_machine_in(change, data, origin=origin))


def apply_state_machine_in(change: Change, data: dict[str, Any], *, origin: str) -> StateMachineDef:
    obj = change.object(data.get("object") or "")
    old = next((m for m in obj.state_machines if m.field == data.get("field")), None)
    if old is None:
        return add_state_machine_in(change, data, origin=origin)
    new = _build(change, obj, {k: v for k, v in data.items() if k != "object"}, origin=old.origin)
    return old if export_state_machine(new) == export_state_machine(old) else _save(change, obj, new, old)


def add_state_machine_in(change: Change, data: dict[str, Any], *, origin: str) -> StateMachineDef:
    obj = change.object(data.get("object") or "")
    machine = _build(change, obj, {k: v for k, v in data.items() if k != "object"}, origin=origin)
    if any(m.field == machine.field for m in obj.state_machines):
        raise Conflict(f"field: {obj.name}.{machine.field} already has a state machine", field="field")
    return _save(change, obj, machine, None)


def list_state_machines(obj: ObjectDef) -> list[StateMachineDef]:
    return list(obj.state_machines)


def export_state_machine(machine: StateMachineDef) -> dict[str, Any]:
    """A machine as packages and the API's input spell it."""
    data: dict[str, Any] = {
        "field": machine.field,
        "transitions": [{"from": t.from_state, "to": t.to_state, "roles": list(t.roles)} for t in machine.transitions],
        "requiredFields": {state: list(names) for state, names in machine.required_fields.items()},
    }
    if not machine.active:
        data["active"] = False
    return data


def _build(change: Change, obj: ObjectDef, data: dict[str, Any], *, origin: str) -> StateMachineDef:
    unknown = sorted(set(data) - set(MACHINE_KEYS))
    if unknown:
        raise ValidationError(f"{unknown[0]}: not a key of state machines (they have {', '.join(MACHINE_KEYS)})",
                              field=unknown[0])
    loaded = load(MachineSchema(), data)
    transitions = tuple(TransitionDef(t["from_"], t["to"], tuple(t["roles"] or ())) for t in loaded["transitions"])
    seen: set[tuple[str | None, str]] = set()
    for index, t in enumerate(transitions):
        if (t.from_state, t.to_state) in seen:
            raise ValidationError(f"transitions.{index}: the move from {_state(t.from_state)} to '{t.to_state}' "
                                  "is listed twice", field="transitions")
        seen.add((t.from_state, t.to_state))
    machine = StateMachineDef(
        field=loaded["field"], object_name=obj.name, transitions=transitions,
        required_fields=MappingProxyType({k: tuple(v) for k, v in (loaded["requiredFields"] or {}).items()}),
        active=loaded["active"], origin=origin,
    )
    first_problem(state_machine_problems(obj, machine, role_names(change.conn, change.tenant.id)))
    return machine


def _save(change: Change, obj: ObjectDef, machine: StateMachineDef, old: StateMachineDef | None) -> StateMachineDef:
    now = utcnow()
    row = {
        "transitions": [{"from": t.from_state, "to": t.to_state, "roles": list(t.roles)} for t in machine.transitions],
        "required_fields": {k: list(v) for k, v in machine.required_fields.items()},
        "active": machine.active, "updated_at": now,
    }
    if old is None:
        change.conn.execute(state_machines.insert().values(
            id=new_id(), tenant_id=change.tenant.id, object_id=obj.id, field_name=machine.field,
            origin=machine.origin, created_at=now, **row))
    else:
        change.conn.execute(state_machines.update().where(state_machines.c.id == old.id).values(**row))
    found = next(m for m in change.reload().by_name[obj.name].state_machines if m.field == machine.field)
    return found


def _existing(obj: ObjectDef, field: Any) -> StateMachineDef:
    found = next((m for m in obj.state_machines if m.field == field), None)
    if found is None:
        raise NotFound(f"field: {obj.name} has no state machine on '{field}'", field="field")
    return found


# --- the write path ----------------------------------------------------------------------------
Write = tuple[str | None, Mapping[str, Any]]
"""(the id of the record updated, or None when creating; the column values written)."""


def check(
    conn: sa.Connection, access: UserAccess, obj: ObjectDef, table: sa.Table, writes: Sequence[Write],
    *, bulk: bool = False,
) -> None:
    """Refuse writes that break an active state machine of ``obj``.

    A move outside the graph or a required field left empty is a VALIDATION error (every row's
    problems at once, ``data.N:`` in bulk); a move the user's role may not make is FORBIDDEN.
    """
    machines = [m for m in obj.state_machines if m.active]
    if not machines:
        return
    current = _current(conn, obj, table, machines, [record_id for record_id, _ in writes if record_id])
    errors: list[ValidationError] = []
    refusals: list[Forbidden] = []
    user_role = _RoleOf(conn, access)
    for index, (record_id, values) in enumerate(writes):
        before = current.get(record_id, {}) if record_id else None
        for machine in machines:
            problem = _move(obj, machine, before, values, user_role)
            if problem is None:
                continue
            at = index if bulk else None
            (refusals if isinstance(problem, Forbidden) else errors).append(_at(problem, at))  # type: ignore[arg-type]
    if errors:
        raise errors[0] if len(errors) == 1 and not bulk else ValidationErrors(errors[:20])
    if refusals:
        raise refusals[0]


def _move(
    obj: ObjectDef, machine: StateMachineDef, before: Mapping[str, Any] | None, values: Mapping[str, Any],
    user_role: _RoleOf,
) -> ValidationError | Forbidden | None:
    """The problem with one record's change of ``machine.field``, if any."""
    field = obj.field(machine.field)
    if field is None or field.column_name not in values:
        return None
    creating = before is None
    old = None if creating else before.get(field.column_name)  # type: ignore[union-attr]
    new = values[field.column_name]
    if not creating and old == new:
        return None
    moves = [t for t in machine.transitions if t.from_state == old]
    if old is None and not moves and new is not None:
        transition: TransitionDef | None = TransitionDef(None, new)  # no initial states declared: any value
    else:
        transition = next((t for t in moves if t.to_state == new), None)
    if transition is None:
        allowed = [t.to_state for t in moves]
        where = "nowhere (it is final)" if not allowed else ", ".join(f"'{s}'" for s in allowed)
        verb = f"a new {obj.name} cannot start at" if creating else f"cannot go from {_state(old)} to"
        return ValidationError(f"{field.name}: {verb} {_state(new)}; from {_state(old)} it may go to {where}",
                               field=field.name, **{"from": old, "to": new, "allowed": allowed})
    if transition.roles and not user_role.allowed(transition.roles):
        listed = ", ".join(transition.roles)
        return Forbidden(f"{field.name}: only users with role {listed} may move {obj.name} from {_state(old)} "
                         f"to {_state(new)}", field=field.name, roles=list(transition.roles))
    for name in machine.required_fields.get(new, ()):
        required = obj.field(name)
        if required is None:
            continue
        value = values[required.column_name] if required.column_name in values else (before or {}).get(required.column_name)
        if value is None or value in ("", [], {}):
            return ValidationError(f"{name} is required when {field.name} becomes '{new}'", field=name,
                                   state=new, stateField=field.name)
    return None


def _current(
    conn: sa.Connection, obj: ObjectDef, table: sa.Table, machines: list[StateMachineDef], ids: list[str]
) -> dict[str, dict[str, Any]]:
    """The stored values each check may need (state fields and required fields), per record id."""
    if not ids:
        return {}
    names = {m.field for m in machines} | {n for m in machines for names in m.required_fields.values() for n in names}
    columns = sorted({f.column_name for f in (obj.field(n) for n in names) if f is not None and not f.is_computed})
    rows = conn.execute(sa.select(table.c.id, *[table.c[c] for c in columns]).where(table.c.id.in_(ids))).mappings()
    return {row["id"]: dict(row) for row in rows}


class _RoleOf:
    """The writer's role name, read once and only when a transition names roles."""

    def __init__(self, conn: sa.Connection, access: UserAccess) -> None:
        self.conn = conn
        self.access = access
        self._name: str | None = None
        self._read = False

    def allowed(self, wanted: Sequence[str]) -> bool:
        if self.access.profile.is_admin:
            return True
        if not self._read:
            self._read = True
            if self.access.role_id:
                self._name = self.conn.execute(sa.select(roles.c.name).where(roles.c.id == self.access.role_id)).scalar()
        return self._name is not None and self._name in wanted


def _state(value: Any) -> str:
    return "no value" if value is None else f"'{value}'"


def _at(error: Any, index: int | None) -> Any:
    if index is not None:
        error.details["index"] = index
        error.message = f"data.{index}: {error.message}"
    return error
