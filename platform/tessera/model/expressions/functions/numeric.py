"""Math functions: ROUND, FLOOR, CEILING, ABS, MIN, MAX, MOD, POWER (and ``^``), SQRT."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import sqlalchemy as sa

from tessera.model.expressions import values as v
from tessera.model.expressions.functions.spec import INEXACT, INHERIT, FunctionSpec, Signature
from tessera.model.expressions.sqlkit import (
    POSTGRESQL,
    SQLITE,
    ExprDecimal,
    SqlCall,
    binop,
    let,
    lets,
    retype,
    snap,
)
from tessera.model.expressions.typed import TLiteral, Typed
from tessera.model.expressions.types import ORDERED_TYPES, ExprType

T = ExprType
Col = sa.ColumnElement[Any]
INT = sa.BigInteger()
NUM = ExprDecimal()
MAX_ROUND_DIGITS = 10


# --- ROUND -------------------------------------------------------------------------------
def _py_round(value: Decimal, digits: int = 0) -> Decimal:
    return v.round_half_up(value, digits)


def _sql_round_sqlite(c: SqlCall) -> Col:
    digits = c.literal_value(1) if len(c.args) > 1 else 0
    factor = float(10 ** abs(digits))

    def rounded(value: Col) -> Col:
        scaled = snap(binop(sa.func.abs(value), "*" if digits >= 0 else "/", factor, sa.Float()))
        whole = sa.cast(binop(scaled, "+", 0.5, sa.Float()), INT)
        back = binop(whole, "/" if digits >= 0 else "*", factor, sa.Float())
        return sa.case((value < 0, -back), else_=back)
    return retype(let(c.args[0], rounded), NUM)


def _sql_round_pg(c: SqlCall) -> Col:
    digits = c.literal_value(1) if len(c.args) > 1 else 0
    return sa.func.round(sa.cast(c.args[0], sa.Numeric()), c.ctx.integer(digits), type_=NUM)


def _check_digits(args: Sequence[Typed]) -> tuple[int, str] | None:
    if len(args) > 1 and isinstance(args[1], TLiteral) and args[1].value is not None:
        if abs(args[1].value) > MAX_ROUND_DIGITS:
            return 1, f"ROUND takes between -{MAX_ROUND_DIGITS} and {MAX_ROUND_DIGITS} digits"
    elif len(args) > 1:
        return 1, "ROUND needs a whole number of digits, not null"
    return None


ROUND = FunctionSpec(
    name="ROUND", category="math", usage="ROUND(number, digits)", literal_args=(1,), validate=_check_digits,
    examples=("ROUND(amount * 1.19, 2)", "ROUND(2.5)"),
    summary="Rounded half away from zero to `digits` places (default 0; negative rounds to tens, "
            "hundreds...). `digits` is a literal between -10 and 10.",
    signatures=(Signature((T.NUMBER, T.INTEGER), T.NUMBER, _py_round,
                          {SQLITE: _sql_round_sqlite, POSTGRESQL: _sql_round_pg}, optional=1),),
)


# --- FLOOR / CEILING ---------------------------------------------------------------------
def _sql_floor(up: bool) -> Any:
    def impl(c: SqlCall) -> Col:
        if not c.sqlite:
            return sa.cast((sa.func.ceil if up else sa.func.floor)(c.args[0]), INT)
        def rounded(value: Col) -> Col:
            whole = sa.cast(value, INT)
            # NOTE: no math functions needed: CAST truncates toward zero, the comparison corrects it.
            step = sa.cast(value > whole if up else value < whole, INT)
            return binop(whole, "+" if up else "-", step, INT)
        return let(c.exact(0), rounded)
    return impl


FLOOR = FunctionSpec(
    name="FLOOR", category="math", usage="FLOOR(number)", examples=("FLOOR(-2.5)",),
    summary="The largest whole number not above `number` (an INTEGER).",
    signatures=(
        Signature((T.INTEGER,), T.INTEGER, lambda n: n, lambda c: c.args[0]),
        Signature((T.NUMBER,), T.INTEGER, lambda n: int(n.to_integral_value(ROUND_FLOOR)), _sql_floor(False)),
    ),
)
CEILING = FunctionSpec(
    name="CEILING", category="math", usage="CEILING(number)", examples=("CEILING(2.1)",),
    summary="The smallest whole number not below `number` (an INTEGER).",
    signatures=(
        Signature((T.INTEGER,), T.INTEGER, lambda n: n, lambda c: c.args[0]),
        Signature((T.NUMBER,), T.INTEGER, lambda n: int(n.to_integral_value(ROUND_CEILING)), _sql_floor(True)),
    ),
)
ABS = FunctionSpec(
    name="ABS", category="math", usage="ABS(number)", exactness=INHERIT, examples=("ABS(-3)",),
    summary="The absolute value.",
    signatures=(
        Signature((T.INTEGER,), T.INTEGER, abs, lambda c: sa.func.abs(c.args[0], type_=INT)),
        Signature((T.NUMBER,), T.NUMBER, abs, lambda c: sa.func.abs(c.args[0], type_=NUM)),
    ),
)


# --- MIN / MAX ---------------------------------------------------------------------------
def _sql_extreme(smallest: bool) -> Any:
    def impl(c: SqlCall) -> Col:
        args = list(c.args)
        if len(args) == 1:
            return args[0]
        if c.sqlite:
            return (sa.func.min if smallest else sa.func.max)(*args)
        text = c.arg_type(0) in (T.TEXT, T.PICKLIST)

        def chosen(*values: Col) -> Col:
            # NOTE: PostgreSQL's LEAST/GREATEST skip nulls; the language propagates them.
            any_null = sa.or_(*(x.is_(None) for x in values))
            picked = [sa.collate(values[0], "C"), *values[1:]] if text else list(values)
            return sa.case((any_null, sa.null()), else_=(sa.func.least if smallest else sa.func.greatest)(*picked))
        return lets(args, chosen)
    return impl


def _extreme(name: str, smallest: bool) -> FunctionSpec:
    pick = min if smallest else max
    return FunctionSpec(
        name=name, category="math", usage=f"{name}(value, ...)", exactness=INHERIT,
        examples=(f"{name}(amount, 100)", f"{name}(startDate, TODAY())"),
        summary=f"The {'smallest' if smallest else 'largest'} of numbers, texts, dates or datetimes; "
                "null if any is null.",
        signatures=tuple(
            Signature((t,), t, lambda *xs, _pick=pick: _pick(xs), _sql_extreme(smallest), variadic=True)
            for t in ORDERED_TYPES
        ),
    )


# --- MOD, POWER, SQRT --------------------------------------------------------------------
def _py_mod(a: Decimal, b: Decimal) -> Decimal | None:
    return None if b == 0 else a % b


def _sql_mod_number(c: SqlCall) -> Col:
    if not c.sqlite:
        divisor = sa.func.nullif(sa.cast(c.args[1], sa.Numeric()), 0)
        return sa.func.mod(sa.cast(c.args[0], sa.Numeric()), divisor, type_=NUM)
    def remainder(a: Col, b: Col) -> Col:
        quotient = sa.cast(snap(binop(sa.cast(a, sa.Float()), "/", b, sa.Float())), INT)
        return binop(a, "-", binop(b, "*", quotient, sa.Float()), NUM)
    return lets([c.exact(0), c.exact(1)], remainder)


MOD = FunctionSpec(
    name="MOD", category="math", usage="MOD(number, divisor)", exactness=INEXACT,
    examples=("MOD(7, 3)", "MOD(-7, 3)"),
    summary="The remainder of `number` / `divisor`, with the sign of `number`; null when `divisor` is 0.",
    signatures=(
        Signature((T.INTEGER, T.INTEGER), T.INTEGER, v.truncated_remainder, {
            SQLITE: lambda c: binop(c.args[0], "%", c.args[1], INT),
            POSTGRESQL: lambda c: sa.func.mod(c.args[0], sa.func.nullif(c.args[1], 0), type_=INT),
        }),
        Signature((T.NUMBER, T.NUMBER), T.NUMBER, _py_mod, _sql_mod_number),
    ),
)


def _py_power(base: Decimal, exponent: Decimal) -> Decimal | None:
    if base == 0:
        return None if exponent < 0 else Decimal(1) if exponent == 0 else Decimal(0)
    if base < 0 and exponent != exponent.to_integral_value():
        return None
    return base**exponent


def _sql_power(c: SqlCall) -> Col:
    return lets([c.exact(0), c.exact(1)], lambda base, exponent: _sql_power_of(c, base, exponent))


def _sql_power_of(c: SqlCall, base: Col, exponent: Col) -> Col:
    whole = sa.cast(exponent, INT) if c.sqlite else sa.func.trunc(exponent)
    undefined = sa.or_(sa.and_(base == 0, exponent < 0), sa.and_(base < 0, exponent != whole))
    # NOTE: the guard goes inside, on the argument: PostgreSQL may fold a constant branch of CASE
    # at plan time and raise even when the branch would never run.
    safe_base = sa.case((undefined, sa.null()), else_=base)
    if c.sqlite:
        return sa.func.power(safe_base, exponent, type_=NUM)
    return sa.func.power(sa.cast(safe_base, sa.Numeric()), sa.cast(exponent, sa.Numeric()), type_=NUM)


POWER = FunctionSpec(
    name="POWER", category="math", usage="POWER(base, exponent), base ^ exponent", exactness=INEXACT,
    examples=("POWER(1.05, 3)", "2 ^ 10"),
    summary="`base` raised to `exponent`; null when undefined (0 to a negative power, a negative base "
            "to a fractional power).",
    signatures=(Signature((T.NUMBER, T.NUMBER), T.NUMBER, _py_power, _sql_power),),
)


def _sql_sqrt(c: SqlCall) -> Col:
    if c.sqlite:
        return sa.func.sqrt(c.args[0], type_=NUM)  # SQLite's sqrt of a negative number is null

    def root(value: Col) -> Col:
        return sa.func.sqrt(sa.cast(sa.case((value < 0, sa.null()), else_=value), sa.Numeric()), type_=NUM)
    return let(c.args[0], root)


SQRT = FunctionSpec(
    name="SQRT", category="math", usage="SQRT(number)", exactness=INEXACT, examples=("SQRT(16)",),
    summary="The square root; null for negative numbers.",
    signatures=(Signature((T.NUMBER,), T.NUMBER, lambda x: None if x < 0 else x.sqrt(), _sql_sqrt),),
)

SPECS: tuple[FunctionSpec, ...] = (
    ROUND, FLOOR, CEILING, ABS, _extreme("MIN", True), _extreme("MAX", False), MOD, POWER, SQRT,
)
