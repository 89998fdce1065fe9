"""The generated data half of a tenant's schema: per object a list, a single read and mutations."""

from __future__ import annotations

from typing import Any

import graphene

from tessera.api.data.planner import Planner
from tessera.api.data.types import TypeFactory
from tessera.api.execution import Precompiled
from tessera.api.inputs import plain
from tessera.core.errors import NotFound
from tessera.model.access import ADMIN, Action, PermissionProfile
from tessera.model.definitions import ObjectDef, TenantMetadata
from tessera.model.names import type_name
from tessera.services.records import create_records, delete_record, restore_record, update_record


def data_fields(meta: TenantMetadata, profile: PermissionProfile = ADMIN) -> tuple[dict[str, Any], dict[str, Any]]:
    """Query and mutation fields for every object of ``meta``: the mutations ``profile`` may use."""
    factory = TypeFactory(meta)
    queries: dict[str, Any] = {}
    mutations: dict[str, Any] = {}
    for obj in meta.objects:
        queries.update(_queries(factory, obj))
        allowed = {action for action in (Action.CREATE, Action.EDIT, Action.DELETE) if profile.can(obj.name, action)}
        mutations.update(_mutations(factory, obj, allowed))
    return queries, mutations


def _read_nodes(
    info: Any, obj_name: str, ids: list[str], *, include_deleted: bool = False, written: bool = False
) -> list[Any]:
    ctx = info.context
    selection = Planner(info, ctx.meta).root_node(obj_name)
    found = ctx.reader.nodes(selection, ids, include_deleted=include_deleted, written=written)
    return [found.get(i) for i in ids]


def _queries(factory: TypeFactory, obj: ObjectDef) -> dict[str, Any]:
    name = obj.name

    def resolve_list(root: Any, info: Any, **args: Any) -> Precompiled:
        ctx = info.context
        selection = Planner(info, ctx.meta).root_connection(name, args)
        return Precompiled(ctx.reader.connection(selection))

    def resolve_one(root: Any, info: Any, id: str) -> Precompiled:
        return Precompiled(_read_nodes(info, name, [id])[0])

    return {
        obj.plural_name: graphene.Field(
            graphene.NonNull(factory.connections[name]),
            description=f"{obj.plural_label('en')}: filter, sort and page through them.",
            resolver=resolve_list,
            **factory.list_arguments(name),
        ),
        name: graphene.Field(
            factory.records[name],
            id=graphene.ID(required=True),
            description=f"One {obj.label('en')} by id, or null.",
            resolver=resolve_one,
        ),
    }


def _mutations(factory: TypeFactory, obj: ObjectDef, allowed: set[Action]) -> dict[str, Any]:
    name = obj.name
    record = factory.records[name]
    create_input = factory.record_input(obj, create=True)
    update_input = factory.record_input(obj, create=False)
    title = type_name(name)

    def create_one(root: Any, info: Any, data: Any) -> Precompiled:
        ctx = info.context
        ctx.end_read()
        ids = create_records(ctx.rt, ctx.actor, ctx.model, name, [plain(data)], bulk=False)
        return Precompiled(_read_nodes(info, name, ids, written=True)[0])

    def create_many(root: Any, info: Any, data: list[Any]) -> Precompiled:
        ctx = info.context
        ctx.end_read()
        ids = create_records(ctx.rt, ctx.actor, ctx.model, name, [plain(d) for d in data])
        return Precompiled(_read_nodes(info, name, ids, written=True))

    def update_one(root: Any, info: Any, id: str, data: Any, expected_version: int | None = None) -> Precompiled:
        ctx = info.context
        ctx.end_read()
        update_record(ctx.rt, ctx.actor, ctx.model, name, id, plain(data), expected_version)
        return Precompiled(_read_nodes(info, name, [id], written=True)[0])

    def delete_one(root: Any, info: Any, id: str) -> Precompiled:
        ctx = info.context
        ctx.end_read()
        delete_record(ctx.rt, ctx.actor, ctx.model, name, id)
        node = _read_nodes(info, name, [id], include_deleted=True, written=True)[0]
        if node is None:
            raise NotFound(f"no {name} with id {id}", field="id")
        return Precompiled(node)

    def restore_one(root: Any, info: Any, id: str) -> Precompiled:
        ctx = info.context
        ctx.end_read()
        restore_record(ctx.rt, ctx.actor, ctx.model, name, id)
        return Precompiled(_read_nodes(info, name, [id], written=True)[0])

    fields = {
        f"create{title}": graphene.Field(
            graphene.NonNull(record), data=graphene.Argument(graphene.NonNull(create_input)),
            description=f"Create one {obj.label('en')}.", resolver=create_one,
        ),
        f"create{type_name(obj.plural_name)}": graphene.Field(
            graphene.NonNull(graphene.List(graphene.NonNull(record))),
            data=graphene.Argument(graphene.NonNull(graphene.List(graphene.NonNull(create_input)))),
            description=f"Create several {obj.plural_label('en')} at once: all or none.", resolver=create_many,
        ),
        f"update{title}": graphene.Field(
            graphene.NonNull(record), id=graphene.ID(required=True),
            data=graphene.Argument(graphene.NonNull(update_input)),
            expected_version=graphene.Int(name="expectedVersion", description="Refuse with CONFLICT unless the record is at this version."),
            description=f"Change one {obj.label('en')}; only the fields given change.", resolver=update_one,
        ),
        f"delete{title}": graphene.Field(
            graphene.NonNull(record), id=graphene.ID(required=True),
            description=f"Delete one {obj.label('en')} (to the recycle bin); returns it as deleted.",
            resolver=delete_one,
        ),
        f"restore{title}": graphene.Field(
            graphene.NonNull(record), id=graphene.ID(required=True),
            description=f"Bring back a deleted {obj.label('en')} and what its delete cascaded to.",
            resolver=restore_one,
        ),
    }
    needs = {
        f"create{title}": Action.CREATE, f"create{type_name(obj.plural_name)}": Action.CREATE,
        f"update{title}": Action.EDIT, f"delete{title}": Action.DELETE, f"restore{title}": Action.DELETE,
    }
    return {key: value for key, value in fields.items() if needs[key] in allowed}
