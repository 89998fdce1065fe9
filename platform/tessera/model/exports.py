"""Definitions as packages and the API's inputs spell them: one dict form for export, comparison
(packages apply only what differs) and the metadata change log."""

from __future__ import annotations

from typing import Any

from tessera.model.definitions import FieldDef, ObjectDef, ValidationRuleDef

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
