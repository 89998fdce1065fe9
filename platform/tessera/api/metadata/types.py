"""Static GraphQL types of the metadata API."""

from __future__ import annotations

from typing import Any

import graphene
from graphql import value_from_ast_untyped

from tessera.api.automation.approvals import ApprovalProcess
from tessera.api.automation.state_machines import StateMachine
from tessera.api.scalars import JSON
from tessera.core.i18n import pick_label
from tessera.model.definitions import (
    ApprovalProcessDef,
    FieldDef,
    ObjectDef,
    PicklistOption,
    StateMachineDef,
    ValidationRuleDef,
)
from tessera.model.field_types import registry
from tessera.plugin_host import default_host

# NOTE: GraphQL enums are fixed when the schema types are made, so the installed plugins are loaded
# first: the field types their ``register_field_types`` hooks add are values of the enum too.
default_host()
FIELD_TYPE_KEYS = tuple(registry().names())

FieldType = graphene.Enum("FieldType", [(k, k) for k in FIELD_TYPE_KEYS], description="The kind of a field.")


class ResultType(graphene.Enum):
    """What a formula gives (a rollup's is derived from what it summarizes)."""

    TEXT = "TEXT"
    NUMBER = "NUMBER"
    CURRENCY = "CURRENCY"
    PERCENT = "PERCENT"
    INTEGER = "INTEGER"
    BOOLEAN = "BOOLEAN"
    DATE = "DATE"
    DATETIME = "DATETIME"


class RollupFunction(graphene.Enum):
    """How a rollup summarizes the child records."""

    COUNT = "COUNT"
    SUM = "SUM"
    MIN = "MIN"
    MAX = "MAX"
    AVG = "AVG"


class Sharing(graphene.Enum):
    """An object's org-wide default: which records users reach without owning them (see docs/security.md)."""

    PRIVATE = "PRIVATE"
    PUBLIC_READ = "PUBLIC_READ"
    PUBLIC_READ_WRITE = "PUBLIC_READ_WRITE"


class OnDeleteRule(graphene.Enum):
    """What deleting a looked-up record does to the records that look it up."""

    RESTRICT = "RESTRICT"
    SET_NULL = "SET_NULL"
    CASCADE = "CASCADE"


class Label(graphene.Scalar):
    """A translatable label: a plain string (English) or an object of locale to text, e.g. {en: "Deal", zh: "商机"}."""

    serialize = staticmethod(lambda value: value)
    parse_value = staticmethod(lambda value: value)

    @staticmethod
    def parse_literal(node: Any, variables: Any = None) -> Any:
        return value_from_ast_untyped(node, variables)


def _locale_arg() -> dict[str, Any]:
    return {"locale": graphene.String(description="Locale such as en or zh; falls back to en.")}


class PicklistOptionType(graphene.ObjectType):
    class Meta:
        name = "PicklistOption"

    value = graphene.String(required=True)
    label = graphene.String(required=True, **_locale_arg())
    labels = graphene.Field(JSON, required=True)
    color = graphene.String()
    active = graphene.Boolean(required=True)

    @staticmethod
    def resolve_label(root: PicklistOption, info: Any, locale: str | None = None) -> str:
        return pick_label(root.labels, locale or info.context.locale) or root.value

    @staticmethod
    def resolve_labels(root: PicklistOption, info: Any) -> dict[str, str]:
        return dict(root.labels)


class FieldDefinition(graphene.ObjectType):
    """A field of an object: its type, rules and type options."""

    name = graphene.String(required=True)
    type = graphene.Field(FieldType, required=True)
    label = graphene.String(required=True, **_locale_arg())
    labels = graphene.Field(JSON, required=True)
    description = graphene.String(**_locale_arg())
    help_text = graphene.String(name="helpText", **_locale_arg())
    required = graphene.Boolean(required=True)
    unique = graphene.Boolean(required=True)
    indexed = graphene.Boolean(required=True)
    read_only = graphene.Boolean(required=True, name="readOnly")
    default_value = graphene.Field(JSON, name="defaultValue")
    default_expression = graphene.String(name="defaultExpression", description="Expression computing the default.")
    computed = graphene.Boolean(required=True, description="A formula or rollup: computed on read, never written.")
    track_history = graphene.Boolean(required=True, name="trackHistory",
                                     description="Changes of its value are kept in record history.")
    result_type = graphene.Field(ResultType, name="resultType", description="FORMULA, ROLLUP: the type of the value.")
    expression = graphene.String(description="FORMULA: the expression computing the value.")
    child_object = graphene.String(name="childObject", description="ROLLUP: the object summarized.")
    child_field = graphene.String(name="childField", description="ROLLUP: the child's lookup to this object.")
    function = graphene.Field(RollupFunction, description="ROLLUP: COUNT, SUM, MIN, MAX or AVG.")
    summarized_field = graphene.String(name="summarizedField", description="ROLLUP: the child field summarized.")
    filter = graphene.String(description="ROLLUP: expression selecting the child records counted.")
    options = graphene.Field(JSON, required=True, description="All type options, as in YAML packages.")
    max_length = graphene.Int(name="maxLength")
    precision = graphene.Int()
    scale = graphene.Int()
    picklist_options = graphene.List(graphene.NonNull(PicklistOptionType), name="picklistOptions")
    target = graphene.String(description="The object a lookup points at.")
    on_delete = graphene.Field(OnDeleteRule, name="onDelete")
    format = graphene.String(description="Auto-number format such as OPP-{00000}.")
    origin = graphene.String(required=True)
    position = graphene.Int(required=True)
    graphql_type = graphene.String(required=True, name="graphqlType", description="The field's type in the data API.")

    @staticmethod
    def resolve_type(root: FieldDef, info: Any) -> str:
        return root.type

    @staticmethod
    def resolve_label(root: FieldDef, info: Any, locale: str | None = None) -> str:
        return root.label(locale or info.context.locale)

    @staticmethod
    def resolve_labels(root: FieldDef, info: Any) -> dict[str, str]:
        return dict(root.labels)

    @staticmethod
    def resolve_description(root: FieldDef, info: Any, locale: str | None = None) -> str | None:
        return pick_label(root.description, locale or info.context.locale) if root.description else None

    @staticmethod
    def resolve_help_text(root: FieldDef, info: Any, locale: str | None = None) -> str | None:
        return pick_label(root.help_text, locale or info.context.locale) if root.help_text else None

    @staticmethod
    def resolve_unique(root: FieldDef, info: Any) -> bool:
        return root.unique

    @staticmethod
    def resolve_options(root: FieldDef, info: Any) -> dict[str, Any]:
        return dict(root.options)

    @staticmethod
    def resolve_computed(root: FieldDef, info: Any) -> bool:
        return root.is_computed

    @staticmethod
    def resolve_result_type(root: FieldDef, info: Any) -> str | None:
        return root.opt("resultType") if root.is_computed else None

    @staticmethod
    def resolve_expression(root: FieldDef, info: Any) -> str | None:
        return root.opt("expression")

    @staticmethod
    def resolve_child_object(root: FieldDef, info: Any) -> str | None:
        return root.opt("childObject")

    @staticmethod
    def resolve_child_field(root: FieldDef, info: Any) -> str | None:
        return root.opt("childField")

    @staticmethod
    def resolve_function(root: FieldDef, info: Any) -> str | None:
        return root.opt("function")

    @staticmethod
    def resolve_summarized_field(root: FieldDef, info: Any) -> str | None:
        return root.opt("summarizedField")

    @staticmethod
    def resolve_filter(root: FieldDef, info: Any) -> str | None:
        return root.opt("filter")

    @staticmethod
    def resolve_max_length(root: FieldDef, info: Any) -> int | None:
        return root.opt("maxLength")

    @staticmethod
    def resolve_precision(root: FieldDef, info: Any) -> int | None:
        return root.opt("precision")

    @staticmethod
    def resolve_scale(root: FieldDef, info: Any) -> int | None:
        return root.opt("scale")

    @staticmethod
    def resolve_picklist_options(root: FieldDef, info: Any) -> list[PicklistOption] | None:
        return list(root.picklist_options) if root.type in {"PICKLIST", "MULTI_PICKLIST"} else None

    @staticmethod
    def resolve_on_delete(root: FieldDef, info: Any) -> str | None:
        return root.opt("onDelete")

    @staticmethod
    def resolve_format(root: FieldDef, info: Any) -> str | None:
        return root.opt("format")

    @staticmethod
    def resolve_graphql_type(root: FieldDef, info: Any) -> str:
        field_type = registry().value_type(root)
        if root.is_lookup:
            target = root.target or ""
            return target[0].upper() + target[1:]
        return f"[{field_type.graphql_scalar}!]" if field_type.is_list else field_type.graphql_scalar


class ValidationRule(graphene.ObjectType):
    """A rule refusing writes of records for which its expression is TRUE."""

    object = graphene.String(required=True)
    name = graphene.String(required=True)
    expression = graphene.String(required=True)
    message = graphene.String(required=True, **_locale_arg())
    messages = graphene.Field(JSON, required=True, description="The message in every locale.")
    field = graphene.String(description="The field the error is attached to.")
    active = graphene.Boolean(required=True)
    description = graphene.String(**_locale_arg())
    origin = graphene.String(required=True)

    @staticmethod
    def resolve_object(root: ValidationRuleDef, info: Any) -> str:
        return root.object_name

    @staticmethod
    def resolve_message(root: ValidationRuleDef, info: Any, locale: str | None = None) -> str:
        return root.text(locale or info.context.locale)

    @staticmethod
    def resolve_messages(root: ValidationRuleDef, info: Any) -> dict[str, str]:
        return dict(root.message)

    @staticmethod
    def resolve_description(root: ValidationRuleDef, info: Any, locale: str | None = None) -> str | None:
        return pick_label(root.description, locale or info.context.locale) if root.description else None


class ObjectDefinition(graphene.ObjectType):
    """A business object: a real table with typed fields, and its generated API."""

    name = graphene.String(required=True)
    plural_name = graphene.String(required=True, name="pluralName")
    label = graphene.String(required=True, **_locale_arg())
    plural_label = graphene.String(required=True, name="pluralLabel", **_locale_arg())
    labels = graphene.Field(JSON, required=True)
    plural_labels = graphene.Field(JSON, required=True, name="pluralLabels")
    description = graphene.String(**_locale_arg())
    origin = graphene.String(required=True, description="standard, custom, or the plugin that added it.")
    sharing = graphene.Field(Sharing, required=True, description="The org-wide default for its records.")
    fields = graphene.List(graphene.NonNull(FieldDefinition), required=True)
    field = graphene.Field(FieldDefinition, name=graphene.String(required=True))
    validation_rules = graphene.List(graphene.NonNull(ValidationRule), required=True, name="validationRules")
    state_machines = graphene.List(graphene.NonNull(StateMachine), required=True, name="stateMachines")
    approval_processes = graphene.List(graphene.NonNull(ApprovalProcess), required=True, name="approvalProcesses")

    @staticmethod
    def resolve_plural_name(root: ObjectDef, info: Any) -> str:
        return root.plural_name

    @staticmethod
    def resolve_label(root: ObjectDef, info: Any, locale: str | None = None) -> str:
        return root.label(locale or info.context.locale)

    @staticmethod
    def resolve_plural_label(root: ObjectDef, info: Any, locale: str | None = None) -> str:
        return root.plural_label(locale or info.context.locale)

    @staticmethod
    def resolve_labels(root: ObjectDef, info: Any) -> dict[str, str]:
        return dict(root.labels)

    @staticmethod
    def resolve_plural_labels(root: ObjectDef, info: Any) -> dict[str, str]:
        return dict(root.plural_labels)

    @staticmethod
    def resolve_description(root: ObjectDef, info: Any, locale: str | None = None) -> str | None:
        return pick_label(root.description, locale or info.context.locale) if root.description else None

    @staticmethod
    def resolve_fields(root: ObjectDef, info: Any) -> list[FieldDef]:
        return list(root.fields)

    @staticmethod
    def resolve_field(root: ObjectDef, info: Any, name: str) -> FieldDef | None:
        return root.field(name)

    @staticmethod
    def resolve_validation_rules(root: ObjectDef, info: Any) -> list[ValidationRuleDef]:
        return list(root.validation_rules)

    @staticmethod
    def resolve_state_machines(root: ObjectDef, info: Any) -> list[StateMachineDef]:
        return list(root.state_machines)

    @staticmethod
    def resolve_approval_processes(root: ObjectDef, info: Any) -> list[ApprovalProcessDef]:
        return list(root.approval_processes)


class FieldTypeInfo(graphene.ObjectType):
    """What a field type supports."""

    key = graphene.Field(FieldType, required=True)
    graphql_type = graphene.String(required=True, name="graphqlType")
    operators = graphene.List(graphene.NonNull(graphene.String), required=True)
    options = graphene.List(graphene.NonNull(graphene.String), required=True, description="Type options it accepts.")
    sortable = graphene.Boolean(required=True)
    supports_unique = graphene.Boolean(required=True, name="supportsUnique")
