"""Expression types, which one may stand in for another, and how field types map onto them."""

from __future__ import annotations

from enum import StrEnum

from tessera.model.definitions import FieldDef


class ExprType(StrEnum):
    TEXT = "TEXT"
    NUMBER = "NUMBER"
    INTEGER = "INTEGER"
    BOOLEAN = "BOOLEAN"
    DATE = "DATE"
    DATETIME = "DATETIME"
    NULL = "NULL"
    """The type of the literal ``NULL`` alone; it takes the type its place asks for."""
    PICKLIST = "PICKLIST"
    """A picklist field: usable as TEXT anywhere, and the only thing ISPICKVAL accepts."""
    MULTI_PICKLIST = "MULTI_PICKLIST"
    """A multi-select picklist field: only ISBLANK, INCLUDES, ISCHANGED and PRIORVALUE take it."""


VALUE_TYPES = (
    ExprType.TEXT, ExprType.INTEGER, ExprType.NUMBER, ExprType.BOOLEAN, ExprType.DATE, ExprType.DATETIME,
)
"""Types an expression may produce, in the order overloads are tried (INTEGER before NUMBER)."""

ORDERED_TYPES = (ExprType.TEXT, ExprType.INTEGER, ExprType.NUMBER, ExprType.DATE, ExprType.DATETIME)
"""Types with an order (``<``, MIN, MAX); BOOLEAN only has equality."""

_WIDENING = {(ExprType.INTEGER, ExprType.NUMBER), (ExprType.PICKLIST, ExprType.TEXT)}

FIELD_TYPES: dict[str, ExprType] = {
    "TEXT": ExprType.TEXT,
    "LONG_TEXT": ExprType.TEXT,
    "EMAIL": ExprType.TEXT,
    "PHONE": ExprType.TEXT,
    "URL": ExprType.TEXT,
    "AUTO_NUMBER": ExprType.TEXT,
    "LOOKUP": ExprType.TEXT,
    "INTEGER": ExprType.INTEGER,
    "NUMBER": ExprType.NUMBER,
    "CURRENCY": ExprType.NUMBER,
    "PERCENT": ExprType.NUMBER,
    "BOOLEAN": ExprType.BOOLEAN,
    "DATE": ExprType.DATE,
    "DATETIME": ExprType.DATETIME,
    "PICKLIST": ExprType.PICKLIST,
    "MULTI_PICKLIST": ExprType.MULTI_PICKLIST,
}
"""Field type → expression type. A LOOKUP alone is its target's id (TEXT); followed by ``.`` it is a path.
JSON fields cannot be referenced. Percent values are numbers where 10 means 10%."""

RESULT_TYPES: dict[str, ExprType] = {
    "TEXT": ExprType.TEXT,
    "NUMBER": ExprType.NUMBER,
    "CURRENCY": ExprType.NUMBER,
    "PERCENT": ExprType.NUMBER,
    "INTEGER": ExprType.INTEGER,
    "BOOLEAN": ExprType.BOOLEAN,
    "DATE": ExprType.DATE,
    "DATETIME": ExprType.DATETIME,
}
"""A formula's declared ``resultType`` → the type its expression must have."""


def assignable(source: ExprType, target: ExprType) -> bool:
    """Whether a value of ``source`` may stand where ``target`` is expected."""
    return source == target or source == ExprType.NULL or (source, target) in _WIDENING


def field_expr_type(field: FieldDef) -> ExprType | None:
    """The expression type of a field, or None when expressions cannot read it."""
    if field.type in FIELD_TYPES:
        return FIELD_TYPES[field.type]
    result = field.opt("resultType")
    return RESULT_TYPES.get(result) if isinstance(result, str) else None


def describe(t: ExprType) -> str:
    return "NULL" if t == ExprType.NULL else str(t)


def unify(a: ExprType, b: ExprType) -> ExprType | None:
    """The type both ``a`` and ``b`` can become (INTEGER+NUMBER → NUMBER, NULL+X → X), or None."""
    if assignable(a, b):
        return b
    if assignable(b, a):
        return a
    return None
