"""What a function is: its signatures (typing rule + Python + SQL per dialect), contexts and null rule.

Operators are functions too. Plugins extend the language by adding ``FunctionSpec`` objects to a
``FunctionRegistry``; a name registered twice is refused loudly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tessera.model.expressions.context import Context
from tessera.model.expressions.types import ExprType, assignable

if TYPE_CHECKING:
    import sqlalchemy as sa

    from tessera.model.expressions.sqlkit import SqlCall
    from tessera.model.expressions.typed import Typed

PyImpl = Callable[..., Any]
"""Strict functions get the argument values; ``special`` ones get ``(evaluation, node)``."""
SqlImpl = Callable[["SqlCall"], "sa.ColumnElement[Any]"]

PROPAGATE = "propagate"
"""Any null argument makes the result null (checked before the implementation runs)."""
HANDLED = "handled"
"""The implementation decides what null arguments mean (documented per function)."""

EXACT = "exact"
INEXACT = "inexact"
INHERIT = "inherit"
"""Exactness of a NUMBER result on SQLite, where numbers are binary doubles: an ``inexact`` value is
rounded to 15 significant digits before anything discontinuous (comparison, FLOOR, TEXT...) uses it."""


@dataclass(frozen=True)
class Signature:
    """One overload: parameter types, result type, and its implementations."""

    params: tuple[ExprType, ...]
    result: ExprType
    python: PyImpl
    sql: SqlImpl | Mapping[str, SqlImpl] | None = None
    """One implementation for every dialect, or one per dialect name (``sqlite``, ``postgresql``)."""
    variadic: bool = False
    """The last parameter repeats (at least once)."""
    optional: int = 0
    """How many trailing parameters may be left out."""

    @property
    def min_args(self) -> int:
        return len(self.params) - self.optional

    @property
    def max_args(self) -> int | None:
        return None if self.variadic else len(self.params)

    def param(self, index: int) -> ExprType:
        return self.params[min(index, len(self.params) - 1)]

    def fits(self, count: int) -> bool:
        return count >= self.min_args and (self.max_args is None or count <= self.max_args)

    def accepts(self, types: Sequence[ExprType]) -> bool:
        return self.fits(len(types)) and all(assignable(t, self.param(i)) for i, t in enumerate(types))

    def sql_for(self, dialect: str) -> SqlImpl | None:
        if self.sql is None or callable(self.sql):
            return self.sql
        return self.sql.get(dialect)


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    category: str
    usage: str
    """How to call it, for messages and docs: ``LEFT(text, count)``."""
    summary: str
    signatures: tuple[Signature, ...]
    nulls: str = PROPAGATE
    special: bool = False
    """The Python implementation takes ``(evaluation, node)``: lazy arguments or the record's state."""
    contexts: frozenset[Context] | None = None
    """Where it may be used (None: everywhere)."""
    volatile: bool = False
    """Depends on the moment of evaluation (TODAY, NOW)."""
    exactness: str = EXACT
    literal_args: tuple[int, ...] = ()
    """Arguments that must be written as literals (e.g. DATEDIFF's unit)."""
    field_args: tuple[int, ...] = ()
    """Arguments that must be a field of the record itself (ISCHANGED, PRIORVALUE)."""
    validate: Callable[[Sequence[Typed]], tuple[int, str] | None] | None = None
    """Further static checks on the typed arguments: ``(argument index, reason)`` refuses."""
    resolve: Callable[[Sequence[ExprType]], Signature | None] | None = None
    """Custom overload resolution, for shapes signatures cannot express (CASE)."""
    operator: bool = False
    examples: tuple[str, ...] = field(default=())

    @property
    def min_args(self) -> int:
        return min(s.min_args for s in self.signatures) if self.signatures else 0

    @property
    def max_args(self) -> int | None:
        maxima = [s.max_args for s in self.signatures]
        return None if not maxima or None in maxima else max(m for m in maxima if m is not None)

    def allowed_in(self, context: Context) -> bool:
        return self.contexts is None or context in self.contexts

    def overload(self, types: Sequence[ExprType]) -> Signature | None:
        """The signature taking exactly ``types``, else the first taking them widened (INTEGER to
        NUMBER, PICKLIST to TEXT, NULL to anything)."""
        if self.resolve is not None:
            return self.resolve(types)
        exact = (s for s in self.signatures if s.fits(len(types)) and all(t == s.param(i) for i, t in enumerate(types)))
        return next(exact, None) or next((s for s in self.signatures if s.accepts(types)), None)


class FunctionRegistry:
    """Functions and operators by name; names are upper case, operators are their symbols."""

    def __init__(self, specs: Iterable[FunctionSpec] = ()) -> None:
        self._specs: dict[str, FunctionSpec] = {}
        for spec in specs:
            self.add(spec)

    def add(self, spec: FunctionSpec) -> None:
        key = spec.name.upper()
        if key in self._specs:
            raise ValueError(f"expression function {key} is registered twice")
        self._specs[key] = spec

    def get(self, name: str) -> FunctionSpec | None:
        return self._specs.get(name.upper())

    def functions(self) -> list[FunctionSpec]:
        """The callable functions (operators and internal helpers left out)."""
        return [s for s in self._specs.values() if not s.operator]

    def names(self) -> list[str]:
        return [s.name for s in self.functions()]

    def extended(self, specs: Iterable[FunctionSpec]) -> FunctionRegistry:
        """A copy with ``specs`` added (how plugin functions join the built-in ones)."""
        copy = FunctionRegistry(self._specs.values())
        for spec in specs:
            copy.add(spec)
        return copy
