"""Workflow definitions: the trigger, the condition and the actions an admin writes, checked against the
tenant's metadata before they are saved, and their expressions compiled for running.

A definition is plain data (JSON in GraphQL, YAML in packages)::

    {"object": "opportunity", "name": "bigDealAlert", "active": true,
     "trigger": {"event": "UPDATED", "fields": ["stage"]},
     "condition": "amount > 100000",
     "actions": [{"type": "NOTIFY", "recipients": ["owner", "manager"], "title": "Big deal {{ name }}"}]}

``check_workflow`` returns the normalized definition (keys it does not know are refused, so a typo
never silently does nothing) or raises a ``ValidationError`` naming the input path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from croniter import croniter

from tessera.core.errors import ValidationError
from tessera.model.automation.templates import Template, check_template
from tessera.model.definitions import FieldDef, ObjectDef, TenantMetadata, WorkflowDef
from tessera.model.expressions import CheckedExpression, Context, check_for_object, field_expr_type
from tessera.model.field_types import registry

EVENTS = ("CREATED", "UPDATED", "DELETED", "SCHEDULED", "DATE_RELATIVE", "MANUAL")
RECORD_EVENTS = frozenset({"CREATED", "UPDATED", "DELETED"})
ACTION_TYPES = ("UPDATE_FIELDS", "CREATE_RECORD", "UPDATE_RELATED", "NOTIFY", "WEBHOOK", "ASSIGN", "PLUGIN")
RECIPIENT = re.compile(
    r"^(owner|manager|creator|triggeredBy|user:[0-9a-fA-F-]{36}|role:[A-Za-z][A-Za-z0-9_]*|owner:[a-z][A-Za-z0-9]*)$"
)
RECIPIENT_HELP = "owner, manager, creator, triggeredBy, owner:<lookup field>, user:<id> or role:<name>"
NAME = re.compile(r"^[a-z][A-Za-z0-9]{0,62}$")
MAX_ACTIONS = 20
MAX_WEBHOOK_TIMEOUT = 30


@dataclass(frozen=True)
class WorkflowContext:
    """What a definition may refer to besides metadata: plugin actions and roles that exist."""

    plugin_actions: frozenset[str] = frozenset()
    role_names: frozenset[str] = frozenset()
    user_ids: frozenset[str] = frozenset()


TRIGGER_KEYS = {
    "CREATED": set(),
    "UPDATED": {"fields", "conditionBecomesTrue"},
    "DELETED": set(),
    "SCHEDULED": {"cron"},
    "DATE_RELATIVE": {"dateField", "offsetDays"},
    "MANUAL": set(),
}

ACTION_KEYS = {
    "UPDATE_FIELDS": {"values", "formulas"},
    "CREATE_RECORD": {"object", "values", "formulas", "link"},
    "UPDATE_RELATED": {"lookup", "children", "values", "formulas"},
    "NOTIFY": {"recipients", "title", "body", "email"},
    "WEBHOOK": {"url", "secret", "fields", "timeoutSeconds", "maxAttempts"},
    "ASSIGN": {"role", "users"},
    "PLUGIN": {"action", "params"},
}


def check_workflow(meta: TenantMetadata, data: Mapping[str, Any], context: WorkflowContext) -> dict[str, Any]:
    """The normalized definition of ``data``, or a ``ValidationError`` naming what is wrong."""
    name = data.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise ValidationError("name: use 1-63 letters and digits, starting with a lowercase letter", field="name")
    obj = meta.object(str(data.get("object") or ""))
    if obj is None:
        raise ValidationError(f"object: no object '{data.get('object')}'", field="object")
    trigger = _trigger(obj, data.get("trigger"))
    condition = data.get("condition") or None
    if condition is not None:
        if not isinstance(condition, str):
            raise ValidationError("condition: must be an expression (text)", field="condition")
        _expression(condition, meta, obj.name, Context.CONDITION, "condition")
        if trigger["event"] != "UPDATED" and _uses_record_change(condition, meta, obj.name):
            raise ValidationError("condition: ISCHANGED and PRIORVALUE need an UPDATED trigger", field="condition")
    elif trigger.get("conditionBecomesTrue"):
        raise ValidationError("trigger.conditionBecomesTrue: the workflow has no condition", field="trigger")
    actions = data.get("actions")
    if not isinstance(actions, Sequence) or isinstance(actions, str) or not actions:
        raise ValidationError("actions: give at least one action", field="actions")
    if len(actions) > MAX_ACTIONS:
        raise ValidationError(f"actions: at most {MAX_ACTIONS}", field="actions")
    checked = [_action(meta, obj, trigger, a, f"actions.{i}", context) for i, a in enumerate(actions)]
    description = data.get("description")
    return {
        "object": obj.name, "name": name, "description": description if isinstance(description, str) else None,
        "active": bool(data.get("active", True)), "trigger": trigger, "condition": condition, "actions": checked,
    }


def _uses_record_change(source: str, meta: TenantMetadata, object_name: str) -> bool:
    checked = check_for_object(source, meta, object_name, Context.CONDITION)
    return bool(checked.functions & {"ISCHANGED", "PRIORVALUE"})


def _expression(source: str, meta: TenantMetadata, object_name: str, context: Context, where: str,
                expected: Any = None) -> CheckedExpression:
    try:
        return check_for_object(source, meta, object_name, context, expected=expected)
    except ValidationError as exc:
        raise ValidationError(f"{where}: {exc.message}", field=where.split(".")[0]) from None


def _unknown(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise ValidationError(f"{where}: unknown key '{extra[0]}' (allowed: {', '.join(sorted(allowed)) or 'none'})",
                              field=where.split(".")[0])


def _trigger(obj: ObjectDef, data: Any) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise ValidationError("trigger: give {event: ...}", field="trigger")
    event = data.get("event")
    if event not in EVENTS:
        raise ValidationError(f"trigger.event: '{event}' is not one of {', '.join(EVENTS)}", field="trigger")
    _unknown(data, TRIGGER_KEYS[event] | {"event"}, "trigger")
    trigger: dict[str, Any] = {"event": event}
    if event == "UPDATED":
        fields = data.get("fields") or []
        if not isinstance(fields, Sequence) or isinstance(fields, str):
            raise ValidationError("trigger.fields: give a list of field names", field="trigger")
        for name in fields:
            if name != "owner" and obj.field(str(name)) is None:
                raise ValidationError(f"trigger.fields: {obj.name} has no field '{name}'", field="trigger")
            if obj.field(str(name)) is not None and obj.field(str(name)).is_computed:  # type: ignore[union-attr]
                raise ValidationError(f"trigger.fields: {name} is computed; watch the fields it is computed from",
                                      field="trigger")
        trigger["fields"] = list(dict.fromkeys(str(f) for f in fields))
        trigger["conditionBecomesTrue"] = bool(data.get("conditionBecomesTrue", False))
    elif event == "SCHEDULED":
        cron = data.get("cron")
        if not isinstance(cron, str) or not croniter.is_valid(cron) or len(cron.split()) != 5:
            raise ValidationError(f"trigger.cron: '{cron}' is not a cron expression (minute hour day month weekday)",
                                  field="trigger")
        trigger["cron"] = cron
    elif event == "DATE_RELATIVE":
        field_def = obj.field(str(data.get("dateField") or ""))
        if field_def is None or field_def.type not in ("DATE", "DATETIME"):
            raise ValidationError(f"trigger.dateField: {obj.name} has no date field '{data.get('dateField')}'",
                                  field="trigger")
        offset = data.get("offsetDays", 0)
        if isinstance(offset, bool) or not isinstance(offset, int) or abs(offset) > 3_650:
            raise ValidationError("trigger.offsetDays: a whole number of days (negative: before the date)",
                                  field="trigger")
        trigger.update(dateField=field_def.name, offsetDays=offset)
    return trigger


def _action(meta: TenantMetadata, obj: ObjectDef, trigger: Mapping[str, Any], data: Any, where: str,
            context: WorkflowContext) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise ValidationError(f"{where}: give {{type: ...}}", field="actions")
    kind = data.get("type")
    if kind not in ACTION_TYPES:
        raise ValidationError(f"{where}.type: '{kind}' is not one of {', '.join(ACTION_TYPES)}", field="actions")
    _unknown(data, ACTION_KEYS[kind] | {"type"}, where)
    action: dict[str, Any] = {"type": kind}
    if kind == "UPDATE_FIELDS":
        if trigger["event"] == "DELETED":
            raise ValidationError(f"{where}: a deleted record cannot be updated", field="actions")
        action.update(_updates(meta, obj, obj, data, where))
    elif kind == "CREATE_RECORD":
        target = meta.object(str(data.get("object") or ""))
        if target is None:
            raise ValidationError(f"{where}.object: no object '{data.get('object')}'", field="actions")
        action["object"] = target.name
        link = data.get("link")
        if link is not None:
            link_field = target.field(str(link))
            if link_field is None or link_field.target != obj.name:
                raise ValidationError(f"{where}.link: {target.name} has no lookup '{link}' to {obj.name}",
                                      field="actions")
            action["link"] = link_field.name
        action.update(_updates(meta, obj, target, data, where, creating=True, linked=action.get("link")))
    elif kind == "UPDATE_RELATED":
        lookup, children = data.get("lookup"), data.get("children")
        if (lookup is None) == (children is None):
            raise ValidationError(f"{where}: give either lookup (the parent) or children (object.lookupField)",
                                  field="actions")
        if lookup is not None:
            lookup_field = obj.field(str(lookup))
            if lookup_field is None or not lookup_field.is_lookup:
                raise ValidationError(f"{where}.lookup: {obj.name} has no lookup '{lookup}'", field="actions")
            target = meta.by_name[lookup_field.target or ""]
            action["lookup"] = lookup_field.name
        else:
            source_name, _, field_name = str(children).partition(".")
            source = meta.object(source_name)
            link_field = source.field(field_name) if source else None
            if source is None or link_field is None or link_field.target != obj.name:
                raise ValidationError(f"{where}.children: '{children}' is not a lookup to {obj.name} "
                                      "(write object.lookupField)", field="actions")
            target = source
            action["children"] = f"{source.name}.{link_field.name}"
        action.update(_updates(meta, obj, target, data, where))
    elif kind == "NOTIFY":
        recipients = data.get("recipients")
        if not isinstance(recipients, Sequence) or isinstance(recipients, str) or not recipients:
            raise ValidationError(f"{where}.recipients: give a list ({RECIPIENT_HELP})", field="actions")
        for recipient in recipients:
            if not isinstance(recipient, str) or not RECIPIENT.match(recipient):
                raise ValidationError(f"{where}.recipients: '{recipient}' is not {RECIPIENT_HELP}", field="actions")
            if recipient.startswith("owner:"):
                lookup = obj.field(recipient[6:])
                if lookup is None or not lookup.is_lookup:
                    raise ValidationError(f"{where}.recipients: {obj.name} has no lookup '{recipient[6:]}'",
                                          field="actions")
            if recipient.startswith("role:") and recipient[5:] not in context.role_names:
                raise ValidationError(f"{where}.recipients: no role '{recipient[5:]}'", field="actions")
            if recipient.startswith("user:") and recipient[5:] not in context.user_ids:
                raise ValidationError(f"{where}.recipients: no user '{recipient[5:]}'", field="actions")
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            raise ValidationError(f"{where}.title: give the notification's title", field="actions")
        check_template(title, meta, obj.name, f"{where}.title")
        body = data.get("body")
        if body is not None:
            if not isinstance(body, str):
                raise ValidationError(f"{where}.body: must be text", field="actions")
            check_template(body, meta, obj.name, f"{where}.body")
        action.update(recipients=list(dict.fromkeys(recipients)), title=title, body=body,
                      email=bool(data.get("email", False)))
    elif kind == "WEBHOOK":
        url = data.get("url")
        parsed = urlparse(url) if isinstance(url, str) else None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValidationError(f"{where}.url: '{url}' is not an http(s) URL", field="actions")
        secret = data.get("secret")
        if not isinstance(secret, str) or len(secret) < 16:
            raise ValidationError(f"{where}.secret: give a shared secret of at least 16 characters "
                                  "(receivers check the X-Tessera-Signature header with it)", field="actions")
        fields = data.get("fields")
        if fields is not None:
            if not isinstance(fields, Sequence) or isinstance(fields, str):
                raise ValidationError(f"{where}.fields: give a list of field names", field="actions")
            for name in fields:
                if obj.field(str(name)) is None:
                    raise ValidationError(f"{where}.fields: {obj.name} has no field '{name}'", field="actions")
            action["fields"] = [str(f) for f in fields]
        timeout = data.get("timeoutSeconds", 10)
        attempts = data.get("maxAttempts", 8)
        if not isinstance(timeout, int | float) or isinstance(timeout, bool) or not 0 < timeout <= MAX_WEBHOOK_TIMEOUT:
            raise ValidationError(f"{where}.timeoutSeconds: between 0 and {MAX_WEBHOOK_TIMEOUT}", field="actions")
        if not isinstance(attempts, int) or isinstance(attempts, bool) or not 1 <= attempts <= 20:
            raise ValidationError(f"{where}.maxAttempts: between 1 and 20", field="actions")
        action.update(url=url, secret=secret, timeoutSeconds=timeout, maxAttempts=attempts)
    elif kind == "ASSIGN":
        role, users = data.get("role"), data.get("users")
        if (role is None) == (users is None):
            raise ValidationError(f"{where}: give either role (round robin over its active users) or users",
                                  field="actions")
        if role is not None:
            if role not in context.role_names:
                raise ValidationError(f"{where}.role: no role '{role}'", field="actions")
            action["role"] = role
        else:
            if not isinstance(users, Sequence) or isinstance(users, str) or not users:
                raise ValidationError(f"{where}.users: give a list of user ids", field="actions")
            for user_id in users:
                if user_id not in context.user_ids:
                    raise ValidationError(f"{where}.users: no user '{user_id}'", field="actions")
            action["users"] = list(dict.fromkeys(users))
    elif kind == "PLUGIN":
        key = data.get("action")
        if key not in context.plugin_actions:
            raise ValidationError(f"{where}.action: no workflow action '{key}' (is its plugin installed?)",
                                  field="actions")
        params = data.get("params") or {}
        if not isinstance(params, Mapping):
            raise ValidationError(f"{where}.params: must be an object", field="actions")
        action.update(action=key, params=dict(params))
    return action


def _updates(meta: TenantMetadata, source: ObjectDef, target: ObjectDef, data: Mapping[str, Any], where: str,
             *, creating: bool = False, linked: str | None = None) -> dict[str, Any]:
    """``values`` (literals) and ``formulas`` (expressions over the triggering record) for ``target``."""
    values = data.get("values") or {}
    formulas = data.get("formulas") or {}
    if not isinstance(values, Mapping) or not isinstance(formulas, Mapping):
        raise ValidationError(f"{where}: values and formulas map field names to values/expressions", field="actions")
    if not values and not formulas and not creating:
        raise ValidationError(f"{where}: give values or formulas to set", field="actions")
    both = set(values) & set(formulas)
    if both:
        raise ValidationError(f"{where}: {sorted(both)[0]} is both in values and in formulas", field="actions")
    parsed: dict[str, Any] = {}
    for name, value in values.items():
        target_field = _writable(target, str(name), f"{where}.values")
        try:
            registry().of(target_field).parse(target_field, value)
        except ValidationError as exc:
            raise ValidationError(f"{where}.values.{exc.message}", field="actions") from None
        parsed[str(name)] = value
    checked: dict[str, str] = {}
    for name, source_text in formulas.items():
        target_field = _writable(target, str(name), f"{where}.formulas")
        if not isinstance(source_text, str):
            raise ValidationError(f"{where}.formulas.{name}: must be an expression (text)", field="actions")
        expected = field_expr_type(target_field)
        if target_field.type == "PICKLIST" or target_field.is_lookup:
            expected = None  # checked by the field type when the value is written
        _expression(source_text, meta, source.name, Context.ACTION, f"{where}.formulas.{name}", expected)
        checked[str(name)] = source_text
    if creating:
        given = set(parsed) | set(checked) | ({linked} if linked else set())
        missing = [f.name for f in target.stored_fields if f.required and f.name not in given
                   and f.default_value is None and not f.default_expression and f.type != "AUTO_NUMBER"]
        if missing:
            raise ValidationError(f"{where}: {target.name}.{missing[0]} is required; set it in values or formulas",
                                  field="actions")
    return {"values": parsed, "formulas": checked}


def _writable(obj: ObjectDef, name: str, where: str) -> FieldDef:
    if name == "owner":
        return FieldDef(name="owner", type="TEXT", column_name="owner_id", labels={})
    found = obj.field(name)
    if found is None:
        raise ValidationError(f"{where}: {obj.name} has no field '{name}'", field="actions")
    if found.is_computed or found.read_only or found.type == "AUTO_NUMBER":
        raise ValidationError(f"{where}: {obj.name}.{name} cannot be written (computed or read-only)",
                              field="actions")
    return found


# --- compiled for running ------------------------------------------------------------------------
@dataclass(frozen=True)
class CompiledAction:
    index: int
    spec: Mapping[str, Any]
    formulas: Mapping[str, CheckedExpression] = field(default_factory=dict)
    title: Template | None = None
    body: Template | None = None


@dataclass(frozen=True)
class CompiledWorkflow:
    workflow: WorkflowDef
    condition: CheckedExpression | None
    actions: tuple[CompiledAction, ...]

    @property
    def references(self) -> set[tuple[str, ...]]:
        """Every field path of the triggering record the condition and actions read."""
        paths: set[tuple[str, ...]] = set(self.condition.references) if self.condition else set()
        for action in self.actions:
            for checked in action.formulas.values():
                paths |= set(checked.references)
            for template in (action.title, action.body):
                if template is not None:
                    paths |= template.references
        return paths


def workflow_expressions(meta: TenantMetadata, workflow: WorkflowDef) -> CompiledWorkflow:
    """The workflow's condition, formulas and templates checked against ``meta``, ready to evaluate."""
    obj = workflow.object_name
    condition = check_for_object(workflow.condition, meta, obj, Context.CONDITION) if workflow.condition else None
    actions = []
    for index, spec in enumerate(workflow.actions):
        formulas = {name: check_for_object(text, meta, obj, Context.ACTION) for name, text in (spec.get("formulas") or {}).items()}
        title = check_template(spec["title"], meta, obj, "title") if spec.get("title") else None
        body = check_template(spec["body"], meta, obj, "body") if spec.get("body") else None
        actions.append(CompiledAction(index, spec, formulas, title, body))
    return CompiledWorkflow(workflow, condition, tuple(actions))
