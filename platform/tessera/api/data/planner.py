"""Turns a GraphQL selection set into a record selection tree (look-ahead over the whole query)."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo, get_argument_values, get_named_type
from graphql.execution.collect_fields import collect_sub_fields
from graphql.language import FieldNode

from tessera.api.inputs import plain
from tessera.core.errors import ValidationError
from tessera.model.definitions import TenantMetadata
from tessera.model.records.selection import (
    LOOKUP,
    RELATION,
    TYPENAME,
    USER,
    VALUE,
    ConnectionSelection,
    ListArgs,
    NodeItem,
    NodeSelection,
)

SYSTEM_VALUES = {"id", "createdAt", "updatedAt", "version"}
USER_FIELDS = {"owner", "createdBy", "updatedBy"}


def list_args(args: dict[str, Any]) -> ListArgs:
    return ListArgs(
        filter=plain(args.get("filter")),
        order_by=plain(args.get("order_by", args.get("orderBy"))),
        first=args.get("first"),
        after=args.get("after"),
        last=args.get("last"),
        before=args.get("before"),
    )


class Planner:
    def __init__(self, info: GraphQLResolveInfo, meta: TenantMetadata) -> None:
        self.info = info
        self.meta = meta

    def _sub(self, parent: GraphQLObjectType, nodes: list[FieldNode]) -> dict[str, list[FieldNode]]:
        info = self.info
        return collect_sub_fields(info.schema, info.fragments, info.variable_values, parent, nodes)

    def root_connection(self, object_name: str, args: dict[str, Any]) -> ConnectionSelection:
        info = self.info
        conn_type = get_named_type(info.return_type)
        return self.connection(object_name, conn_type, list(info.field_nodes), list_args(args))

    def root_node(self, object_name: str) -> NodeSelection:
        info = self.info
        return self.node(object_name, get_named_type(info.return_type), list(info.field_nodes))

    def connection(
        self, object_name: str, conn_type: GraphQLObjectType, nodes: list[FieldNode], args: ListArgs
    ) -> ConnectionSelection:
        sel = ConnectionSelection(object=object_name, typename=conn_type.name, args=args)
        edges_seen = page_info_seen = False
        for key, field_nodes in self._sub(conn_type, nodes).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                sel.items.append((key, "typename"))
            elif name == "totalCount":
                sel.items.append((key, "totalCount"))
            elif name == "pageInfo":
                if page_info_seen:
                    raise ValidationError("select pageInfo once per connection", field=key)
                page_info_seen = True
                sel.items.append((key, "pageInfo"))
                info_type = get_named_type(conn_type.fields["pageInfo"].type)
                for sub_key, sub_nodes in self._sub(info_type, field_nodes).items():
                    sub_name = sub_nodes[0].name.value
                    sel.page_info_items.append((sub_key, "typename" if sub_name == "__typename" else sub_name))
            elif name == "edges":
                if edges_seen:
                    raise ValidationError("select edges once per connection", field=key)
                edges_seen = True
                sel.items.append((key, "edges"))
                edge_type = get_named_type(conn_type.fields["edges"].type)
                for sub_key, sub_nodes in self._sub(edge_type, field_nodes).items():
                    sub_name = sub_nodes[0].name.value
                    if sub_name == "node":
                        sel.edge_items.append((sub_key, "node"))
                        node_type = get_named_type(edge_type.fields["node"].type)
                        sel.node = self._merge(sel.node, self.node(object_name, node_type, sub_nodes))
                    else:
                        sel.edge_items.append((sub_key, "typename" if sub_name == "__typename" else sub_name))
        return sel

    @staticmethod
    def _merge(existing: NodeSelection | None, new: NodeSelection) -> NodeSelection:
        if existing is None:
            return new
        raise ValidationError("select node once per edge", field="node")

    def node(self, object_name: str, node_type: GraphQLObjectType, nodes: list[FieldNode]) -> NodeSelection:
        obj = self.meta.by_name[object_name]
        relations = {r.name: r for r in self.meta.reverse_relations.get(object_name, ())}
        sel = NodeSelection(object=object_name, typename=node_type.name)
        for key, field_nodes in self._sub(node_type, nodes).items():
            name = field_nodes[0].name.value
            if name == "__typename":
                sel.items.append(NodeItem(key, TYPENAME, node_type.name))
            elif name in SYSTEM_VALUES:
                sel.items.append(NodeItem(key, VALUE, name))
            elif name in USER_FIELDS:
                user_type = get_named_type(node_type.fields[name].type)
                sel.items.append(NodeItem(key, USER, name, node=self._user(user_type, field_nodes)))
            elif name in relations:
                relation = relations[name]
                field_def = node_type.fields[name]
                args = get_argument_values(field_def, field_nodes[0], self.info.variable_values)
                conn_type = get_named_type(field_def.type)
                connection = self.connection(relation.source_object, conn_type, field_nodes, list_args(args))
                sel.items.append(NodeItem(key, RELATION, name, connection=connection))
            else:
                field = obj.fields_by_name[name]
                if field.is_lookup:
                    target_type = get_named_type(node_type.fields[name].type)
                    target = self.node(field.target or "", target_type, field_nodes)
                    sel.items.append(NodeItem(key, LOOKUP, name, node=target))
                else:
                    sel.items.append(NodeItem(key, VALUE, name))
        return sel

    def _user(self, user_type: GraphQLObjectType, nodes: list[FieldNode]) -> NodeSelection:
        sel = NodeSelection(object="__user", typename=user_type.name)
        for key, field_nodes in self._sub(user_type, nodes).items():
            name = field_nodes[0].name.value
            sel.items.append(NodeItem(key, TYPENAME if name == "__typename" else VALUE, name))
        return sel
