"""Field types: each knows its column, GraphQL scalar, value validation, filters and conversions.

``registry()`` is the one place a type is looked up; plugins add types through the
``register_field_types`` hook, collected by the plugin host at start-up.
"""

from tessera.model.field_types.base import FieldType, FieldTypeRegistry
from tessera.model.field_types.builtin import BUILTIN_TYPES
from tessera.model.field_types.computed import COMPUTED_TYPES

_default = FieldTypeRegistry((*BUILTIN_TYPES, *COMPUTED_TYPES))


def registry() -> FieldTypeRegistry:
    return _default


__all__ = ["BUILTIN_TYPES", "FieldType", "FieldTypeRegistry", "registry"]
