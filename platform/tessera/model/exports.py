"""Definitions as packages and the API's inputs spell them: one dict form for export, comparison
(packages apply only what differs) and the metadata change log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tessera.model.definitions import FieldDef, ObjectDef, ValidationRuleDef, WorkflowDef

FIELD_FLAGS = (("required", "required"), ("unique", "unique"), ("indexed", "indexed"), ("read_only", "readOnly"))


def export_field(field: FieldDef) -> dict[str, Any]:
    data: dict[str, Any] = {"name": field.name, "type": field.type, "label": dict(field.labels)}
    if field.description:
        data["description"] = dict(field.description)
    if field.help_text:
        data["helpText"] = dict(field.help_text)
    for attr, key in FIELD_FLAGS:
        if getattr(field, attr) and not (key == "readOnly" and field.type == "AUTO_NUMBER"):
            data[key] = True
    if field.default_value is not None:
        data["defaultValue"] = field.default_value
    if field.default_expression is not None:
        data["defaultExpression"] = field.default_expression
    if not field.track_history and not field.is_computed:
        data["trackHistory"] = False
    data.update(dict(field.options))
    return data


def export_object(obj: ObjectDef) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": obj.name,
        "pluralName": obj.plural_name,
        "label": dict(obj.labels),
        "pluralLabel": dict(obj.plural_labels),
    }
    if obj.description:
        data["description"] = dict(obj.description)
    if obj.sharing != "PUBLIC_READ_WRITE":
        data["sharing"] = obj.sharing
    data["fields"] = [export_field(f) for f in obj.fields]
    if obj.validation_rules:
        data["validationRules"] = [export_rule(r) for r in obj.validation_rules]
    if obj.workflows:
        data["workflows"] = [
            {k: v for k, v in export_workflow(w).items() if k != "object"} for w in obj.workflows
        ]
    return data


def export_rule(rule: ValidationRuleDef) -> dict[str, Any]:
    """A rule as packages and the API's input spell it."""
    data: dict[str, Any] = {"name": rule.name, "expression": rule.expression, "message": dict(rule.message)}
    if rule.field:
        data["field"] = rule.field
    if not rule.active:
        data["active"] = False
    if rule.description:
        data["description"] = dict(rule.description)
    return data


SECRET_MASK = "********"


def export_workflow(workflow: WorkflowDef, *, secrets: bool = False) -> dict[str, Any]:
    """A workflow as packages and the API's input spell it; webhook secrets masked unless ``secrets``."""
    actions = []
    for action in workflow.actions:
        data = {k: _plain(v) for k, v in action.items()}
        if "secret" in data and not secrets:
            data["secret"] = SECRET_MASK
        actions.append(data)
    exported: dict[str, Any] = {
        "object": workflow.object_name, "name": workflow.name, "active": workflow.active,
        "trigger": _plain(workflow.trigger), "actions": actions,
    }
    if workflow.condition:
        exported["condition"] = workflow.condition
    if workflow.description:
        exported["description"] = workflow.description
    return exported


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
