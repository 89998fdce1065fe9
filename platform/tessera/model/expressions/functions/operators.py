"""Operators as functions: arithmetic, ``&``, comparisons, and the internal INTEGER → NUMBER widening."""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from tessera.model.expressions import values as v
from tessera.model.expressions.functions import datesql
from tessera.model.expressions.functions.spec import HANDLED, INEXACT, INHERIT, FunctionSpec, Signature
from tessera.model.expressions.sqlkit import (
    POSTGRESQL,
    SQLITE,
    ExprDecimal,
    SqlCall,
    binop,
    let,
    quoted,
    retype,
    sql_type,
)
from tessera.model.expressions.types import ORDERED_TYPES, VALUE_TYPES, ExprType

T = ExprType
Col = sa.ColumnElement[Any]
COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "<>": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


def _arith(op: str) -> Callable[[SqlCall], Col]:
    def impl(c: SqlCall) -> Col:
        return binop(c.args[0], op, c.args[1], sql_type(c.node.type))
    return impl


def _divide_sqlite(c: SqlCall) -> Col:
    return binop(sa.cast(c.args[0], sa.Float()), "/", c.args[1], ExprDecimal())


def _divide_pg(c: SqlCall) -> Col:
    return binop(sa.cast(c.args[0], sa.Numeric()), "/", sa.func.nullif(c.args[1], 0), ExprDecimal())


def _py_divide(a: Decimal, b: Decimal) -> Decimal | None:
    return None if b == 0 else a / b


def _days_between_datetimes(a: datetime, b: datetime) -> Decimal:
    delta = a - b
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return Decimal(micros) / Decimal(86_400_000_000)


def _sql_datetime_diff(c: SqlCall) -> Col:
    a, b = c.args
    if c.sqlite:
        # NOTE: julianday() keeps milliseconds only and loses ~50 µs to float rounding near 2.46e6;
        # whole epoch seconds plus the microsecond digits keep the difference exact enough.
        def micros(ts: Col) -> Col:
            def of(t: Col) -> Col:
                seconds = sa.cast(sa.func.strftime(quoted("%s"), sa.func.substr(t, 1, 19)), sa.BigInteger())
                fraction = sa.cast(sa.func.substr(t, 21, 6), sa.BigInteger())
                return binop(binop(seconds, "*", 1_000_000, sa.BigInteger()), "+", fraction, sa.BigInteger())
            return let(ts, of)
        delta = binop(micros(a), "-", micros(b), sa.BigInteger())
        return binop(sa.cast(delta, sa.Float()), "/", 86_400_000_000.0, ExprDecimal())
    seconds = sa.extract("epoch", binop(a, "-", b, sa.Interval()))
    return binop(seconds, "/", 86_400, ExprDecimal())


def _neg(x: Col) -> Col:
    return -retype(x, sa.BigInteger())


def _py_add_datetime(a: datetime, days: int) -> datetime | None:
    try:
        return a + timedelta(days=days)
    except OverflowError:
        return None


PLUS = FunctionSpec(
    name="+", category="operator", usage="a + b", operator=True, exactness=INEXACT,
    summary="Adds numbers; a date or datetime plus an integer moves it by that many days.",
    signatures=(
        Signature((T.INTEGER, T.INTEGER), T.INTEGER, operator.add, _arith("+")),
        Signature((T.NUMBER, T.NUMBER), T.NUMBER, operator.add, _arith("+")),
        Signature((T.DATE, T.INTEGER), T.DATE, v.add_days, lambda c: datesql.add_days(c.ctx, *c.args)),
        Signature((T.INTEGER, T.DATE), T.DATE, lambda n, d: v.add_days(d, n),
                  lambda c: datesql.add_days(c.ctx, c.args[1], c.args[0])),
        Signature((T.DATETIME, T.INTEGER), T.DATETIME, _py_add_datetime,
                  lambda c: datesql.add_days_datetime(c.ctx, *c.args)),
        Signature((T.INTEGER, T.DATETIME), T.DATETIME, lambda n, d: _py_add_datetime(d, n),
                  lambda c: datesql.add_days_datetime(c.ctx, c.args[1], c.args[0])),
    ),
)

MINUS = FunctionSpec(
    name="-", category="operator", usage="a - b", operator=True, exactness=INEXACT,
    summary="Subtracts numbers; date - integer moves back by days; date - date is days between; "
            "datetime - datetime is fractional days.",
    signatures=(
        Signature((T.INTEGER, T.INTEGER), T.INTEGER, operator.sub, _arith("-")),
        Signature((T.NUMBER, T.NUMBER), T.NUMBER, operator.sub, _arith("-")),
        Signature((T.DATE, T.INTEGER), T.DATE, lambda d, n: v.add_days(d, -n),
                  lambda c: datesql.add_days(c.ctx, c.args[0], _neg(c.args[1]))),
        Signature((T.DATE, T.DATE), T.INTEGER, lambda a, b: (a - b).days,
                  lambda c: datesql.days_between(c.ctx, c.args[1], c.args[0])),
        Signature((T.DATETIME, T.INTEGER), T.DATETIME, lambda d, n: _py_add_datetime(d, -n),
                  lambda c: datesql.add_days_datetime(c.ctx, c.args[0], _neg(c.args[1]))),
        Signature((T.DATETIME, T.DATETIME), T.NUMBER, _days_between_datetimes, _sql_datetime_diff),
    ),
)

TIMES = FunctionSpec(
    name="*", category="operator", usage="a * b", operator=True, exactness=INEXACT,
    summary="Multiplies numbers.",
    signatures=(
        Signature((T.INTEGER, T.INTEGER), T.INTEGER, operator.mul, _arith("*")),
        Signature((T.NUMBER, T.NUMBER), T.NUMBER, operator.mul, _arith("*")),
    ),
)

DIVIDE = FunctionSpec(
    name="/", category="operator", usage="a / b", operator=True, exactness=INEXACT,
    summary="Divides; always a NUMBER (7 / 2 = 3.5). Division by zero is null.",
    signatures=(Signature((T.NUMBER, T.NUMBER), T.NUMBER, _py_divide, {SQLITE: _divide_sqlite, POSTGRESQL: _divide_pg}),),
)

NEGATE = FunctionSpec(
    name="NEG", category="operator", usage="-a", operator=True, exactness=INHERIT,
    summary="Negates a number.",
    signatures=(
        Signature((T.INTEGER,), T.INTEGER, operator.neg, lambda c: -retype(c.args[0], sa.BigInteger())),
        Signature((T.NUMBER,), T.NUMBER, operator.neg, lambda c: -retype(c.args[0], ExprDecimal())),
    ),
)


def _py_concat(a: str | None, b: str | None) -> str:
    return (a or "") + (b or "")


def _sql_concat(c: SqlCall) -> Col:
    empty = quoted("")
    return binop(sa.func.coalesce(c.args[0], empty), "||", sa.func.coalesce(c.args[1], empty), sa.Text())


CONCAT = FunctionSpec(
    name="&", category="operator", usage="a & b", operator=True, nulls=HANDLED,
    summary="Joins two texts; a null side counts as empty text.",
    signatures=(Signature((T.TEXT, T.TEXT), T.TEXT, _py_concat, _sql_concat),),
)


def _sql_compare(op: str) -> Callable[[SqlCall], Col]:
    compare = COMPARISONS[op]

    def impl(c: SqlCall) -> Col:
        left, right = c.exact(0), c.exact(1)
        if not c.sqlite and op not in ("=", "<>") and c.arg_type(0) in (T.TEXT, T.PICKLIST):
            left = sa.collate(left, "C")
        # SQLAlchemy's own comparison operators, so operands are parenthesized by precedence.
        return compare(left, right)
    return impl


def _comparison(op: str) -> FunctionSpec:
    types = VALUE_TYPES if op in ("=", "<>") else ORDERED_TYPES
    return FunctionSpec(
        name=op, category="operator", usage=f"a {op} b", operator=True,
        summary="Compares two values of the same type; null on either side gives null.",
        signatures=tuple(Signature((t, t), T.BOOLEAN, COMPARISONS[op], _sql_compare(op)) for t in types),
    )


def _py_to_number(value: int) -> Decimal:
    return Decimal(value)


TO_NUMBER = FunctionSpec(
    name="$NUMBER", category="internal", usage="(INTEGER used as NUMBER)", operator=True, exactness=INHERIT,
    summary="Widens an INTEGER where a NUMBER is expected (inserted by the checker).",
    signatures=(Signature((T.INTEGER,), T.NUMBER, _py_to_number, lambda c: retype(c.args[0], ExprDecimal())),),
)

SPECS: tuple[FunctionSpec, ...] = (
    PLUS, MINUS, TIMES, DIVIDE, NEGATE, CONCAT, TO_NUMBER, *(_comparison(op) for op in COMPARISONS),
)
