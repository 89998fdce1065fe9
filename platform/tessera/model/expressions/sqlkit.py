"""Building blocks function implementations use to write SQL for SQLite and PostgreSQL alike.

SQLite keeps NUMBER as binary doubles; ``SqlCall.exact(i)`` rounds an inexact argument to 15
significant digits and 10 decimal places (``snap``) before a discontinuous use, so ``0.29 * 100 = 29``
holds as it does with Python's exact decimals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import (
    BindParameter,
    Cast,
    ColumnClause,
    False_,
    Grouping,
    Label,
    Null,
    True_,
    TypeCoerce,
)
from sqlalchemy.types import TypeDecorator

from tessera.model.expressions.functions.spec import INEXACT, INHERIT
from tessera.model.expressions.typed import TCall, TLiteral, Typed
from tessera.model.expressions.types import ExprType
from tessera.storage.types import UTCDateTime

Resolver = Callable[[tuple[str, ...]], "sa.ColumnElement[Any]"]
"""Turns a field path into the SQL expression of its value (the caller decides joins or subqueries)."""

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
DIALECTS = (SQLITE, POSTGRESQL)
SNAP_DIGITS = 15
SNAP_PLACES = 10
COPY_LIMIT = 24
"""SQL elements up to this size are repeated rather than bound once (see ``let``)."""


class ExprDecimal(TypeDecorator[Decimal]):
    """NUMBER results: Decimal from PostgreSQL's NUMERIC as is, from SQLite's REAL via its repr."""

    impl = sa.Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == SQLITE:
            return dialect.type_descriptor(sa.Float(asdecimal=False))
        return dialect.type_descriptor(sa.Numeric(asdecimal=True))

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        return float(value) if dialect.name == SQLITE else Decimal(value)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, float):
            return Decimal(repr(value))
        return Decimal(value)


def sql_type(t: ExprType) -> sa.types.TypeEngine[Any]:
    """The SQLAlchemy type whose result processing yields the Python value of ``t``."""
    return {
        ExprType.TEXT: sa.Text(),
        ExprType.PICKLIST: sa.Text(),
        ExprType.INTEGER: sa.BigInteger(),
        ExprType.NUMBER: ExprDecimal(),
        ExprType.BOOLEAN: sa.Boolean(),
        ExprType.DATE: sa.Date(),
        ExprType.DATETIME: UTCDateTime(),
        ExprType.MULTI_PICKLIST: sa.JSON(),
    }.get(t, sa.types.NullType())


PG_TYPES: dict[ExprType, sa.types.TypeEngine[Any]] = {
    ExprType.TEXT: sa.Text(),
    ExprType.PICKLIST: sa.Text(),
    ExprType.INTEGER: sa.BigInteger(),
    ExprType.NUMBER: sa.Numeric(),
    ExprType.BOOLEAN: sa.Boolean(),
    ExprType.DATE: sa.Date(),
    ExprType.DATETIME: postgresql.TIMESTAMP(timezone=True),
}


def raw(sql: str, type_: sa.types.TypeEngine[Any] | None = None) -> sa.ColumnElement[Any]:
    """A constant SQL fragment written by us (never user text)."""
    return sa.literal_column(sql, type_)


def quoted(text: str) -> sa.ColumnElement[Any]:
    """A constant SQL string literal written inline (only for our own constants; no ``%`` on PG)."""
    return sa.literal_column("'" + text.replace("'", "''") + "'", sa.Text())


def retype(expr: Any, type_: sa.types.TypeEngine[Any]) -> sa.ColumnElement[Any]:
    """``expr`` seen as ``type_`` by SQLAlchemy, without re-processing a bound literal's value."""
    if isinstance(expr, sa.BindParameter):
        # NOTE: type_coerce on a bare bind would run the new type's bind processing on its value.
        expr = Grouping(expr)
    return sa.type_coerce(expr, type_)


def binop(left: Any, op: str, right: Any, type_: sa.types.TypeEngine[Any]) -> sa.ColumnElement[Any]:
    """``left op right`` for an operator SQLAlchemy does not know by type (``+`` on dates, ``||``).

    NOTE: custom operators get precedence 0, so SQLAlchemy would not parenthesize an AND or a
    comparison used as their operand; the operands are grouped explicitly.
    """
    return _grouped(retype(left, type_)).op(op, return_type=type_)(_grouped(retype(right, type_)))


def _grouped(expr: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    return expr if is_simple(expr) else Grouping(expr)


def is_simple(expr: Any) -> bool:
    """Whether repeating ``expr`` in SQL costs nothing: a column, a literal, or a cast of one."""
    while isinstance(expr, Grouping | TypeCoerce | Label | Cast):
        expr = expr.element if isinstance(expr, Grouping | Label) else expr.clause
    return isinstance(expr, ColumnClause | BindParameter | Null | True_ | False_)


def let(value: sa.ColumnElement[Any], body: Callable[[sa.ColumnElement[Any]], sa.ColumnElement[Any]]
        ) -> sa.ColumnElement[Any]:
    """``body(v)`` with ``v`` computed once, whatever ``body`` does with it.

    SQL has no local names, so an implementation using an argument twice would copy it, and nested
    calls would grow the statement exponentially. A large value is bound once in a one-row derived
    table instead: ``(SELECT body(t.v) FROM (SELECT value AS v) AS t)``, correlated with the
    enclosing query on both SQLite and PostgreSQL. Small values are copied: the derived table costs
    a subquery per row and, on SQLite builds with a fixed parser stack (3.40: 100 entries), about 11.
    """
    if is_simple(value) or _size(value) <= COPY_LIMIT:
        return body(value)
    bound = sa.select(value.label("v")).correlate_except(None).subquery()
    return sa.select(body(bound.c.v)).select_from(bound).correlate_except(bound).scalar_subquery()


def _size(expr: sa.ColumnElement[Any]) -> int:
    count = 0
    for _ in visitors.iterate(expr):
        count += 1
        if count > COPY_LIMIT:
            break
    return count


def lets(values: Sequence[sa.ColumnElement[Any]], body: Callable[..., sa.ColumnElement[Any]]
         ) -> sa.ColumnElement[Any]:
    """``let`` for several values: ``body(v1, v2, ...)``."""
    if not values:
        return body()
    return let(values[0], lambda first: lets(values[1:], lambda *rest: body(first, *rest)))


def snap(value: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """SQLite only: a double rounded to 10 decimal places, then to 15 significant digits.

    The first step clears cancellation noise (0.1 + 0.2 - 0.3), the second the relative noise of
    large values (123456.29 * 100). NOTE: SQLite's round(x, n) and printf('%.nf') lose digits past
    16 significant ones, so only round(x) (exact below 2^52) and printf('%.15g') are used.
    """
    places = float(10**SNAP_PLACES)

    def snapped(v: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        absolute = binop(sa.func.round(binop(v, "*", places, sa.Float())), "/", places, sa.Float())
        relative = sa.cast(sa.func.printf(quoted(f"%.{SNAP_DIGITS}g"), absolute), sa.Float())
        # printf() formats null as 0, so null must bypass it.
        return sa.case((v.is_(None), sa.null()), else_=relative)

    return let(value, snapped)


def is_inexact(node: Typed) -> bool:
    """Whether SQLite may hold a computed NUMBER with binary noise (see ``snap``)."""
    if node.type != ExprType.NUMBER or not isinstance(node, TCall):
        return False
    if node.spec.exactness == INEXACT:
        return True
    return node.spec.exactness == INHERIT and any(is_inexact(a) for a in node.args)


@dataclass
class SqlContext:
    """One compilation: the dialect, the moment TODAY/NOW stand for, and how fields become SQL."""

    dialect: str
    now: datetime
    resolver: Resolver
    _inexact: dict[int, bool] = field(default_factory=dict)

    @property
    def sqlite(self) -> bool:
        return self.dialect == SQLITE

    def inexact(self, node: Typed) -> bool:
        key = id(node)
        if key not in self._inexact:
            self._inexact[key] = self.sqlite and is_inexact(node)
        return self._inexact[key]

    def literal(self, value: Any, t: ExprType) -> sa.ColumnElement[Any]:
        """A typed literal; on PostgreSQL always CAST so the server never guesses a type."""
        if t == ExprType.BOOLEAN and value is not None:
            return sa.true() if value else sa.false()
        if t in (ExprType.NULL, ExprType.MULTI_PICKLIST):
            return sa.null()
        if value is None:
            return sa.null() if self.sqlite else sa.cast(sa.null(), PG_TYPES[t])
        if self.sqlite:
            if t == ExprType.NUMBER:
                return sa.literal(float(value), sa.Float())
            return sa.literal(value, sql_type(t))
        bind_type = sa.Numeric() if t == ExprType.NUMBER else sql_type(t)
        return sa.cast(sa.literal(value, bind_type), PG_TYPES[t])

    def text(self, value: str) -> sa.ColumnElement[Any]:
        return self.literal(value, ExprType.TEXT)

    def integer(self, value: int) -> sa.ColumnElement[Any]:
        return sa.literal_column(str(int(value)), sa.BigInteger())

    def today(self) -> date:
        return self.now.astimezone(UTC).date()


@dataclass
class SqlCall:
    """What a function's SQL implementation receives: the node and its compiled arguments."""

    ctx: SqlContext
    node: TCall
    args: list[sa.ColumnElement[Any]]

    @property
    def sqlite(self) -> bool:
        return self.ctx.sqlite

    def exact(self, index: int) -> sa.ColumnElement[Any]:
        """Argument ``index``, snapped on SQLite when it is a computed (inexact) number."""
        arg = self.args[index]
        return snap(arg) if self.ctx.inexact(self.node.args[index]) else arg

    def literal_value(self, index: int) -> Any:
        node = self.node.args[index]
        assert isinstance(node, TLiteral), "checked as a literal argument"
        return node.value

    def arg_type(self, index: int) -> ExprType:
        return self.node.args[index].type
