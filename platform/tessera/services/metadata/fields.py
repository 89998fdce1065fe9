"""Adding, changing and deleting fields (columns of the object's table)."""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa

from tessera.core.clock import utcnow
from tessera.core.errors import Forbidden, UnsafeChange, ValidationError
from tessera.core.i18n import normalise_label
from tessera.core.ids import new_id
from tessera.model.definitions import FieldDef, ObjectDef
from tessera.model.field_types import registry
from tessera.model.field_types.conversion import convert_value
from tessera.model.names import snake_case
from tessera.model.records.tables import ON_DELETE_SQL, constraint_name, field_column, index_name
from tessera.model.schemas import FieldSchema, FieldUpdateSchema, humanise, load, split_field_input
from tessera.services.metadata.change import Change, run_change
from tessera.services.metadata.computed import prepare_field
from tessera.services.metadata.naming import check_field_name, check_reverse_name
from tessera.services.metadata.sequences import backfill_auto_number, drop_sequences
from tessera.services.runtime import Actor, Runtime
from tessera.storage.system_tables import field_defs

MAX_FIELDS_PER_OBJECT = 500
MAX_INDEXED_CHARS = 600
EXAMPLES = 5


def create_field(rt: Runtime, actor: Actor, data: dict[str, Any], *, origin: str = "custom") -> FieldDef:
    return run_change(rt, actor, lambda change: add_field_in(change, data, origin=origin))


def _build_field(obj: ObjectDef, base: dict[str, Any], options: dict[str, Any], *, origin: str, position: int) -> FieldDef:
    field_type = registry().get(base["type"])
    normalised = field_type.normalise_options(options)
    name = base["name"]
    column = snake_case(name) + ("_id" if field_type.key == "LOOKUP" else "")
    field = FieldDef(
        name=name,
        type=field_type.key,
        column_name=column,
        labels=MappingProxyType(base.get("label") or normalise_label(humanise(name))),
        description=MappingProxyType(base["description"]) if base.get("description") else None,
        help_text=MappingProxyType(base["helpText"]) if base.get("helpText") else None,
        required=base.get("required", False),
        unique=base.get("unique", False),
        indexed=base.get("indexed", False),
        read_only=base.get("readOnly", False) or not field_type.writable,
        track_history=base.get("trackHistory", True) and field_type.key not in ("FORMULA", "ROLLUP"),
        default_value=None,
        options=MappingProxyType(normalised),
        position=position,
        origin=origin,
    )
    if field.required and field.is_computed:
        raise ValidationError(f"{field_type.key} fields are computed, so they cannot be required", field="required")
    if field.unique and not field_type.supports_unique:
        raise ValidationError(f"{field_type.key} fields cannot be unique", field="unique")
    if field.indexed and not field_type.supports_index:
        raise ValidationError(f"{field_type.key} fields cannot be indexed", field="indexed")
    longest = field_type.max_chars(field)
    if (field.unique or field.indexed) and longest is not None and longest > MAX_INDEXED_CHARS:
        flag = "unique" if field.unique else "indexed"
        # NOTE: PostgreSQL refuses btree entries over 2,704 bytes; 600 characters of 4-byte UTF-8 fit.
        raise ValidationError(
            f"{flag}: a {field_type.key} field longer than {MAX_INDEXED_CHARS} characters cannot be {flag} "
            f"(it allows {longest})",
            field=flag,
        )
    default = base.get("defaultValue")
    expression = base.get("defaultExpression") or None
    if expression is not None:
        if not field_type.supports_default:
            raise ValidationError(f"{field_type.key} fields cannot have a default value", field="defaultExpression")
        if default is not None:
            raise ValidationError("give either defaultValue or defaultExpression, not both", field="defaultExpression")
        field = replace(field, default_expression=expression)
    if default is not None:
        if not field_type.supports_default:
            raise ValidationError(f"{field_type.key} fields cannot have a default value", field="defaultValue")
        try:
            parsed = field_type.parse(field, default)
        except ValidationError as exc:
            raise ValidationError(f"defaultValue: {exc.message}", field="defaultValue") from None
        field = replace(field, default_value=field_type.to_output(field, parsed))
    return field


def _row(field: FieldDef) -> dict[str, Any]:
    return {
        "name": field.name,
        "column_name": field.column_name,
        "type": field.type,
        "labels": dict(field.labels),
        "description": dict(field.description) if field.description else None,
        "help_text": dict(field.help_text) if field.help_text else None,
        "required": field.required,
        "is_unique": field.unique,
        "indexed": field.indexed,
        "read_only": field.read_only,
        "default_value": field.default_value,
        "default_expression": field.default_expression,
        "track_history": field.track_history,
        "options": dict(field.options),
        "position": field.position,
    }


def add_field_in(change: Change, data: dict[str, Any], *, origin: str) -> FieldDef:
    obj = change.object(data.get("object") or "", field="object")
    base_input, options = split_field_input(data)
    base = load(FieldSchema(), base_input)
    check_field_name(change.meta, obj, base["name"])
    if len(obj.fields) >= MAX_FIELDS_PER_OBJECT:
        raise ValidationError(f"object '{obj.name}' already has {MAX_FIELDS_PER_OBJECT} fields", field="name")
    if not registry().__contains__(base["type"]):
        raise ValidationError(
            f"type: unknown field type '{base['type']}' (one of {', '.join(registry().names())})", field="type"
        )
    position = max((f.position for f in obj.fields), default=-1) + 1
    field = prepare_field(change.meta, obj, _build_field(obj, base, options, origin=origin, position=position))
    target = None
    if field.is_lookup:
        target = change.meta.object(field.target or "")
        if target is None:
            raise ValidationError(f"target: no object '{field.target}' to look up", field="target")
        check_reverse_name(change.meta, obj, target, field.name)
    if any(f.column_name == field.column_name for f in obj.fields):
        raise ValidationError(f"field '{field.name}' collides with an existing column", field="name")
    now = utcnow()
    field_id = new_id()
    change.conn.execute(
        field_defs.insert().values(
            id=field_id, tenant_id=change.tenant.id, object_id=obj.id, origin=origin,
            created_at=now, updated_at=now, **{k: v for k, v in _row(field).items() if k != "origin"},
        )
    )
    if field.is_computed:
        return change.reload().by_name[obj.name].fields_by_name[field.name]
    target_table = target.table_name if (target is not None and change.foreign_keys) else None
    change.ddl.add_column(obj.table_name, field_column(field, change.tenant.schema_name, obj.table_name, target_table))
    plain = target is None and field.type != "AUTO_NUMBER"  # nothing else changes: no reverse relation, no backfill
    meta = change.with_field(obj.name, replace(field, id=field_id, origin=origin)) if plain else change.reload()
    _create_index(change, obj, field)
    if field.type == "AUTO_NUMBER":
        backfill_auto_number(change, meta.by_name[obj.name], field)
    return meta.by_name[obj.name].fields_by_name[field.name]


def _create_index(change: Change, obj: ObjectDef, field: FieldDef) -> None:
    if field.unique:
        try:
            with change.conn.begin_nested():
                change.ddl.create_index(index_name(obj.table_name, field.column_name, True), obj.table_name, [field.column_name], True)
        except sa.exc.IntegrityError:
            raise UnsafeChange(
                f"{obj.name}.{field.name}: existing records hold duplicate values, so it cannot be unique",
                field="unique",
            ) from None
    elif field.indexed or field.is_lookup:
        change.ddl.create_index(index_name(obj.table_name, field.column_name, False), obj.table_name, [field.column_name], False)


def _drop_index(change: Change, obj: ObjectDef, field: FieldDef) -> None:
    if field.unique:
        change.ddl.drop_index(index_name(obj.table_name, field.column_name, True), obj.table_name)
    elif field.indexed or field.is_lookup:
        change.ddl.drop_index(index_name(obj.table_name, field.column_name, False), obj.table_name)


def update_field(rt: Runtime, actor: Actor, data: dict[str, Any]) -> FieldDef:
    return run_change(rt, actor, lambda change: update_field_in(change, data))


def update_field_in(change: Change, data: dict[str, Any], *, replace: bool = False) -> FieldDef:
    """Change a field. ``replace``: ``data`` is the whole definition (packages); otherwise only the
    keys given change."""
    obj = change.object(data.get("object") or "", field="object")
    old, new = planned_field(obj, data, replace=replace)
    if (old.is_lookup or new.is_lookup) and (old.type != new.type or old.target != new.target):
        raise UnsafeChange("a lookup's type and target cannot change; add a new field instead", field="target")
    if old.is_computed or new.is_computed:
        return _update_computed(change, obj, old, new)
    new = prepare_field(change.meta, obj, new)
    table = change.tables().table(obj.name)
    if old.type != new.type or dict(old.options) != dict(new.options):
        _convert_column(change, obj, table, old, new)
    index_changes = (old.unique, old.indexed) != (new.unique, new.indexed) or (old.is_lookup and old.opt("onDelete") != new.opt("onDelete"))
    if index_changes:
        _drop_index(change, obj, old)
    change.conn.execute(
        field_defs.update().where(field_defs.c.id == old.id).values(updated_at=utcnow(), **_row(new))
    )
    if old.is_lookup and old.opt("onDelete") != new.opt("onDelete") and change.foreign_keys:
        _replace_foreign_key(change, obj, new)
    meta = change.reload()
    if index_changes:
        _create_index(change, obj, new)
    return meta.by_name[obj.name].fields_by_name[new.name]


def _update_computed(change: Change, obj: ObjectDef, old: FieldDef, new: FieldDef) -> FieldDef:
    """Formulas and rollups have no column: a change is a new definition, checked like a new one."""
    if old.type != new.type:
        raise UnsafeChange(
            f"{obj.name}.{old.name} cannot change from {old.type} to {new.type}; add a new field instead",
            field="type",
        )
    new = prepare_field(change.meta, obj, new)
    change.conn.execute(
        field_defs.update().where(field_defs.c.id == old.id).values(updated_at=utcnow(), **_row(new))
    )
    return change.reload().by_name[obj.name].fields_by_name[new.name]


def planned_field(obj: ObjectDef, data: dict[str, Any], *, replace: bool = False) -> tuple[FieldDef, FieldDef]:
    """The field as it is and as ``data`` would make it: with ``replace`` exactly as ``data``
    defines it (defaults for what it leaves out), else with unmentioned keys kept."""
    base_input, option_changes = split_field_input(data)
    if replace:
        whole = load(FieldSchema(), base_input)
        old = obj.field(whole["name"])
        if old is None:
            raise ValidationError(f"object '{obj.name}' has no field '{whole['name']}'", field="name")
        return old, _build_field(obj, whole, option_changes, origin=old.origin, position=old.position)
    changes = load(FieldUpdateSchema(), base_input)
    old = obj.field(changes["name"])
    if old is None:
        raise ValidationError(f"object '{obj.name}' has no field '{changes['name']}'", field="name")
    new_type = changes.get("type", old.type)
    options = dict(old.options) if new_type == old.type else {}
    options.update(option_changes)
    base = {
        "name": old.name,
        "type": new_type,
        "label": {**old.labels, **changes.get("label", {})},
        "description": changes.get("description", old.description),
        "helpText": changes.get("helpText", old.help_text),
        "required": changes.get("required", old.required),
        "unique": changes.get("unique", old.unique),
        "indexed": changes.get("indexed", old.indexed),
        "readOnly": changes.get("readOnly", old.read_only),
        "defaultValue": changes.get("defaultValue", old.default_value),
        "defaultExpression": changes.get("defaultExpression", old.default_expression),
        "trackHistory": changes.get("trackHistory", old.track_history),
    }
    new = _build_field(obj, base, options, origin=old.origin, position=old.position)
    return old, new


def _convert_column(change: Change, obj: ObjectDef, table: sa.Table, old: FieldDef, new: FieldDef) -> None:
    """Change a column's type; refuse when some stored value would not survive."""
    column = table.c[old.column_name]
    if registry().of(new).conversion_is_safe(old, new):
        dialect = change.conn.dialect
        old_sql = registry().of(old).column_type(old).compile(dialect)
        new_type = registry().of(new).column_type(new)
        if new_type.compile(dialect) != old_sql:
            change.ddl.alter_column_type(obj.table_name, old.column_name, new_type)
        return
    rows = change.conn.execute(sa.select(table.c.id, column).where(column.is_not(None)).order_by(table.c.id)).all()
    converted: list[dict[str, Any]] = []
    failures: list[str] = []
    for record_id, value in rows:
        try:
            converted.append({"_id": record_id, "_v": convert_value(old, new, value)})
        except ValidationError:
            failures.append(record_id)
    if failures:
        raise UnsafeChange(
            f"{obj.name}.{old.name}: {len(failures)} of {len(rows)} records hold values that do not convert to "
            f"{new.type}; examples: {', '.join(failures[:EXAMPLES])}",
            field="type" if old.type != new.type else "options",
            records=len(failures),
            examples=failures[:EXAMPLES],
        )
    using = "NULL" if change.conn.dialect.name == "postgresql" else None
    if change.conn.dialect.name == "postgresql" and old.unique:
        _drop_index(change, obj, old)
    change.ddl.alter_column_type(obj.table_name, old.column_name, registry().of(new).column_type(new), using=using)
    if change.conn.dialect.name == "postgresql" and old.unique:
        _create_index(change, obj, old)
    if converted:
        new_table = change.tables().table(obj.name)
        target = sa.Table(new_table.name, sa.MetaData(), sa.Column("id", sa.String(36)),
                          sa.Column(old.column_name, registry().of(new).column_type(new)), schema=new_table.schema)
        change.conn.execute(
            target.update().where(target.c.id == sa.bindparam("_id")).values({old.column_name: sa.bindparam("_v")}),
            converted,
        )


def _replace_foreign_key(change: Change, obj: ObjectDef, field: FieldDef) -> None:
    name = constraint_name("fk", obj.table_name, field.column_name)
    target = change.meta.by_name[field.target or ""]
    change.ddl.ops.drop_constraint(name, obj.table_name, type_="foreignkey", schema=change.tenant.schema_name)
    ondelete = ON_DELETE_SQL[field.opt("onDelete", "SET_NULL")]
    change.ddl.ops.create_foreign_key(
        name, obj.table_name, target.table_name, [field.column_name], ["id"],
        source_schema=change.tenant.schema_name, referent_schema=change.tenant.schema_name, ondelete=ondelete,
    )


def delete_field(rt: Runtime, actor: Actor, data: dict[str, Any]) -> FieldDef:
    return run_change(rt, actor, lambda change: delete_field_in(change, data))


def delete_field_in(change: Change, data: dict[str, Any], *, allow_standard: bool = False) -> FieldDef:
    """Delete a field and its column; ``confirm`` is needed when it holds values."""
    obj = change.object(data.get("object") or "", field="object")
    field = obj.field(data.get("name") or "")
    if field is None:
        raise ValidationError(f"object '{obj.name}' has no field '{data.get('name')}'", field="name")
    if field.origin == "standard" and not allow_standard:
        raise Forbidden(f"'{obj.name}.{field.name}' is a standard field and cannot be deleted", field="name")
    if field.is_computed:
        change.conn.execute(field_defs.delete().where(field_defs.c.id == field.id))
        return field
    table = change.tables().table(obj.name)
    column = table.c[field.column_name]
    count = change.conn.execute(sa.select(sa.func.count()).select_from(table).where(column.is_not(None))).scalar_one()
    if count and not data.get("confirm"):
        raise UnsafeChange(
            f"{obj.name}.{field.name} holds values in {count} records; pass confirm: true to delete it",
            field="confirm",
            records=count,
        )
    _drop_index(change, obj, field)
    if field.is_lookup and change.foreign_keys:
        name = constraint_name("fk", obj.table_name, field.column_name)
        change.ddl.ops.drop_constraint(name, obj.table_name, type_="foreignkey", schema=change.tenant.schema_name)
    change.conn.execute(field_defs.delete().where(field_defs.c.id == field.id))
    drop_sequences(change, obj, field)
    change.ddl.drop_column(obj.table_name, field.column_name)
    return field
