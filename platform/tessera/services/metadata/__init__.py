"""Metadata use cases: objects and fields, each change one transaction of rows and DDL."""

from tessera.services.metadata.fields import create_field, delete_field, update_field
from tessera.services.metadata.objects import create_object, delete_object, update_object
from tessera.services.metadata.rules import (
    create_validation_rule,
    delete_validation_rule,
    update_validation_rule,
)

__all__ = [
    "create_field",
    "create_object",
    "create_validation_rule",
    "delete_field",
    "delete_object",
    "delete_validation_rule",
    "update_field",
    "update_object",
    "update_validation_rule",
]
