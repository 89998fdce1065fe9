"""State machines and approval processes name fields, picklist options and roles: they are checked
when they are saved, and every metadata change re-checks them against the definitions it would
commit, refusing (``IN_USE``) a change that would leave one pointing at nothing — the equivalent of
``services/metadata/computed.refuse_broken`` for expressions.

This module reads definitions only (it never changes them), so the metadata change harness can
call it without importing the services that edit them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from tessera.core.errors import InUse, TesseraError, ValidationError
from tessera.model.definitions import ApprovalProcessDef, ObjectDef, StateMachineDef, TenantMetadata
from tessera.model.expressions import CheckedExpression, Context, check_for_object
from tessera.model.field_types import registry
from tessera.storage.system_tables import roles

MAX_LISTED = 10
APPROVER_TYPES = ("ROLE", "MANAGER_CHAIN", "USERS")

Problem = tuple[str, str]
"""(the input key at fault, what is wrong)."""


def role_names(conn: sa.Connection, tenant_id: str) -> frozenset[str]:
    return frozenset(conn.execute(sa.select(roles.c.name).where(roles.c.tenant_id == tenant_id)).scalars())


def first_problem(problems: list[Problem]) -> None:
    """Refuse a definition being saved with its first problem, naming the input key."""
    if problems:
        key, message = problems[0]
        raise ValidationError(f"{key}: {message}", field=key.split(".")[0])


# --- state machines ----------------------------------------------------------------------------
def state_machine_problems(obj: ObjectDef, machine: StateMachineDef, known_roles: frozenset[str]) -> list[Problem]:
    field = obj.field(machine.field)
    if field is None:
        return [("field", f"{obj.name} has no field '{machine.field}'")]
    if field.type != "PICKLIST":
        return [("field", f"{obj.name}.{field.name} is a {field.type} field, not a PICKLIST")]
    options = {o.value for o in field.picklist_options}
    problems: list[Problem] = []
    for index, transition in enumerate(machine.transitions):
        for key, state in (("from", transition.from_state), ("to", transition.to_state)):
            if state is not None and state not in options:
                problems.append((f"transitions.{index}.{key}",
                                 f"'{state}' is not an option of {obj.name}.{field.name}"))
        problems.extend((f"transitions.{index}.roles", f"no role '{role}'")
                        for role in transition.roles if role not in known_roles)
    for state, names in machine.required_fields.items():
        if state not in options:
            problems.append(("requiredFields", f"'{state}' is not an option of {obj.name}.{field.name}"))
        for name in names:
            required = obj.field(name)
            if required is None:
                problems.append(("requiredFields", f"{obj.name} has no field '{name}' (required in '{state}')"))
            elif required.is_computed:
                problems.append(("requiredFields", f"{name} is a {required.type} field: its value is computed"))
    return problems


# --- approval processes ------------------------------------------------------------------------
def entry_condition(meta: TenantMetadata, obj: ObjectDef, source: str) -> CheckedExpression:
    """The checked entry condition: a boolean on the record's fields (and lookup paths), in SQL."""
    try:
        return check_for_object(source, meta, obj.name, Context.FILTER)
    except ValidationError as exc:
        details = {k: v for k, v in exc.details.items() if k != "field"}
        raise ValidationError(f"entryCondition: {exc.message}", field="entryCondition", **details) from None


def approval_problems(
    meta: TenantMetadata, obj: ObjectDef, process: ApprovalProcessDef, known_roles: frozenset[str]
) -> list[Problem]:
    problems: list[Problem] = []
    if process.entry_condition:
        try:
            entry_condition(meta, obj, process.entry_condition)
        except ValidationError as exc:
            problems.append(("entryCondition", exc.message.removeprefix("entryCondition: ")))
    approvers = process.approvers
    if approvers.get("type") == "ROLE" and approvers.get("role") not in known_roles:
        problems.append(("approvers.role", f"no role '{approvers.get('role')}'"))
    for key, updates in (("onSubmit", process.on_submit), ("onApprove", process.on_approve),
                         ("onReject", process.on_reject)):
        problems.extend(update_problems(obj, key, updates))
    return problems


def update_problems(obj: ObjectDef, key: str, updates: Mapping[str, Any]) -> list[Problem]:
    """Field updates an outcome applies: fields that can be written, values their types accept."""
    problems: list[Problem] = []
    types = registry()
    for name, value in updates.items():
        field = obj.field(name)
        if field is None:
            problems.append((f"{key}.{name}", f"{obj.name} has no field '{name}'"))
        elif field.is_computed or field.read_only or field.type == "AUTO_NUMBER":
            problems.append((f"{key}.{name}", f"{obj.name}.{name} cannot be written (it is computed or read-only)"))
        else:
            try:
                types.of(field).parse(field, value)
            except ValidationError as exc:
                problems.append((f"{key}.{name}", exc.message.removeprefix(f"{name}: ")))
    return problems


# --- every metadata change ---------------------------------------------------------------------
def broken_automation(meta: TenantMetadata, known_roles: frozenset[str]) -> list[str]:
    """Every state machine and approval process that does not hold against ``meta``, described."""
    found = []
    for obj in meta.objects:
        for machine in obj.state_machines:
            found.extend(_described(f"state machine {obj.name}.{machine.field}",
                                    state_machine_problems(obj, machine, known_roles)))
        for process in obj.approval_processes:
            found.extend(_described(f"approval process {process.name}",
                                    _safe(lambda p=process, o=obj: approval_problems(meta, o, p, known_roles))))
    return found


def refuse_broken_automation(conn: sa.Connection, tenant_id: str, meta: TenantMetadata) -> None:
    """Refuse a metadata change (field, option or role removed...) that breaks a state machine or an
    approval process; called by ``run_change`` after ``refuse_broken``."""
    if not any(obj.state_machines or obj.approval_processes for obj in meta.objects):
        return
    problems = broken_automation(meta, role_names(conn, tenant_id))
    if problems:
        listed = problems[:MAX_LISTED]
        more = f" and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
        raise InUse("this change would break automation that depends on it: " + "; ".join(listed) + more,
                    dependents=listed)


def _described(what: str, problems: Iterable[Problem]) -> list[str]:
    return [f"{what}: {key}: {message}" for key, message in problems]


def _safe(check: Any) -> list[Problem]:
    try:
        return list(check())
    except TesseraError as exc:
        return [("definition", exc.message)]
