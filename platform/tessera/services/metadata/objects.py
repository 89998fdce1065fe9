"""Creating, changing and deleting objects (each a real table in the tenant's schema)."""

from __future__ import annotations

from dataclasses import replace as replace_
from typing import Any

import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.core.errors import Forbidden, UnsafeChange, ValidationError
from tessera.core.ids import new_id
from tessera.model.definitions import ObjectDef
from tessera.model.names import snake_case
from tessera.model.records.tables import system_columns
from tessera.model.schemas import ObjectSchema, ObjectUpdateSchema, load
from tessera.services.metadata.change import Change, run_change
from tessera.services.metadata.fields import add_field_in
from tessera.services.metadata.naming import check_object_names, check_relation_renames
from tessera.services.metadata.sequences import drop_sequences
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
            sharing=loaded["sharing"],
            table_name=snake_case(loaded["name"]),
            created_at=now,
            updated_at=now,
        )
    )
    change.reload()
    # A new object has only system columns; its fields are added one by one below.
    change.ddl.create_table(snake_case(loaded["name"]), system_columns())
    for index, field in enumerate(fields):
        try:
            add_field_in(change, {**field, "object": loaded["name"]}, origin=origin)
        except ValidationError as exc:
            exc.field = f"fields.{index}.{exc.field}" if exc.field else f"fields.{index}"
            raise
    return change.reload().by_name[loaded["name"]]


def planned_object(obj: ObjectDef, data: dict[str, Any], *, replace: bool = False) -> ObjectDef:
    """The object header as ``data`` would make it. Keys left out keep their values (a package may
    name an object only to add fields to it); with ``replace`` a given label map replaces the
    stored one whole, else its locales are merged into it."""
    loaded = load(ObjectUpdateSchema(), data)
    if replace:
        return replace_(
            obj,
            plural_name=loaded.get("pluralName", obj.plural_name),
            labels=loaded.get("label", obj.labels),
            plural_labels=loaded.get("pluralLabel", obj.plural_labels),
            description=loaded.get("description", obj.description),
            sharing=loaded.get("sharing", obj.sharing),
        )
    return replace_(
        obj,
        plural_name=loaded.get("pluralName", obj.plural_name),
        labels={**obj.labels, **loaded.get("label", {})},
        plural_labels={**obj.plural_labels, **loaded.get("pluralLabel", {})},
        description=loaded.get("description", obj.description),
        sharing=loaded.get("sharing", obj.sharing),
    )


def update_object(rt: Runtime, actor: Actor, data: dict[str, Any]) -> ObjectDef:
    return run_change(rt, actor, lambda change: update_object_in(change, data))


def update_object_in(change: Change, data: dict[str, Any], *, replace: bool = False) -> ObjectDef:
    obj = change.object(data.get("name") or "", field="name")
    new = planned_object(obj, data, replace=replace)
    if new.plural_name != obj.plural_name:
        check_object_names(change.meta, obj.name, new.plural_name, except_object=obj.name)
        check_relation_renames(change.meta, obj, new.plural_name)
    if new != obj:
        change.conn.execute(
            object_defs.update().where(object_defs.c.id == obj.id).values(
                plural_name=new.plural_name, labels=dict(new.labels), plural_labels=dict(new.plural_labels),
                description=dict(new.description) if new.description else None, sharing=new.sharing,
                updated_at=utcnow(),
            )
        )
    return change.reload().by_name[obj.name]


def delete_object(rt: Runtime, actor: Actor, name: str, *, confirm: bool = False) -> ObjectDef:
    return run_change(rt, actor, lambda change: delete_object_in(change, name, confirm=confirm))


def delete_object_in(change: Change, name: str, *, confirm: bool = False) -> ObjectDef:
    """Delete an object, its table and (with ``confirm``) its records."""
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
    drop_sequences(change, obj)
    change.conn.execute(object_defs.delete().where(object_defs.c.id == obj.id))
    change.ddl.drop_table(obj.table_name)
    return obj
