"""Queries and mutations of the metadata API: objects and fields."""

from __future__ import annotations

from typing import Any

import graphene

from tessera.api.inputs import service_mutation
from tessera.api.metadata.types import (
    FieldDefinition,
    FieldType,
    FieldTypeInfo,
    Label,
    ObjectDefinition,
    OnDeleteRule,
    ResultType,
    RollupFunction,
    Sharing,
    ValidationRule,
)
from tessera.api.scalars import JSON
from tessera.model.definitions import ObjectDef
from tessera.model.field_types import registry
from tessera.services import metadata as metadata_service


class PicklistOptionInput(graphene.InputObjectType):
    value = graphene.String(required=True)
    label = Label()
    color = graphene.String(description="#rrggbb")
    active = graphene.Boolean()


def _type_options() -> dict[str, Any]:
    return {
        "maxLength": graphene.Int(description="TEXT, LONG_TEXT: maximum characters."),
        "min": graphene.Int(description="INTEGER: smallest value."),
        "max": graphene.Int(description="INTEGER: largest value."),
        "precision": graphene.Int(description="NUMBER, CURRENCY, PERCENT: total digits."),
        "scale": graphene.Int(description="NUMBER, CURRENCY, PERCENT: digits after the point."),
        "options": graphene.List(graphene.NonNull(PicklistOptionInput), description="PICKLIST, MULTI_PICKLIST: options in order."),
        "target": graphene.String(description="LOOKUP: the object looked up."),
        "onDelete": OnDeleteRule(description="LOOKUP: what deleting the target does (default SET_NULL)."),
        "format": graphene.String(description="AUTO_NUMBER: e.g. OPP-{00000}."),
        "startAt": graphene.Int(description="AUTO_NUMBER: first number."),
        "resultType": ResultType(description="FORMULA: the type of its value."),
        "expression": graphene.String(description="FORMULA: the expression (see docs/expressions.md)."),
        "childObject": graphene.String(description="ROLLUP: the child object summarized."),
        "childField": graphene.String(description="ROLLUP: the child's lookup pointing at this object."),
        "function": RollupFunction(description="ROLLUP: COUNT, SUM, MIN, MAX or AVG."),
        "summarizedField": graphene.String(description="ROLLUP: the child field summarized (not for COUNT)."),
        "filter": graphene.String(description="ROLLUP: expression on the child selecting the records summarized."),
    }


def _field_input(name: str, *, create: bool) -> type[graphene.InputObjectType]:
    attrs: dict[str, Any] = {
        "object": graphene.String(required=True, description="The object's name."),
        "name": graphene.String(required=True),
        "label": Label(),
        "type": FieldType(required=create),
        "description": Label(),
        "helpText": Label(),
        "required": graphene.Boolean(),
        "unique": graphene.Boolean(),
        "indexed": graphene.Boolean(),
        "readOnly": graphene.Boolean(),
        "defaultValue": JSON(),
        "defaultExpression": graphene.String(description="An expression computing the default, e.g. ADDDAYS(TODAY(), 30)."),
        "trackHistory": graphene.Boolean(description="Keep changes of its value in record history (default true)."),
        **_type_options(),
    }
    return type(name, (graphene.InputObjectType,), attrs)


CreateFieldInput = _field_input("CreateFieldInput", create=True)
UpdateFieldInput = _field_input("UpdateFieldInput", create=False)


class DeleteFieldInput(graphene.InputObjectType):
    object = graphene.String(required=True)
    name = graphene.String(required=True)
    confirm = graphene.Boolean(description="Required when the field holds data: the data is deleted with it.")


class CreateValidationRuleInput(graphene.InputObjectType):
    object = graphene.String(required=True)
    name = graphene.String(required=True, description="camelCase, unique within the object.")
    expression = graphene.String(required=True, description="The write is refused when this is TRUE.")
    message = Label(required=True, description="The error shown; a text or {en, zh}.")
    field = graphene.String(description="The field the error is attached to (default: the record).")
    active = graphene.Boolean(description="Default true.")
    description = Label()


class UpdateValidationRuleInput(graphene.InputObjectType):
    object = graphene.String(required=True)
    name = graphene.String(required=True)
    expression = graphene.String()
    message = Label()
    field = graphene.String()
    active = graphene.Boolean()
    description = Label()


class DeleteValidationRuleInput(graphene.InputObjectType):
    object = graphene.String(required=True)
    name = graphene.String(required=True)


class CreateObjectInput(graphene.InputObjectType):
    name = graphene.String(required=True, description="Singular camelCase api name, e.g. salesOrder.")
    pluralName = graphene.String(required=True, description="Plural api name, e.g. salesOrders.")
    label = Label()
    pluralLabel = Label()
    description = Label()
    sharing = Sharing(description="Org-wide default for its records (default PUBLIC_READ_WRITE).")
    fields = graphene.List(graphene.NonNull(JSON), description="Optional field definitions, as in createField (without object).")


class UpdateObjectInput(graphene.InputObjectType):
    name = graphene.String(required=True)
    pluralName = graphene.String()
    label = Label()
    pluralLabel = Label()
    description = Label()
    sharing = Sharing()


class DeleteObjectInput(graphene.InputObjectType):
    name = graphene.String(required=True)
    confirm = graphene.Boolean(description="Required when the object holds records: they are deleted with it.")


class MetadataQuery(graphene.ObjectType):
    objects = graphene.List(graphene.NonNull(ObjectDefinition), required=True, description="Every object of the tenant.")
    object = graphene.Field(ObjectDefinition, name=graphene.String(required=True), description="One object by name.")
    field_types = graphene.List(graphene.NonNull(FieldTypeInfo), required=True, name="fieldTypes")

    @staticmethod
    def resolve_objects(root: Any, info: Any) -> list[ObjectDef]:
        return list(info.context.meta.objects)

    @staticmethod
    def resolve_object(root: Any, info: Any, name: str) -> ObjectDef | None:
        return info.context.meta.object(name)

    @staticmethod
    def resolve_field_types(root: Any, info: Any) -> list[dict[str, Any]]:
        types = registry()
        return [
            {
                "key": key,
                "graphql_type": types.get(key).graphql_scalar,
                "operators": list(types.get(key).operators),
                "options": list(types.get(key).option_fields),
                "sortable": types.get(key).sortable,
                "supports_unique": types.get(key).supports_unique,
            }
            for key in types.names()
        ]


def _delete_object(rt: Any, actor: Any, data: dict[str, Any]) -> ObjectDef:
    return metadata_service.delete_object(rt, actor, data["name"], confirm=bool(data.get("confirm")))


class MetadataMutation(graphene.ObjectType):
    create_object = service_mutation(
        metadata_service.create_object, CreateObjectInput, ObjectDefinition, "Define an object and create its table."
    )
    update_object = service_mutation(
        metadata_service.update_object, UpdateObjectInput, ObjectDefinition,
        "Change an object's plural name, labels or description.",
    )
    delete_object = service_mutation(
        _delete_object, DeleteObjectInput, ObjectDefinition, "Delete an object, its table and its records."
    )
    create_field = service_mutation(
        metadata_service.create_field, CreateFieldInput, FieldDefinition, "Add a field (a column) to an object."
    )
    update_field = service_mutation(
        metadata_service.update_field, UpdateFieldInput, FieldDefinition,
        "Change a field; unsafe type changes are refused.",
    )
    delete_field = service_mutation(
        metadata_service.delete_field, DeleteFieldInput, FieldDefinition, "Delete a field and its column."
    )
    create_validation_rule = service_mutation(
        metadata_service.create_validation_rule, CreateValidationRuleInput, ValidationRule,
        "Add a validation rule: writes making its expression TRUE are refused with its message.",
    )
    update_validation_rule = service_mutation(
        metadata_service.update_validation_rule, UpdateValidationRuleInput, ValidationRule,
        "Change a validation rule (only the keys given).",
    )
    delete_validation_rule = service_mutation(
        metadata_service.delete_validation_rule, DeleteValidationRuleInput, ValidationRule,
        "Delete a validation rule.",
    )
