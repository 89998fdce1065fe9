"""Where an expression runs, and what each place allows (fields, record-change functions, result)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tessera.model.expressions.types import ExprType


class Context(StrEnum):
    FORMULA = "FORMULA"
    """A formula field: computed in SQL on read and in Python after writes."""
    VALIDATION = "VALIDATION"
    """A validation rule: the write is refused when the expression is TRUE."""
    DEFAULT = "DEFAULT"
    """A field's default value, computed when a record is created (before it has values)."""
    CONDITION = "CONDITION"
    """A workflow condition, evaluated on a record change."""
    FILTER = "FILTER"
    """A report or list filter, always compiled to SQL."""
    ACTION = "ACTION"
    """A value a workflow or approval action computes from the record (field updates, message text)."""


@dataclass(frozen=True)
class ContextRules:
    label: str
    allows_fields: bool
    record_change: bool
    """ISNEW, ISCHANGED and PRIORVALUE need the record's previous values."""
    result: ExprType | None
    """The type the whole expression must have (None: the caller says, e.g. a formula's resultType)."""
    sql: bool = False
    """Always compiled to SQL, so every function used needs an SQL implementation."""


RULES: dict[Context, ContextRules] = {
    Context.FORMULA: ContextRules("formulas", allows_fields=True, record_change=False, result=None, sql=True),
    Context.VALIDATION: ContextRules("validation rules", allows_fields=True, record_change=True,
                                     result=ExprType.BOOLEAN),
    Context.DEFAULT: ContextRules("default values", allows_fields=False, record_change=False, result=None),
    Context.CONDITION: ContextRules("workflow conditions", allows_fields=True, record_change=True,
                                    result=ExprType.BOOLEAN),
    Context.FILTER: ContextRules("filters", allows_fields=True, record_change=False, result=ExprType.BOOLEAN,
                                 sql=True),
    Context.ACTION: ContextRules("workflow actions", allows_fields=True, record_change=True, result=None),
}

RECORD_CHANGE_CONTEXTS = frozenset(c for c, r in RULES.items() if r.record_change)


def rules(context: Context) -> ContextRules:
    return RULES[context]
