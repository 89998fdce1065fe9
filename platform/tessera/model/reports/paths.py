"""Field paths of a report (``stage``, ``account.industry``, ``account.owner``) as SQL columns.

Each lookup hop is a LEFT OUTER JOIN, made once per distinct prefix, whose ON clause holds the
target's live-record test and the caller's record predicate: a target the caller cannot reach reads
as null, as it does in the data API. Joins (rather than the correlated subqueries expressions use)
let the database group a million rows by a looked-up value in one pass.

A field the caller cannot read, or a lookup to an object they cannot read, is refused exactly as a
field that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tessera.core.errors import ValidationError
from tessera.model.access import Action, UserAccess
from tessera.model.definitions import FieldDef, ObjectDef
from tessera.model.records.computed import FieldSql
from tessera.model.records.query import SYSTEM_FILTER_FIELDS
from tessera.storage.types import UTCDateTime

SYSTEM_PATHS: dict[str, tuple[str, str]] = {
    "id": ("id", "ID"),
    "createdAt": ("created_at", "DATETIME"),
    "updatedAt": ("updated_at", "DATETIME"),
    "owner": ("owner_id", "ID"),
    "createdBy": ("created_by", "ID"),
    "updatedBy": ("updated_by", "ID"),
}
"""System values a path may end in → (column, the type reported for it)."""


@dataclass(frozen=True)
class Resolved:
    path: str
    column: sa.ColumnElement[Any]
    type: str
    """The Tessera field type of the value (a formula's or rollup's result type)."""
    field: FieldDef | None
    """None for system values."""
    label: str


class PathJoins:
    """Resolves paths from one base object and collects the joins they need."""

    def __init__(self, fields: FieldSql, access: UserAccess, base: ObjectDef, locale: str | None = None) -> None:
        self.fields = fields
        self.meta = fields.tables.meta
        self.access = access
        self.base = base
        self.locale = locale
        self.table = fields.tables.table(base.name)
        self._joins: dict[tuple[str, ...], tuple[sa.FromClause, ObjectDef]] = {}
        self._from: sa.FromClause = self.table

    @property
    def from_clause(self) -> sa.FromClause:
        return self._from

    def readable(self, obj: ObjectDef, name: str) -> FieldDef | None:
        field = obj.field(name)
        if field is None or not self.access.profile.field(obj, field).read:
            return None
        if field.is_lookup and not self.access.can(field.target or "", Action.READ):
            return None
        return field

    def resolve(self, path: str, where: str) -> Resolved:
        names = path.split(".")
        obj, source = self.base, self.table
        for index, name in enumerate(names):
            last = index == len(names) - 1
            if last and name in SYSTEM_PATHS and obj.field(name) is None:
                column, kind = SYSTEM_PATHS[name]
                value = source.c[column]
                if kind == "DATETIME":
                    value = sa.type_coerce(value, UTCDateTime())
                return Resolved(path, value, kind, None, name)
            field = self.readable(obj, name)
            if field is None:
                raise ValidationError(f"{where}: {obj.name} has no field '{name}'", field=where)
            if last:
                value_type = field.opt("resultType") if field.is_computed else field.type
                return Resolved(path, self.fields.value(obj, field, source), value_type, field,
                                field.label(self.locale))
            if not field.is_lookup:
                raise ValidationError(f"{where}: {obj.name}.{name} is not a lookup", field=where)
            source, obj = self._join(tuple(names[: index + 1]), source, obj, field)
        raise AssertionError("unreachable")

    def lookups(self, names: tuple[str, ...]) -> tuple[sa.FromClause, ObjectDef]:
        """The record a chain of lookups to objects reaches, joined as the paths' lookups are."""
        obj, source = self.base, self.table
        for index, name in enumerate(names):
            field = obj.field(name)
            assert field is not None and field.is_lookup, "checked by the caller"
            source, obj = self._join(names[: index + 1], source, obj, field)
        return source, obj

    def _join(self, prefix: tuple[str, ...], source: sa.FromClause, obj: ObjectDef, field: FieldDef
              ) -> tuple[sa.FromClause, ObjectDef]:
        if prefix in self._joins:
            return self._joins[prefix]
        target = self.meta.by_name[field.target or ""]
        alias = self.fields.tables.table(target.name).alias(f"j{len(self._joins)}")
        on = [alias.c.id == source.c[field.column_name], alias.c.deleted_at.is_(None)]
        reach = self.access.row_filter(target, alias)
        if reach is not None:
            on.append(reach)
        self._from = self._from.outerjoin(alias, sa.and_(*on))
        self._joins[prefix] = (alias, target)
        return alias, target


def check_filter_fields(joins: PathJoins, obj: ObjectDef, filter_: Mapping[str, Any] | None, where: str) -> None:
    """Refuse a structured filter naming a field the caller cannot read (as if it did not exist)."""
    for key, value in (filter_ or {}).items():
        at = f"{where}.{key}"
        if value is None:
            continue
        if key in ("and", "or"):
            if not isinstance(value, list):
                raise ValidationError(f"{at}: a list of filters is required", field=at)
            for i, item in enumerate(value):
                check_filter_fields(joins, obj, item, f"{at}.{i}")
        elif key == "not":
            check_filter_fields(joins, obj, value, at)
        elif key in SYSTEM_FILTER_FIELDS:
            continue
        else:
            field = joins.readable(obj, key)
            if field is None:
                raise ValidationError(f"{at}: {obj.name} has no field '{key}'", field=at)
            if not isinstance(value, Mapping):
                raise ValidationError(f"{at}: an object of operators is required", field=at)
            if field.is_lookup:
                target = joins.meta.by_name[field.target or ""]
                nested = {k: v for k, v in value.items() if k not in ("isNull", "id")}
                check_filter_fields(joins, target, nested, at)
