"""Validation rules: defining, changing and deleting an object's rules (metadata rows only).

A rule's expression is checked when it is saved (``Context.VALIDATION``: it must give BOOLEAN and
may use ISNEW, ISCHANGED and PRIORVALUE); the write path enforces active rules
(``services/records/rules.py``).
"""

from __future__ import annotations

from dataclasses import replace as replace_
from types import MappingProxyType
from typing import Any

import marshmallow as ma

from tessera.core.clock import utcnow
from tessera.core.errors import NotFound, ValidationError
from tessera.core.ids import new_id
from tessera.model.definitions import ObjectDef, ValidationRuleDef
from tessera.model.exports import export_rule
from tessera.model.names import MAX_NAME_LENGTH, NAME_PATTERN
from tessera.model.records.computed import check_rule
from tessera.model.schemas import LabelField, load
from tessera.services.metadata.change import Change, run_change
from tessera.services.runtime import Actor, Runtime
from tessera.storage.system_tables import validation_rules

MAX_RULES_PER_OBJECT = 200
RULE_KEYS = ("name", "expression", "message", "field", "active", "description")


class RuleSchema(ma.Schema):
    name = ma.fields.String(required=True)
    expression = ma.fields.String(required=True, validate=ma.validate.Length(min=1))
    message = LabelField(required=True)
    field = ma.fields.String(load_default=None, allow_none=True)
    active = ma.fields.Boolean(load_default=True)
    description = LabelField(load_default=None, allow_none=True)


def create_validation_rule(rt: Runtime, actor: Actor, data: dict[str, Any], *, origin: str = "custom") -> ValidationRuleDef:
    return run_change(rt, actor, lambda change: add_rule_in(change, data, origin=origin))


def update_validation_rule(rt: Runtime, actor: Actor, data: dict[str, Any]) -> ValidationRuleDef:
    return run_change(rt, actor, lambda change: update_rule_in(change, data))


def delete_validation_rule(rt: Runtime, actor: Actor, data: dict[str, Any]) -> ValidationRuleDef:
    def step(change: Change) -> ValidationRuleDef:
        obj = change.object(data.get("object") or "")
        rule = _existing(obj, data.get("name"))
        change.conn.execute(validation_rules.delete().where(validation_rules.c.id == rule.id))
        return rule

    return run_change(rt, actor, step)


def add_rule_in(change: Change, data: dict[str, Any], *, origin: str) -> ValidationRuleDef:
    obj = change.object(data.get("object") or "")
    rule = _build(change, obj, {k: v for k, v in data.items() if k != "object"}, origin=origin)
    if obj.rule(rule.name) is not None:
        raise ValidationError(f"{obj.name} already has a validation rule '{rule.name}'", field="name")
    if len(obj.validation_rules) >= MAX_RULES_PER_OBJECT:
        raise ValidationError(f"{obj.name} already has {MAX_RULES_PER_OBJECT} validation rules", field="name")
    now = utcnow()
    position = max((r.position for r in obj.validation_rules), default=-1) + 1
    change.conn.execute(validation_rules.insert().values(
        id=new_id(), tenant_id=change.tenant.id, object_id=obj.id, origin=origin, position=position,
        created_at=now, updated_at=now, **_row(rule),
    ))
    return _reloaded(change, obj, rule.name)


def update_rule_in(change: Change, data: dict[str, Any], *, replace: bool = False) -> ValidationRuleDef:
    """Change a rule: only the keys given, or with ``replace`` exactly as ``data`` defines it."""
    obj = change.object(data.get("object") or "")
    old, new = planned_rule(change, obj, data, replace=replace)
    change.conn.execute(
        validation_rules.update().where(validation_rules.c.id == old.id).values(updated_at=utcnow(), **_row(new))
    )
    return _reloaded(change, obj, new.name)


def planned_rule(
    change: Change, obj: ObjectDef, data: dict[str, Any], *, replace: bool = False
) -> tuple[ValidationRuleDef, ValidationRuleDef]:
    old = _existing(obj, data.get("name"))
    if replace:
        merged = {k: v for k, v in data.items() if k != "object"}
        return old, _build(change, obj, merged, origin=old.origin, position=old.position, rule_id=old.id)
    merged = {**export_rule(old), **{k: v for k, v in data.items() if k != "object"}}
    new = _build(change, obj, merged, origin=old.origin, position=old.position, rule_id=old.id)
    # Like labels, a message given in an update changes the locales it names and keeps the others.
    if data.get("message") is not None:
        new = replace_(new, message=MappingProxyType({**old.message, **new.message}))
    return old, new


def _build(
    change: Change, obj: ObjectDef, data: dict[str, Any], *, origin: str, position: int = 0, rule_id: str | None = None
) -> ValidationRuleDef:
    unknown = sorted(set(data) - set(RULE_KEYS))
    if unknown:
        raise ValidationError(f"{unknown[0]}: not a key of validation rules (they have {', '.join(RULE_KEYS)})",
                              field=unknown[0])
    loaded = load(RuleSchema(), data)
    name = loaded["name"]
    if not NAME_PATTERN.match(name) or len(name) > MAX_NAME_LENGTH:
        raise ValidationError(
            f"name: validation rule name '{name}' must be camelCase letters and digits, at most "
            f"{MAX_NAME_LENGTH} characters", field="name",
        )
    if loaded["field"] is not None and obj.field(loaded["field"]) is None:
        raise ValidationError(f"field: {obj.name} has no field '{loaded['field']}' to attach the error to", field="field")
    rule = ValidationRuleDef(
        id=rule_id,
        name=name,
        object_name=obj.name,
        expression=loaded["expression"],
        message=MappingProxyType(loaded["message"]),
        field=loaded["field"],
        active=loaded["active"],
        description=MappingProxyType(loaded["description"]) if loaded["description"] else None,
        position=position,
        origin=origin,
    )
    check_rule(change.meta, obj.name, rule)
    return rule


def _existing(obj: ObjectDef, name: Any) -> ValidationRuleDef:
    rule = obj.rule(name) if isinstance(name, str) else None
    if rule is None:
        raise NotFound(f"{obj.name} has no validation rule '{name}'", field="name")
    return rule


def _row(rule: ValidationRuleDef) -> dict[str, Any]:
    return {
        "name": rule.name,
        "expression": rule.expression,
        "message": dict(rule.message),
        "error_field": rule.field,
        "active": rule.active,
        "description": dict(rule.description) if rule.description else None,
    }


def _reloaded(change: Change, obj: ObjectDef, name: str) -> ValidationRuleDef:
    rule = change.reload().by_name[obj.name].rule(name)
    assert rule is not None
    return rule
