"""Marshmallow schemas for object and field definitions: the one validation of both the GraphQL
metadata API and YAML metadata packages. Keys are the API's camelCase names."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from tessera.core.errors import ValidationError
from tessera.core.i18n import normalise_label

OBJECT_KEYS = ("name", "pluralName", "label", "pluralLabel", "description", "sharing")
SHARING = ("PRIVATE", "PUBLIC_READ", "PUBLIC_READ_WRITE")
FIELD_BASE_KEYS = (
    "name", "type", "label", "description", "helpText", "required", "unique", "indexed",
    "readOnly", "defaultValue", "defaultExpression", "trackHistory",
)


class LabelField(ma.fields.Field):
    """A label: plain text (English) or a map of locale to text."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict[str, str]:
        if isinstance(value, str):
            if not value.strip():
                raise ma.ValidationError("must not be blank")
            return normalise_label(value.strip())
        if isinstance(value, dict) and value and all(
            isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in value.items()
        ):
            return normalise_label({k: v.strip() for k, v in value.items()})
        raise ma.ValidationError("must be a text or a map of locale to text")

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


class ObjectSchema(ma.Schema):
    name = ma.fields.String(required=True)
    pluralName = ma.fields.String(required=True)
    label = LabelField(load_default=None)
    pluralLabel = LabelField(load_default=None)
    description = LabelField(load_default=None, allow_none=True)
    sharing = ma.fields.String(load_default="PUBLIC_READ_WRITE", validate=ma.validate.OneOf(SHARING))

    @ma.post_load
    def _defaults(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["label"] = data["label"] or {"en": humanise(data["name"])}
        data["pluralLabel"] = data["pluralLabel"] or {"en": humanise(data["pluralName"])}
        return data


class ObjectUpdateSchema(ma.Schema):
    name = ma.fields.String(required=True)
    pluralName = ma.fields.String()
    label = LabelField()
    pluralLabel = LabelField()
    description = LabelField(allow_none=True)
    sharing = ma.fields.String(validate=ma.validate.OneOf(SHARING))


class FieldSchema(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE  # type options are validated by the field type itself

    name = ma.fields.String(required=True)
    type = ma.fields.String(required=True)
    label = LabelField(load_default=None)
    description = LabelField(load_default=None, allow_none=True)
    helpText = LabelField(load_default=None, allow_none=True)
    required = ma.fields.Boolean(load_default=False)
    unique = ma.fields.Boolean(load_default=False)
    indexed = ma.fields.Boolean(load_default=False)
    readOnly = ma.fields.Boolean(load_default=False)
    defaultValue = ma.fields.Raw(load_default=None, allow_none=True)
    defaultExpression = ma.fields.String(load_default=None, allow_none=True)
    trackHistory = ma.fields.Boolean(load_default=True)


class FieldUpdateSchema(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE

    name = ma.fields.String(required=True)
    type = ma.fields.String()
    label = LabelField()
    description = LabelField(allow_none=True)
    helpText = LabelField(allow_none=True)
    required = ma.fields.Boolean()
    unique = ma.fields.Boolean()
    indexed = ma.fields.Boolean()
    readOnly = ma.fields.Boolean()
    defaultValue = ma.fields.Raw(allow_none=True)
    defaultExpression = ma.fields.String(allow_none=True)
    trackHistory = ma.fields.Boolean()


def load(schema: ma.Schema, data: dict[str, Any], *, where: str = "input") -> dict[str, Any]:
    """Validate ``data``; refuse with the first problem, naming the key."""
    try:
        return schema.load(data)
    except ma.ValidationError as exc:
        key, messages = next(iter(exc.normalized_messages().items()))
        message = messages[0] if isinstance(messages, list) else str(messages)
        raise ValidationError(f"{key}: {str(message).rstrip('.').lower()}", field=key) from None


def split_field_input(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate the common field keys from the type options."""
    base = {k: v for k, v in data.items() if k in FIELD_BASE_KEYS}
    options = {k: v for k, v in data.items() if k not in FIELD_BASE_KEYS and k != "object"}
    return base, options


def humanise(name: str) -> str:
    """A default label from an api name: ``closeDate`` → "Close date"."""
    words = []
    current = ""
    for ch in name:
        if ch.isupper() and current:
            words.append(current)
            current = ch.lower()
        else:
            current += ch
    words.append(current)
    return " ".join(words).capitalize()
