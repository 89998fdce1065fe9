"""Metadata use cases: objects and fields, each change one transaction of rows and DDL."""

from tessera.services.metadata.fields import create_field, delete_field, update_field
from tessera.services.metadata.objects import create_object, delete_object, update_object

__all__ = [
    "create_field",
    "create_object",
    "delete_field",
    "delete_object",
    "update_field",
    "update_object",
]
