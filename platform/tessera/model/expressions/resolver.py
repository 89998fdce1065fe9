"""The default resolver: a field path of one object's records as SQL.

Own fields are columns of the record's table (or of the alias the caller passes as ``source``);
a lookup path is one correlated scalar subquery joining each hop's live (not deleted) records, so an
expression stays one column expression usable in SELECT, WHERE and ORDER BY without extra joins.
"""

from __future__ import annotations

from typing import Any, Protocol

import sqlalchemy as sa

from tessera.model.definitions import FieldDef, ObjectDef
from tessera.model.expressions.scope import SYSTEM_FIELDS, USER_FIELDS
from tessera.model.records.tables import RecordTables
from tessera.storage.system_tables import users


class FieldValues(Protocol):
    def value(self, obj: ObjectDef, field: FieldDef, source: sa.FromClause) -> sa.ColumnElement[Any]:
        """The SQL of a field's value in ``source``: its column, or what computes it."""
        ...


class RecordResolver:
    """Resolves paths from ``object_name``'s records (see the module docstring).

    ``fields`` computes formula and rollup values; without it only stored fields resolve.
    """

    def __init__(
        self, tables: RecordTables, object_name: str, *, source: sa.FromClause | None = None,
        fields: FieldValues | None = None,
    ) -> None:
        obj = tables.meta.object(object_name)
        if obj is None:
            raise KeyError(object_name)
        self.tables = tables
        self.obj = obj
        self.source = source if source is not None else tables.table(object_name)
        self.fields = fields

    def __call__(self, path: tuple[str, ...]) -> sa.ColumnElement[Any]:
        value = self._column(self.obj, self.source, path[0])
        if len(path) == 1:
            return value
        # One correlated subquery per path, its hops joined inside it: one level of correlation only
        # (SQLAlchemy correlates a subquery with its direct parent, and it is cheaper).
        joined: sa.FromClause | None = None
        correlation: list[sa.ColumnElement[bool]] = []
        obj: ObjectDef | None = self.obj
        for index, name in enumerate(path[1:], start=1):
            target = self._target(obj, path[index - 1])
            if target is None:
                alias = users.alias()
                on = [alias.c.id == value]
                value = alias.c[USER_FIELDS[name][0]]
            else:
                alias = self.tables.table(target.name).alias()
                on = [alias.c.id == value, alias.c.deleted_at.is_(None)]
                value = self._column(target, alias, name)
            if joined is None:
                joined = alias
                correlation = on
            else:
                joined = joined.join(alias, sa.and_(*on))
            obj = target
        assert joined is not None
        # NOTE: explicit correlation: the subquery may end up nested several levels deep (inside
        # ``let``), where SQLAlchemy's automatic correlation only looks one level up.
        subquery = sa.select(value).select_from(joined).where(*correlation).correlate(self.source)
        return subquery.scalar_subquery()

    def _target(self, obj: ObjectDef | None, name: str) -> ObjectDef | None:
        """The object a lookup points at; None for the users behind owner/createdBy/updatedBy."""
        assert obj is not None, "users have no lookups (checked)"
        field = obj.field(name)
        if field is None:
            return None
        target = self.tables.meta.object(field.target or "")
        assert target is not None, "checked lookup"
        return target

    def _column(self, obj: ObjectDef, source: sa.FromClause, name: str) -> sa.ColumnElement[Any]:
        field = obj.field(name)
        if field is not None and field.is_computed:
            if self.fields is None:
                raise ValueError(f"{obj.name}.{name} is computed; pass fields= to resolve it")
            return self.fields.value(obj, field, source)
        if field is not None:
            return source.c[field.column_name]
        return source.c[SYSTEM_FIELDS[name][0]]
