"""What a field path in an expression means: the fields of one object, lookups and system fields."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Protocol

from tessera.model.definitions import ObjectDef, TenantMetadata
from tessera.model.expressions.types import ExprType, field_expr_type

USER = "$user"
"""The pseudo-object behind ``owner``, ``createdBy`` and ``updatedBy``."""

SYSTEM_FIELDS: dict[str, tuple[str, ExprType, bool]] = {
    "id": ("id", ExprType.TEXT, False),
    "createdAt": ("created_at", ExprType.DATETIME, False),
    "updatedAt": ("updated_at", ExprType.DATETIME, False),
    "owner": ("owner_id", ExprType.TEXT, True),
    "createdBy": ("created_by", ExprType.TEXT, True),
    "updatedBy": ("updated_by", ExprType.TEXT, True),
}
"""System field → (column, type, whether it looks up a user)."""

USER_FIELDS: dict[str, tuple[str, ExprType]] = {
    "id": ("id", ExprType.TEXT),
    "name": ("name", ExprType.TEXT),
    "email": ("email", ExprType.TEXT),
}


@dataclass(frozen=True)
class FieldInfo:
    """A resolved field path: its expression type and what it is made of."""

    path: tuple[str, ...]
    type: ExprType
    field_type: str
    """The Tessera field type of the last segment (``SYSTEM`` for system fields)."""
    object_name: str
    """The object holding the last segment (``$user`` for user fields)."""
    picklist_values: tuple[str, ...] = ()


class ScopeError(Exception):
    """A path that does not resolve; ``segment`` is the index of the offending name."""

    def __init__(self, segment: int, reason: str) -> None:
        super().__init__(reason)
        self.segment = segment
        self.reason = reason


class Scope(Protocol):
    def resolve(self, path: tuple[str, ...]) -> FieldInfo:
        """The field ``path`` names, or raise ``ScopeError``."""
        ...


class ObjectScope:
    """Fields of one object of a tenant, reachable through lookups up to ``max_hops`` deep."""

    def __init__(self, meta: TenantMetadata, object_name: str, *, max_hops: int = 5) -> None:
        obj = meta.object(object_name)
        if obj is None:
            raise KeyError(object_name)
        self.meta = meta
        self.obj = obj
        self.max_hops = max_hops

    def resolve(self, path: tuple[str, ...]) -> FieldInfo:
        if len(path) - 1 > self.max_hops:
            raise ScopeError(self.max_hops, f"a field path may follow at most {self.max_hops} lookups")
        current: ObjectDef | None = self.obj
        for index, name in enumerate(path):
            last = index == len(path) - 1
            if current is None:
                return self._user_field(path, index)
            if name in SYSTEM_FIELDS and current.field(name) is None:
                _column, expr_type, is_user = SYSTEM_FIELDS[name]
                if last:
                    return FieldInfo(path, expr_type, "SYSTEM", current.name)
                if not is_user:
                    raise ScopeError(index + 1, f"'{name}' is not a lookup, so nothing can follow it")
                current = None
                continue
            field = current.field(name)
            if field is None:
                raise ScopeError(index, f"unknown field '{name}' on {current.name}{_suggest(name, current)}")
            if last:
                expr_type = field_expr_type(field)
                if expr_type is None:
                    raise ScopeError(index, f"{field.type} field '{name}' cannot be used in expressions")
                values = tuple(o.value for o in field.picklist_options) if field.type in (
                    "PICKLIST", "MULTI_PICKLIST") else ()
                return FieldInfo(path, expr_type, field.type, current.name, values)
            if not field.is_lookup:
                raise ScopeError(index + 1, f"'{name}' is not a lookup, so nothing can follow it")
            current = self.meta.object(field.target or "")
            if current is None:
                raise ScopeError(index, f"lookup '{name}' points at an unknown object")
        raise AssertionError("unreachable")

    @staticmethod
    def _user_field(path: tuple[str, ...], index: int) -> FieldInfo:
        name = path[index]
        if name not in USER_FIELDS:
            raise ScopeError(index, f"unknown user field '{name}' (users have {', '.join(USER_FIELDS)})")
        if index != len(path) - 1:
            raise ScopeError(index + 1, f"'{name}' is not a lookup, so nothing can follow it")
        return FieldInfo(path, USER_FIELDS[name][1], "SYSTEM", USER)


class NoFields:
    """The scope of expressions that may not read fields (default values)."""

    def resolve(self, path: tuple[str, ...]) -> FieldInfo:
        raise ScopeError(0, "this expression cannot read fields")


def _suggest(name: str, obj: ObjectDef) -> str:
    names = [f.name for f in obj.fields] + list(SYSTEM_FIELDS)
    close = difflib.get_close_matches(name, names, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
