"""Collision checks for names: against existing definitions and the generated GraphQL names."""

from __future__ import annotations

from tessera.core.errors import ValidationError
from tessera.model.definitions import ObjectDef, TenantMetadata
from tessera.model.names import (
    ROOT_FIELD_NAMES,
    check_name,
    folded,
    generated_type_names,
    snake_case,
    static_type_clash,
    type_name,
)


def check_object_names(meta: TenantMetadata, name: str, plural: str, *, except_object: str | None = None) -> None:
    check_name(name, what="object", field="name")
    check_name(plural, what="object plural", field="pluralName")
    if plural == name:
        raise ValidationError(f"pluralName must differ from name '{name}'", field="pluralName")
    for key, value in (("name", name), ("pluralName", plural)):
        if value in ROOT_FIELD_NAMES:
            raise ValidationError(f"{key} '{value}' is a query of the API itself", field=key)
    if folded(plural) == folded(name):
        raise ValidationError(f"pluralName '{plural}' differs from name '{name}' only by case", field="pluralName")
    clash = static_type_clash(name)
    if clash:
        raise ValidationError(
            f"name '{name}' would generate GraphQL type {clash}, which the API already defines", field="name"
        )
    new_types = generated_type_names(name)
    root_fields = {name, plural}
    for other in meta.objects:
        if other.name == except_object:
            continue
        for mine, key in ((name, "name"), (plural, "pluralName")):
            for theirs in (other.name, other.plural_name):
                if folded(mine) == folded(theirs):
                    raise ValidationError(
                        f"{key} '{mine}' collides with object '{other.name}' ({theirs})", field=key
                    )
        clash = new_types & generated_type_names(other.name)
        if clash:
            raise ValidationError(
                f"name '{name}' would generate GraphQL type {sorted(clash)[0]}, which object "
                f"'{other.name}' already generates",
                field="name",
            )
        if type_name(other.name) in {type_name(n) for n in root_fields}:
            raise ValidationError(f"name '{name}' collides with object '{other.name}'", field="name")
    if any(snake_case(o.name) == snake_case(name) for o in meta.objects if o.name != except_object):
        raise ValidationError(f"name '{name}' collides with an existing table", field="name")


def check_field_name(meta: TenantMetadata, obj: ObjectDef, name: str) -> None:
    check_name(name, what="field", field="name")
    for existing in obj.fields:
        if folded(existing.name) == folded(name):
            raise ValidationError(
                f"field '{name}' collides with existing field '{obj.name}.{existing.name}'", field="name"
            )
    for relation in meta.reverse_relations.get(obj.name, ()):
        if folded(relation.name) == folded(name):
            raise ValidationError(
                f"field '{name}' collides with the relation '{obj.name}.{relation.name}' from "
                f"{relation.source_object}.{relation.lookup_field}",
                field="name",
            )


def check_reverse_name(meta: TenantMetadata, source: ObjectDef, target: ObjectDef, lookup: str) -> None:
    """A new lookup adds a relation on its target; it must not collide with the target's fields."""
    taken = {f.name for f in target.fields} | {r.name for r in meta.reverse_relations.get(target.name, ())}
    existing_same = [r for r in meta.reverse_relations.get(target.name, ()) if r.source_object == source.name]
    name = source.plural_name if not existing_same else f"{source.plural_name}By{lookup[0].upper()}{lookup[1:]}"
    if any(folded(name) == folded(t) for t in taken):
        raise ValidationError(
            f"lookup '{lookup}' would add relation '{target.name}.{name}', which collides with an existing "
            "field or relation",
            field="name",
        )


def check_relation_renames(meta: TenantMetadata, obj: ObjectDef, new_plural: str) -> None:
    """Renaming an object's plural renames the relations its lookups add to their targets."""
    seen: set[str] = set()
    for lookup in obj.lookups:
        target = meta.object(lookup.target or "")
        if target is None:
            continue
        name = new_plural if target.name not in seen else f"{new_plural}By{lookup.name[0].upper()}{lookup.name[1:]}"
        seen.add(target.name)
        others = {r.name for r in meta.reverse_relations.get(target.name, ()) if r.source_object != obj.name}
        for taken in [f.name for f in target.fields] + sorted(others):
            if folded(taken) == folded(name):
                raise ValidationError(
                    f"pluralName '{new_plural}' would rename the relation on {target.name} to '{name}', which "
                    f"collides with {target.name}.{taken}",
                    field="pluralName",
                )
