"""The record reader: executes a selection tree with a fixed number of statements per tree.

One statement for a page of records (plus one for ``totalCount``), one per lookup path for all
targets of the page, one per relation path for every parent's page (a window function), one for
the users behind ``owner``/``createdBy``/``updatedBy``. The result is the response shape itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

import sqlalchemy as sa

from tessera.core.config import Limits
from tessera.core.errors import LimitExceeded, NotFound, ValidationError
from tessera.model.access import SYSTEM, Action, UserAccess
from tessera.model.definitions import ObjectDef
from tessera.model.field_types import FieldType, registry
from tessera.model.records.cursors import decode_cursor, encode_cursor, ordering_signature
from tessera.model.records.query import SYSTEM_FILTER_FIELDS, OrderKey, QueryCompiler
from tessera.model.records.selection import (
    LOOKUP,
    RELATION,
    TYPENAME,
    USER,
    VALUE,
    ConnectionSelection,
    ListArgs,
    NodeSelection,
)
from tessera.model.registry import TenantModel
from tessera.storage.system_tables import users
from tessera.storage.types import iso_datetime

Row = Sequence[Any]


def _signature(keys: list[OrderKey]) -> str:
    return ordering_signature([k.signature_part for k in keys])


class RecordReader:
    """Reads for one request: one connection, one metadata version."""

    def __init__(self, conn: sa.Connection, model: TenantModel, limits: Limits, access: UserAccess = SYSTEM) -> None:
        self.conn = conn
        self.meta = model.meta
        self.tables = model.tables
        self.limits = limits
        self.access = access
        self.fields = model.field_sql(conn.dialect.name)
        self.compiler = QueryCompiler(self.fields, access)

    # --- entry points ---------------------------------------------------------------------
    def connection(self, sel: ConnectionSelection) -> dict[str, Any]:
        obj = self.meta.by_name[sel.object]
        where = self.compiler.where(obj, sel.args.filter)
        page = None
        size, backwards = self._page_size(sel.args)
        if sel.wants_rows:
            keys = self.compiler.order_keys(obj, sel.args.order_by)
            query = self._page_query(obj, sel, keys, where, sel.args, backwards)
            rows = self.conn.execute(query.limit(size + 1)).all()
            page = self._page(rows, size, backwards, sel.args, keys)
        total = None
        if sel.wants_total:
            table = self.tables.table(obj.name)
            total = self.conn.execute(sa.select(sa.func.count()).select_from(table).where(where)).scalar_one()
        return self._shape_connection(sel, obj, page, total)

    def nodes(
        self, sel: NodeSelection, ids: Sequence[str], *, include_deleted: bool = False, written: bool = False
    ) -> dict[str, dict[str, Any]]:
        """Records by id, shaped; missing (or deleted, or unreachable) ids are absent from the result.

        ``written``: the caller has just written these records (a mutation's result), so they are
        shown even when the write took them out of the caller's reach (a transfer to another owner);
        what they look up is still read with the caller's access.
        """
        if not ids:
            return {}
        obj = self.meta.by_name[sel.object]
        table = self.tables.table(obj.name)
        columns = self._columns(obj, sel)
        condition = table.c.id.in_(sorted(set(ids)))
        if not include_deleted:
            condition = sa.and_(condition, table.c.deleted_at.is_(None))
        reach = None if written else self.access.row_filter(obj, table)
        if reach is not None:
            # An unreachable lookup target reads as null: it is simply not found.
            condition = sa.and_(condition, reach)
        rows = self.conn.execute(sa.select(*columns).where(condition)).all()
        shaped = self._shape_nodes(sel, obj, rows)
        return {row[0]: node for row, node in zip(rows, shaped, strict=True)}

    def rows(
        self, object_name: str, fields: Sequence[str], *, filter: Mapping[str, Any] | None = None,
        order_by: Sequence[Mapping[str, str]] | None = None, limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Plain rows for code (plugins, exports): readable fields by API name, lookups as ids, values
        in their API form; the caller's record access and field permissions apply."""
        obj = self.meta.object(object_name)
        if obj is None or not self.access.can(obj, Action.READ):
            raise NotFound(f"no object '{object_name}'", field="object")
        table = self.tables.table(obj.name)
        columns: list[sa.ColumnElement[Any]] = []
        getters: list[tuple[str, Callable[[Any], Any]]] = []
        for index, name in enumerate(fields):
            if name in SYSTEM_FILTER_FIELDS:
                columns.append(table.c[SYSTEM_FILTER_FIELDS[name][0]])
                getters.append((name, self._value_getter(obj, name, index)))
                continue
            field = obj.field(name)
            if field is None or not self.access.profile.field(obj, field).read:
                raise ValidationError(f"{obj.name} has no field '{name}'", field="fields")
            columns.append(self.fields.value(obj, field, table).label(f"c{index}"))
            getters.append((name, itemgetter(index) if field.is_lookup else self._value_getter(obj, name, index)))
        keys = self.compiler.order_keys(obj, order_by)
        query = sa.select(*columns).where(self.compiler.where(obj, filter)).order_by(*[k.clause() for k in keys])
        if limit is not None:
            query = query.limit(limit)
        return [{name: get(row) for name, get in getters} for row in self.conn.execute(query)]

    # --- pages ----------------------------------------------------------------------------
    def _page_size(self, args: ListArgs) -> tuple[int, bool]:
        if args.first is not None and args.last is not None:
            raise ValidationError("pass either first or last, not both", field="first")
        if args.after is not None and args.before is not None:
            raise ValidationError("pass either after or before, not both", field="after")
        backwards = args.last is not None
        size = args.last if backwards else args.first
        name = "last" if backwards else "first"
        if size is None:
            return self.limits.default_page_size, backwards
        if size < 0:
            raise ValidationError(f"{name} must not be negative", field=name)
        if size > self.limits.max_page_size:
            raise LimitExceeded(f"{name} may be at most {self.limits.max_page_size}", field=name)
        return size, backwards

    def _page_query(
        self, obj: ObjectDef, sel: ConnectionSelection, keys: list[OrderKey], where: sa.ColumnElement[bool],
        args: ListArgs, backwards: bool,
    ) -> sa.Select[Any]:
        columns = self._columns(obj, sel.node) if sel.node else [self.tables.table(obj.name).c.id]
        key_columns = [k.column.label(f"_k{i}") for i, k in enumerate(keys)]
        signature = _signature(keys)
        if args.after is not None:
            values = decode_cursor(args.after, len(keys), signature, argument="after")
            where = sa.and_(where, QueryCompiler.after(keys, values))
        if args.before is not None:
            values = decode_cursor(args.before, len(keys), signature, argument="before")
            where = sa.and_(where, QueryCompiler.after(keys, values, reverse=True))
        return sa.select(*columns, *key_columns).where(where).order_by(*[k.clause(reverse=backwards) for k in keys])

    def _page(self, rows: list[Row], size: int, backwards: bool, args: ListArgs, keys: list[OrderKey]) -> dict[str, Any]:
        more = len(rows) > size
        rows = rows[:size]
        if backwards:
            rows.reverse()
        return {
            "rows": rows,
            "key_count": len(keys),
            "signature": _signature(keys),
            "hasNextPage": more if not backwards else args.before is not None,
            "hasPreviousPage": more if backwards else args.after is not None,
        }

    @staticmethod
    def _cursor(page: dict[str, Any], index: int) -> str:
        """Cursors are encoded only when asked for: encoding costs more than reading the row."""
        return encode_cursor(list(page["rows"][index][-page["key_count"]:]), page["signature"])

    def _shape_connection(
        self, sel: ConnectionSelection, obj: ObjectDef, page: dict[str, Any] | None, total: int | None,
        nodes: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if nodes is None:
            nodes = self._shape_nodes(sel.node, obj, page["rows"]) if page and sel.node else []
        for key, kind in sel.items:
            if kind == "totalCount":
                result[key] = total
            elif kind == "typename":
                result[key] = sel.typename
            elif kind == "edges":
                assert page is not None
                result[key] = self._edges(sel, page, nodes)
            elif kind == "pageInfo":
                assert page is not None
                result[key] = self._page_info(sel, page)
        return result

    def _edges(self, sel: ConnectionSelection, page: dict[str, Any], nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if len(sel.edge_items) == 1 and sel.edge_items[0][1] == "node":
            key = sel.edge_items[0][0]
            return [{key: node} for node in nodes]
        edge_type = sel.typename[: -len("Connection")] + "Edge"
        edges = []
        for index in range(len(page["rows"])):
            edge: dict[str, Any] = {}
            for key, kind in sel.edge_items:
                if kind == "node":
                    edge[key] = nodes[index]
                elif kind == "cursor":
                    edge[key] = self._cursor(page, index)
                else:
                    edge[key] = edge_type
            edges.append(edge)
        return edges

    def _page_info(self, sel: ConnectionSelection, page: dict[str, Any]) -> dict[str, Any]:
        count = len(page["rows"])
        result: dict[str, Any] = {}
        for key, kind in sel.page_info_items:
            if kind == "startCursor":
                result[key] = self._cursor(page, 0) if count else None
            elif kind == "endCursor":
                result[key] = self._cursor(page, count - 1) if count else None
            elif kind == "typename":
                result[key] = "PageInfo"
            else:
                result[key] = page[kind]
        return result

    # --- nodes ----------------------------------------------------------------------------
    def _columns(self, obj: ObjectDef, sel: NodeSelection | None) -> list[sa.ColumnElement[Any]]:
        """Selected values, named by column; computed fields are labelled with their column name."""
        table = self.tables.table(obj.name)
        names = ["id"]
        for item in sel.items if sel else ():
            if item.kind in (VALUE, USER):
                column = self._column_name(obj, item.name)
            elif item.kind == LOOKUP:
                column = obj.fields_by_name[item.name].column_name
            else:
                continue
            if column not in names:
                names.append(column)
        computed = {f.column_name: f for f in obj.fields if f.is_computed}
        return [
            self.fields.value(obj, computed[name], table).label(name) if name in computed else table.c[name]
            for name in names
        ]

    @staticmethod
    def _column_name(obj: ObjectDef, name: str) -> str:
        if name in SYSTEM_FILTER_FIELDS:
            return SYSTEM_FILTER_FIELDS[name][0]
        return obj.fields_by_name[name].column_name

    def _shape_nodes(self, sel: NodeSelection | None, obj: ObjectDef, rows: list[Row]) -> list[dict[str, Any]]:
        if sel is None:
            return [{} for _ in rows]
        columns = [c.name for c in self._columns(obj, sel)]
        position = {name: i for i, name in enumerate(columns)}
        getters: list[tuple[str, Callable[[Row], Any]]] = []
        for item in sel.items:
            getters.append((item.key, self._getter(obj, item, position, rows)))
        return [{key: get(row) for key, get in getters} for row in rows]

    def _getter(self, obj: ObjectDef, item: Any, position: dict[str, int], rows: list[Row]) -> Callable[[Row], Any]:
        if item.kind == TYPENAME:
            typename = item.name
            return lambda row: typename
        if item.kind == VALUE:
            index = position[self._column_name(obj, item.name)]
            return self._value_getter(obj, item.name, index)
        if item.kind == USER:
            index = position[self._column_name(obj, item.name)]
            people = self._users(item.node, {row[index] for row in rows if row[index]})
            return lambda row: people.get(row[index])
        if item.kind == LOOKUP:
            field = obj.fields_by_name[item.name]
            index = position[field.column_name]
            targets = self.nodes(item.node, [row[index] for row in rows if row[index] is not None])
            return lambda row: targets.get(row[index])
        if item.kind == RELATION:
            pages = self._relation_pages(obj, item, [row[0] for row in rows])
            empty = pages.pop(None)
            return lambda row: pages.get(row[0], empty)
        raise AssertionError(item.kind)

    def _value_getter(self, obj: ObjectDef, name: str, index: int) -> Callable[[Row], Any]:
        if name in SYSTEM_FILTER_FIELDS:
            if name in ("createdAt", "updatedAt"):
                return lambda row: iso_datetime(row[index]) if row[index] is not None else None
            return itemgetter(index)
        field = obj.fields_by_name[name]
        field_type = registry().value_type(field)
        convert = field_type.to_output
        if type(field_type).to_output is FieldType.to_output:
            return itemgetter(index)
        return lambda row: convert(field, row[index])

    def _users(self, sel: NodeSelection | None, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        ids = sorted(ids)
        if not ids or sel is None:
            return {}
        rows = self.conn.execute(sa.select(users.c.id, users.c.email, users.c.name).where(users.c.id.in_(ids))).all()
        result = {}
        for row in rows:
            values = {"id": row.id, "email": row.email, "name": row.name}
            result[row.id] = {
                item.key: ("User" if item.kind == TYPENAME else values[item.name]) for item in sel.items
            }
        return result

    def _relation_pages(self, parent: ObjectDef, item: Any, parent_ids: list[str]) -> dict[str | None, dict[str, Any]]:
        sel: ConnectionSelection = item.connection
        relation = next(r for r in self.meta.reverse_relations[parent.name] if r.name == item.name)
        source = self.meta.by_name[relation.source_object]
        table = self.tables.table(source.name)
        fk = table.c[source.fields_by_name[relation.lookup_field].column_name]
        where = sa.and_(self.compiler.where(source, sel.args.filter), fk.in_(sorted(set(parent_ids))))
        grouped: dict[str | None, dict[str, Any]] = {}
        pages: dict[str, dict[str, Any]] = {}
        size, backwards = self._page_size(sel.args)
        if sel.wants_rows and parent_ids:
            keys = self.compiler.order_keys(source, sel.args.order_by)
            query = self._page_query(source, sel, keys, where, sel.args, backwards)
            order = [k.clause(reverse=backwards) for k in keys]
            ranked = query.add_columns(
                fk.label("parent_key"), sa.func.row_number().over(partition_by=fk, order_by=order).label("row_rank")
            ).subquery()
            outer = (
                sa.select(*[c for c in ranked.c if c.name != "row_rank"])
                .where(ranked.c["row_rank"] <= size + 1)
                .order_by(ranked.c["parent_key"], ranked.c["row_rank"])
            )
            by_parent: dict[str, list[Row]] = {}
            for row in self.conn.execute(outer).all():
                by_parent.setdefault(row[-1], []).append(row[:-1])
            for parent_id in set(parent_ids):
                pages[parent_id] = self._page(by_parent.get(parent_id, []), size, backwards, sel.args, keys)
        totals: dict[str, int] = {}
        if sel.wants_total and parent_ids:
            totals = dict(self.conn.execute(sa.select(fk, sa.func.count()).where(where).group_by(fk)).all())
        empty_page = {"rows": [], "key_count": 0, "signature": "", "hasNextPage": False, "hasPreviousPage": False}
        # Shape every parent's rows at once, so nested lookups cost one statement for all parents.
        ordered = sorted(pages)
        all_rows = [row for parent_id in ordered for row in pages[parent_id]["rows"]]
        all_nodes = self._shape_nodes(sel.node, source, all_rows) if sel.node else [{} for _ in all_rows]
        start = 0
        for parent_id in ordered:
            count = len(pages[parent_id]["rows"])
            grouped[parent_id] = self._shape_connection(
                sel, source, pages[parent_id], totals.get(parent_id, 0), all_nodes[start : start + count]
            )
            start += count
        for parent_id in set(parent_ids) - set(pages):
            grouped[parent_id] = self._shape_connection(sel, source, empty_page, totals.get(parent_id, 0), [])
        grouped[None] = self._shape_connection(sel, source, empty_page, 0, [])
        return grouped
