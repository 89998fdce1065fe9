"""Text functions. Positions are 1-based; case mapping is ASCII-only; TRIM removes spaces only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from tessera.model.expressions import values as v
from tessera.model.expressions.functions.spec import FunctionSpec, Signature
from tessera.model.expressions.sqlkit import POSTGRESQL, SQLITE, SqlCall, binop, let, quoted, raw, retype
from tessera.model.expressions.types import ExprType

T = ExprType
Col = sa.ColumnElement[Any]
INT = sa.BigInteger()
TEXT = sa.Text()
PG_MAX_LENGTH = 1_000_000_000


def _text(impl: Callable[[SqlCall], Col]) -> Callable[[SqlCall], Col]:
    return lambda c: retype(impl(c), TEXT)


def _pg_clamp(n: Col, low: int) -> Col:
    """PostgreSQL's substr/left/right take int4 and refuse negatives; keep null as null."""
    return let(n, lambda v: sa.cast(sa.case((v < low, low), (v > PG_MAX_LENGTH, PG_MAX_LENGTH), else_=v),
                                    sa.Integer()))


# --- LEN, LEFT, RIGHT, MID ---------------------------------------------------------------
def _py_left(s: str, n: int) -> str:
    return s[: max(n, 0)]


def _py_right(s: str, n: int) -> str:
    return s[max(len(s) - n, 0):] if n > 0 else ""


def _py_mid(s: str, start: int, length: int) -> str:
    begin = max(start, 1) - 1
    return s[begin: begin + max(length, 0)]


LEN = FunctionSpec(
    name="LEN", category="text", usage="LEN(text)", examples=('LEN("abc")',),
    summary="The number of characters.",
    signatures=(Signature((T.TEXT,), T.INTEGER, len, lambda c: sa.func.length(c.args[0], type_=INT)),),
)
LEFT = FunctionSpec(
    name="LEFT", category="text", usage="LEFT(text, count)", examples=('LEFT("Hello", 2)',),
    summary="The first `count` characters (none when `count` < 1).",
    signatures=(Signature((T.TEXT, T.INTEGER), T.TEXT, _py_left, {
        SQLITE: _text(lambda c: sa.func.substr(c.args[0], 1, sa.func.max(c.args[1], 0))),
        POSTGRESQL: _text(lambda c: sa.func.left(c.args[0], _pg_clamp(c.args[1], 0))),
    }),),
)


def _sqlite_right(c: SqlCall) -> Col:
    def right(s: Col) -> Col:
        start = binop(binop(sa.func.length(s), "-", c.args[1], INT), "+", 1, INT)
        return sa.func.substr(s, sa.func.max(start, 1))
    return let(c.args[0], right)


RIGHT = FunctionSpec(
    name="RIGHT", category="text", usage="RIGHT(text, count)", examples=('RIGHT("Hello", 3)',),
    summary="The last `count` characters (none when `count` < 1).",
    signatures=(Signature((T.TEXT, T.INTEGER), T.TEXT, _py_right, {
        SQLITE: _text(_sqlite_right),
        POSTGRESQL: _text(lambda c: sa.func.right(c.args[0], _pg_clamp(c.args[1], 0))),
    }),),
)
MID = FunctionSpec(
    name="MID", category="text", usage="MID(text, start, count)", examples=('MID("Hello", 2, 3)',),
    summary="`count` characters from position `start` (1 = first; a start below 1 counts as 1).",
    signatures=(Signature((T.TEXT, T.INTEGER, T.INTEGER), T.TEXT, _py_mid, {
        SQLITE: _text(lambda c: sa.func.substr(c.args[0], sa.func.max(c.args[1], 1), sa.func.max(c.args[2], 0))),
        POSTGRESQL: _text(lambda c: sa.func.substr(c.args[0], _pg_clamp(c.args[1], 1), _pg_clamp(c.args[2], 0))),
    }),),
)

# --- case and spaces ---------------------------------------------------------------------
UPPER = FunctionSpec(
    name="UPPER", category="text", usage="UPPER(text)", examples=('UPPER("abc")',),
    summary="Letters a-z in upper case (ASCII only: other characters are kept, on every database).",
    signatures=(Signature((T.TEXT,), T.TEXT, v.ascii_upper, {
        SQLITE: _text(lambda c: sa.func.upper(c.args[0])),
        POSTGRESQL: _text(lambda c: sa.func.upper(sa.collate(c.args[0], "C"))),
    }),),
)
LOWER = FunctionSpec(
    name="LOWER", category="text", usage="LOWER(text)", examples=('LOWER("ABC")',),
    summary="Letters A-Z in lower case (ASCII only: other characters are kept, on every database).",
    signatures=(Signature((T.TEXT,), T.TEXT, v.ascii_lower, {
        SQLITE: _text(lambda c: sa.func.lower(c.args[0])),
        POSTGRESQL: _text(lambda c: sa.func.lower(sa.collate(c.args[0], "C"))),
    }),),
)
TRIM = FunctionSpec(
    name="TRIM", category="text", usage="TRIM(text)", examples=('TRIM("  a b  ")',),
    summary="The text without leading and trailing spaces (tabs and newlines are kept).",
    signatures=(Signature((T.TEXT,), T.TEXT, lambda s: s.strip(" "), {
        SQLITE: _text(lambda c: sa.func.trim(c.args[0])),
        POSTGRESQL: _text(lambda c: sa.func.btrim(c.args[0])),
    }),),
)

# --- searching ---------------------------------------------------------------------------
CONTAINS = FunctionSpec(
    name="CONTAINS", category="text", usage="CONTAINS(text, part)", examples=('CONTAINS(name, "Inc")',),
    summary="TRUE when `part` occurs in `text` (case-sensitive; empty `part` always occurs).",
    signatures=(Signature((T.TEXT, T.TEXT), T.BOOLEAN, lambda s, p: p in s, {
        SQLITE: lambda c: sa.func.instr(c.args[0], c.args[1], type_=INT) > 0,
        POSTGRESQL: lambda c: sa.func.strpos(c.args[0], c.args[1], type_=INT) > 0,
    }),),
)
BEGINS = FunctionSpec(
    name="BEGINS", category="text", usage="BEGINS(text, prefix)", examples=('BEGINS(code, "EU-")',),
    summary="TRUE when `text` starts with `prefix` (case-sensitive).",
    signatures=(Signature((T.TEXT, T.TEXT), T.BOOLEAN, lambda s, p: s.startswith(p), {
        SQLITE: lambda c: sa.func.substr(c.args[0], 1, sa.func.length(c.args[1])) == c.args[1],
        POSTGRESQL: lambda c: sa.func.starts_with(c.args[0], c.args[1], type_=sa.Boolean()),
    }),),
)
FIND = FunctionSpec(
    name="FIND", category="text", usage="FIND(part, text)", examples=('FIND("-", "AB-12")',),
    summary="The position (1-based) of the first `part` in `text`, 0 when absent.",
    signatures=(Signature((T.TEXT, T.TEXT), T.INTEGER, lambda p, s: s.find(p) + 1, {
        SQLITE: lambda c: sa.func.instr(c.args[1], c.args[0], type_=INT),
        POSTGRESQL: lambda c: sa.func.strpos(c.args[1], c.args[0], type_=INT),
    }),),
)
SUBSTITUTE = FunctionSpec(
    name="SUBSTITUTE", category="text", usage="SUBSTITUTE(text, old, new)",
    examples=('SUBSTITUTE(phone, " ", "")',),
    summary="`text` with every `old` replaced by `new` (an empty `old` changes nothing).",
    signatures=(Signature(
        (T.TEXT, T.TEXT, T.TEXT), T.TEXT, lambda s, old, new: s if old == "" else s.replace(old, new),
        _text(lambda c: sa.func.replace(*c.args)),
    ),),
)


# --- TEXT and VALUE ----------------------------------------------------------------------
def _sql_number_text(c: SqlCall) -> Col:
    if c.sqlite:
        def formatted(value: Col) -> Col:
            # NOTE: SQLite's printf('%.10f') invents digits past the 16th significant one, so the
            # places shrink as the whole part grows (a double holds 15 significant digits anyway).
            whole_digits = sa.func.length(sa.cast(sa.cast(sa.func.abs(value), INT), TEXT))
            places = sa.func.max(1, sa.func.min(v.TEXT_PLACES, binop(15, "-", whole_digits, INT)))
            fixed = sa.func.printf(quoted("%.*f"), places, value)
            trimmed = sa.func.rtrim(sa.func.rtrim(fixed, quoted("0")), quoted("."))
            no_minus_zero = sa.func.coalesce(sa.func.nullif(trimmed, quoted("-0")), quoted("0"))
            return sa.case((value.is_(None), sa.null()), else_=no_minus_zero)
        return let(c.exact(0), formatted)
    fixed = sa.cast(sa.func.round(sa.cast(c.args[0], sa.Numeric()), v.TEXT_PLACES), TEXT)
    return sa.func.rtrim(sa.func.rtrim(fixed, quoted("0")), quoted("."))


def _sql_boolean_text(c: SqlCall) -> Col:
    if c.sqlite:
        return let(c.args[0], lambda b: sa.case((b == 1, quoted("true")), (b == 0, quoted("false"))))
    return sa.cast(c.args[0], TEXT)


def _sql_date_text(c: SqlCall) -> Col:
    if c.sqlite:
        return retype(c.args[0], TEXT)
    return sa.func.to_char(c.args[0], quoted("YYYY-MM-DD"))


def _sql_datetime_text(c: SqlCall) -> Col:
    if c.sqlite:
        return binop(sa.func.substr(c.args[0], 1, 19), "||", quoted("Z"), TEXT)
    wall = sa.func.timezone(raw("'UTC'"), c.args[0])
    return binop(sa.func.to_char(wall, quoted("YYYY-MM-DD HH24:MI:SS")), "||", quoted("Z"), TEXT)


TEXT_FUNCTION = FunctionSpec(
    name="TEXT", category="text", usage="TEXT(value)", examples=("TEXT(amount)", "TEXT(closeDate)"),
    summary="A value as text: numbers in plain notation rounded to 10 places without trailing zeros "
            "(`1.50` → `1.5`), dates `YYYY-MM-DD`, datetimes `YYYY-MM-DD HH:MM:SSZ` (UTC), "
            "booleans `true`/`false`.",
    signatures=(
        Signature((T.TEXT,), T.TEXT, lambda s: s, lambda c: retype(c.args[0], TEXT)),
        Signature((T.INTEGER,), T.TEXT, str, lambda c: sa.cast(c.args[0], TEXT)),
        Signature((T.NUMBER,), T.TEXT, v.number_text, _sql_number_text),
        Signature((T.BOOLEAN,), T.TEXT, lambda b: "true" if b else "false", _sql_boolean_text),
        Signature((T.DATE,), T.TEXT, v.date_text, _sql_date_text),
        Signature((T.DATETIME,), T.TEXT, v.datetime_text, _sql_datetime_text),
    ),
)


def _sql_value(c: SqlCall) -> Col:
    return let(c.args[0], lambda s: _sql_value_of(c, s))


def _sql_value_of(c: SqlCall, s: Col) -> Col:
    if not c.sqlite:
        valid = s.op("~", is_comparison=True)(quoted(r"^-?[0-9]+(\.[0-9]+)?$"))
        return sa.cast(sa.case((valid, s)), sa.Numeric())

    def glob(value: Any, pattern: str) -> Col:
        return value.op("GLOB", is_comparison=True)(quoted(pattern))

    valid = sa.and_(
        sa.or_(glob(s, "[0-9]*"), glob(s, "-[0-9]*")),
        sa.not_(glob(sa.func.substr(s, 2), "*[^0-9.]*")),
        sa.not_(glob(s, "*.")),
        sa.not_(glob(s, "*.*.*")),
    )
    return sa.case((valid, sa.cast(s, sa.Float())))


VALUE = FunctionSpec(
    name="VALUE", category="text", usage="VALUE(text)", examples=('VALUE("-12.50")',),
    summary="The number a text spells: optional `-`, digits, optional `.` and digits; anything else "
            "(spaces, `+`, exponents, thousands separators) gives null.",
    signatures=(Signature((T.TEXT,), T.NUMBER, v.parse_number, _sql_value),),
)

SPECS: tuple[FunctionSpec, ...] = (
    LEN, LEFT, RIGHT, MID, UPPER, LOWER, TRIM, CONTAINS, BEGINS, FIND, SUBSTITUTE, TEXT_FUNCTION, VALUE,
)
