"""One factory per kind of generated GraphQL type, built from a tenant's metadata."""

from __future__ import annotations

from typing import Any

import graphene

from tessera.api import scalars
from tessera.model.definitions import FieldDef, ObjectDef, TenantMetadata
from tessera.model.field_types import registry
from tessera.model.names import type_name
from tessera.model.records.query import SYSTEM_SORT_FIELDS

SCALARS: dict[str, Any] = {
    "String": graphene.String,
    "Int": graphene.Int,
    "Float": graphene.Float,
    "Boolean": graphene.Boolean,
    "ID": graphene.ID,
    "Decimal": scalars.Decimal,
    "Date": scalars.Date,
    "DateTime": scalars.DateTime,
    "JSON": scalars.JSON,
}

LIST_OPERATORS = {"in", "notIn"}


class OrderDirection(graphene.Enum):
    """Sort direction, with where empty values go."""

    AscNullsFirst = "AscNullsFirst"
    AscNullsLast = "AscNullsLast"
    DescNullsFirst = "DescNullsFirst"
    DescNullsLast = "DescNullsLast"


class PageInfo(graphene.ObjectType):
    """Relay page information."""

    has_next_page = graphene.Boolean(required=True, name="hasNextPage")
    has_previous_page = graphene.Boolean(required=True, name="hasPreviousPage")
    start_cursor = graphene.String(name="startCursor")
    end_cursor = graphene.String(name="endCursor")


class User(graphene.ObjectType):
    """A user of the tenant."""

    id = graphene.ID(required=True)
    email = graphene.String(required=True)
    name = graphene.String(required=True)


class TypeFactory:
    """Builds every generated type of one schema, sharing operator inputs between objects."""

    def __init__(self, meta: TenantMetadata) -> None:
        self.meta = meta
        self.records: dict[str, type[graphene.ObjectType]] = {}
        self.connections: dict[str, type[graphene.ObjectType]] = {}
        self.filters: dict[str, type[graphene.InputObjectType]] = {}
        self.lookup_filters: dict[str, type[graphene.InputObjectType]] = {}
        self.orders: dict[str, type[graphene.InputObjectType]] = {}
        self._operator_inputs: dict[tuple[str, tuple[str, ...]], type[graphene.InputObjectType]] = {}
        for obj in meta.objects:
            self.records[obj.name] = self._record(obj)
            self.connections[obj.name] = self._connection(obj)
            self.filters[obj.name] = self._filter(obj, lookup=False)
            self.lookup_filters[obj.name] = self._filter(obj, lookup=True)
            self.orders[obj.name] = self._order(obj)

    # --- record types ---------------------------------------------------------------------
    def _record(self, obj: ObjectDef) -> type[graphene.ObjectType]:
        attrs: dict[str, Any] = {
            "id": graphene.ID(required=True, description="Record id (UUID)."),
            "createdAt": scalars.DateTime(required=True),
            "updatedAt": scalars.DateTime(required=True),
            "createdBy": graphene.Field(User),
            "updatedBy": graphene.Field(User),
            "owner": graphene.Field(User, description="The user who owns the record."),
            "version": graphene.Int(required=True, description="Incremented by each change; pass as expectedVersion."),
        }
        for field in obj.fields:
            attrs[field.name] = self._output_field(field)
        for relation in self.meta.reverse_relations.get(obj.name, ()):
            attrs[relation.name] = self._relation_field(relation.source_object, relation.lookup_field)
        meta_class = type("Meta", (), {"name": type_name(obj.name), "description": obj.label("en")})
        return type(type_name(obj.name), (graphene.ObjectType,), {"Meta": meta_class, **attrs})

    def _output_field(self, field: FieldDef) -> Any:
        field_type = registry().value_type(field)
        description = field.label("en")
        if field.is_lookup:
            target = field.target or ""
            return graphene.Field(lambda: self.records[target], description=description)
        scalar = SCALARS[field_type.graphql_scalar]
        if field_type.is_list:
            return graphene.List(graphene.NonNull(scalar), description=description)
        return graphene.Field(scalar, description=description)

    def _relation_field(self, source: str, lookup: str) -> Any:
        return graphene.Field(
            lambda: self.connections[source],
            required=True,
            description=f"{source} records whose {lookup} is this record.",
            **self.list_arguments(source),
        )

    def list_arguments(self, object_name: str) -> dict[str, Any]:
        return {
            "filter": graphene.Argument(lambda: self.filters[object_name]),
            "order_by": graphene.Argument(graphene.List(graphene.NonNull(lambda: self.orders[object_name])), name="orderBy"),
            "first": graphene.Int(),
            "after": graphene.String(),
            "last": graphene.Int(),
            "before": graphene.String(),
        }

    def _connection(self, obj: ObjectDef) -> type[graphene.ObjectType]:
        name = type_name(obj.name)
        record = self.records[obj.name]
        edge = type(f"{name}Edge", (graphene.ObjectType,), {
            "Meta": type("Meta", (), {"name": f"{name}Edge"}),
            "node": graphene.Field(record, required=True),
            "cursor": graphene.String(required=True),
        })
        return type(f"{name}Connection", (graphene.ObjectType,), {
            "Meta": type("Meta", (), {"name": f"{name}Connection"}),
            "edges": graphene.List(graphene.NonNull(edge), required=True),
            "page_info": graphene.Field(PageInfo, required=True, name="pageInfo"),
            "total_count": graphene.Int(required=True, name="totalCount"),
        })

    # --- filters and ordering -------------------------------------------------------------
    def _operator_input(self, scalar_name: str, operators: tuple[str, ...]) -> type[graphene.InputObjectType]:
        key = (scalar_name, operators)
        if key not in self._operator_inputs:
            scalar = SCALARS[scalar_name]
            attrs: dict[str, Any] = {}
            for op in operators:
                if op == "isNull":
                    attrs[op] = graphene.Boolean()
                elif op in LIST_OPERATORS:
                    attrs[op] = graphene.List(graphene.NonNull(scalar))
                else:
                    attrs[op] = scalar()
            name = f"{scalar_name}Filter"
            taken = {cls._meta.name for cls in self._operator_inputs.values()}
            variant = 2
            while name in taken:
                name = f"{scalar_name}Filter{variant}"
                variant += 1
            attrs["Meta"] = type("Meta", (), {"name": name})
            self._operator_inputs[key] = type(name, (graphene.InputObjectType,), attrs)
        return self._operator_inputs[key]

    def _filter(self, obj: ObjectDef, *, lookup: bool) -> type[graphene.InputObjectType]:
        name = type_name(obj.name) + ("LookupFilter" if lookup else "Filter")
        own = lambda: self.filters[obj.name]  # noqa: E731 - resolved lazily, types are mutually recursive
        full = ("eq", "neq", "gt", "gte", "lt", "lte", "in", "notIn", "isNull")
        ids = ("eq", "neq", "in", "notIn", "isNull")
        attrs: dict[str, Any] = {
            "id": self._operator_input("ID", ids)(),
            "createdAt": self._operator_input("DateTime", full)(),
            "updatedAt": self._operator_input("DateTime", full)(),
            "createdBy": self._operator_input("ID", ids)(),
            "updatedBy": self._operator_input("ID", ids)(),
            "owner": self._operator_input("ID", ids)(),
            "version": self._operator_input("Int", full)(),
            "and": graphene.List(graphene.NonNull(own)),
            "or": graphene.List(graphene.NonNull(own)),
            "not": graphene.InputField(own),
        }
        if lookup:
            attrs["isNull"] = graphene.Boolean(description="Whether the lookup is empty.")
        for field in obj.fields:
            field_type = registry().value_type(field)
            if field.is_lookup:
                target = field.target or ""
                attrs[field.name] = graphene.InputField(lambda target=target: self.lookup_filters[target])
            else:
                attrs[field.name] = self._operator_input(field_type.graphql_scalar, field_type.operators)()
        attrs["Meta"] = type("Meta", (), {"name": name})
        return type(name, (graphene.InputObjectType,), attrs)

    def _order(self, obj: ObjectDef) -> type[graphene.InputObjectType]:
        name = type_name(obj.name) + "OrderBy"
        attrs: dict[str, Any] = {key: OrderDirection() for key in SYSTEM_SORT_FIELDS}
        for field in obj.fields:
            if registry().value_type(field).sortable:
                attrs[field.name] = OrderDirection()
        attrs["Meta"] = type("Meta", (), {"name": name, "description": "Exactly one field per entry."})
        return type(name, (graphene.InputObjectType,), attrs)

    # --- inputs ---------------------------------------------------------------------------
    def record_input(self, obj: ObjectDef, *, create: bool) -> type[graphene.InputObjectType]:
        suffix = "CreateInput" if create else "UpdateInput"
        name = type_name(obj.name) + suffix
        attrs: dict[str, Any] = {"owner": graphene.ID(description="Owner's user id (defaults to the caller).")}
        for field in obj.fields:
            if field.read_only or field.is_computed:
                continue
            field_type = registry().of(field)
            scalar = SCALARS[field_type.graphql_scalar]
            has_default = field.default_value is not None or field.default_expression is not None
            required = create and field.required and not has_default
            if field_type.is_list:
                attrs[field.name] = graphene.List(graphene.NonNull(scalar), required=required)
            else:
                attrs[field.name] = scalar(required=required, description=field.label("en"))
        attrs["Meta"] = type("Meta", (), {"name": name})
        return type(name, (graphene.InputObjectType,), attrs)
