"""Creating, changing and deleting objects (each a real table in the tenant's schema)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.core.errors import Forbidden, UnsafeChange, ValidationError
from tessera.core.ids import new_id
from tessera.model.definitions import ObjectDef
from tessera.model.names import snake_case
from tessera.model.schemas import ObjectSchema, ObjectUpdateSchema, load
from tessera.services.metadata.change import Change, run_change
from tessera.services.metadata.fields import add_field_in
from tessera.services.metadata.naming import check_object_names
from tessera.services.runtime import Actor, Runtime
from tessera.storage.system_tables import field_defs, object_defs


def create_object(rt: Runtime, actor: Actor, data: dict[str, Any], *, origin: str = "custom") -> ObjectDef:
    """Define a new object and create its table; ``data["fields"]`` may define its fields too."""
    return run_change(rt, actor, lambda change: create_object_in(change, data, origin=origin))


def create_object_in(change: Change, data: dict[str, Any], *, origin: str) -> ObjectDef:
    fields = data.get("fields") or []
    if not isinstance(fields, list):
        raise ValidationError("fields: must be a list", field="fields")
    loaded = load(ObjectSchema(), {k: v for k, v in data.items() if k != "fields"})
    check_object_names(change.meta, loaded["name"], loaded["pluralName"])
    now = utcnow()
    object_id = new_id()
    change.conn.execute(
        object_defs.insert().values(
            id=object_id,
            tenant_id=change.tenant.id,
            name=loaded["name"],
            plural_name=loaded["pluralName"],
            labels=loaded["label"],
            plural_labels=loaded["pluralLabel"],
            description=loaded["description"],
            origin=origin,
            table_name=snake_case(loaded["name"]),
            created_at=now,
            updated_at=now,
        )
    )
    meta = change.reload()
    change.ddl.create_table(change.tables(meta).table(loaded["name"]))
    for index, field in enumerate(fields):
        try:
            add_field_in(change, {**field, "object": loaded["name"]}, origin=origin)
        except ValidationError as exc:
            exc.field = f"fields.{index}.{exc.field}" if exc.field else f"fields.{index}"
            raise
    return change.reload().by_name[loaded["name"]]


def candidate_object(data: dict[str, Any]) -> ObjectDef:
    """The object header ``data`` describes (no fields), validated but not stored."""
    loaded = load(ObjectSchema(), data)
    return ObjectDef(
        name=loaded["name"], plural_name=loaded["pluralName"], table_name=snake_case(loaded["name"]),
        labels=loaded["label"], plural_labels=loaded["pluralLabel"], fields=(),
        description=loaded["description"],
    )


def update_object(rt: Runtime, actor: Actor, data: dict[str, Any]) -> ObjectDef:
    return run_change(rt, actor, lambda change: update_object_in(change, data))


def update_object_in(change: Change, data: dict[str, Any]) -> ObjectDef:
    loaded = load(ObjectUpdateSchema(), data)
    obj = change.object(loaded["name"], field="name")
    values: dict[str, Any] = {}
    if "pluralName" in loaded and loaded["pluralName"] != obj.plural_name:
        check_object_names(change.meta, obj.name, loaded["pluralName"], except_object=obj.name)
        values["plural_name"] = loaded["pluralName"]
    if "label" in loaded:
        values["labels"] = {**obj.labels, **loaded["label"]}
    if "pluralLabel" in loaded:
        values["plural_labels"] = {**obj.plural_labels, **loaded["pluralLabel"]}
    if "description" in loaded:
        values["description"] = loaded["description"]
    if values:
        values["updated_at"] = utcnow()
        change.conn.execute(object_defs.update().where(object_defs.c.id == obj.id).values(**values))
    return change.reload().by_name[obj.name]


def delete_object(rt: Runtime, actor: Actor, name: str, *, confirm: bool = False) -> ObjectDef:
    def step(change: Change) -> ObjectDef:
        obj = change.object(name, field="name")
        if obj.origin == "standard":
            raise Forbidden(f"'{name}' is a standard object and cannot be deleted", field="name")
        referencing = [(o, f) for o, f in change.meta.referencing(name) if o.name != name]
        if referencing:
            where = ", ".join(f"{o.name}.{f.name}" for o, f in referencing)
            raise ValidationError(f"object '{name}' is looked up by {where}; delete those fields first", field="name")
        table = change.tables().table(name)
        count = change.conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        if count and not confirm:
            raise UnsafeChange(
                f"object '{name}' holds {count} records; pass confirm: true to delete it with its data",
                field="confirm",
                records=count,
            )
        change.conn.execute(field_defs.delete().where(field_defs.c.object_id == obj.id))
        change.conn.execute(object_defs.delete().where(object_defs.c.id == obj.id))
        change.ddl.drop_table(obj.table_name)
        return obj

    return run_change(rt, actor, step)
