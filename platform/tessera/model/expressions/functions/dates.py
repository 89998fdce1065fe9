"""Date functions. Weeks start on Monday; WEEKDAY counts 1 = Sunday; a DATETIME's date is taken in UTC."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from tessera.model.expressions import values as v
from tessera.model.expressions.functions import datesql as ds
from tessera.model.expressions.functions.spec import FunctionSpec, Signature
from tessera.model.expressions.sqlkit import SqlCall, binop, let, lets, quoted, retype
from tessera.model.expressions.typed import TCall, TLiteral, Typed
from tessera.model.expressions.types import ExprType
from tessera.storage.types import UTCDateTime

if TYPE_CHECKING:
    from tessera.model.expressions.evaluator import Evaluation

T = ExprType
Col = sa.ColumnElement[Any]
INT = sa.BigInteger()
DATE_OR_DATETIME = (T.DATE, T.DATETIME)
DATEDIFF_UNITS = ("days", "months", "years")


def _as_date(value: date | datetime) -> date:
    return v.utc_date(value) if isinstance(value, datetime) else value


def _date_arg(c: SqlCall, index: int) -> Col:
    return ds.to_date(c.ctx, c.args[index], c.arg_type(index) == T.DATETIME)


def _on_date(py: Callable[[date], Any], sql: Callable[[SqlCall, Col], Col], result: ExprType,
             types: tuple[ExprType, ...] = DATE_OR_DATETIME) -> tuple[Signature, ...]:
    """One signature per accepted type; a DATETIME argument is first turned into its UTC date."""
    return tuple(
        Signature((t,), result, lambda x: py(_as_date(x)), lambda c: sql(c, _date_arg(c, 0))) for t in types
    )


# --- now ---------------------------------------------------------------------------------
def _py_today(ev: Evaluation, node: TCall) -> date:
    return ev.now.astimezone(UTC).date()


def _py_now(ev: Evaluation, node: TCall) -> datetime:
    return ev.now.astimezone(UTC)


TODAY = FunctionSpec(
    name="TODAY", category="date", usage="TODAY()", special=True, volatile=True, examples=("TODAY() - 30",),
    summary="The current date in UTC (volatile: a formula using it changes without its record changing).",
    signatures=(Signature((), T.DATE, _py_today, lambda c: c.ctx.literal(c.ctx.today(), T.DATE)),),
)
NOW = FunctionSpec(
    name="NOW", category="date", usage="NOW()", special=True, volatile=True, examples=("NOW() - createdAt",),
    summary="The current moment (volatile).",
    signatures=(Signature((), T.DATETIME, _py_now, lambda c: c.ctx.literal(c.ctx.now, T.DATETIME)),),
)


# --- building dates ----------------------------------------------------------------------
def _sql_make_date(c: SqlCall, year: Col, month: Col, day: Col) -> Col:
    """A date from parts, null unless it exists (years 1 to 9999)."""
    if c.sqlite:
        # Out-of-range or null parts print as text date() does not accept (or as year 0000).
        text = sa.func.printf(quoted("%04d-%02d-%02d"), year, month, day)

        def checked(t: Col) -> Col:
            exists = sa.and_(sa.func.date(t, quoted("+0 days")) == t, t >= quoted("0001-01-01"))
            return sa.case((exists, retype(t, sa.Date())))
        return retype(let(text, checked), sa.Date())
    return lets([year, month, day], _pg_make_date)


def _pg_make_date(year: Col, month: Col, day: Col) -> Col:
    # NOTE: PostgreSQL's make_date raises on impossible dates, so it only ever sees clamped parts.
    def clamp(x: Col, hi: int) -> Col:
        return sa.cast(sa.case((x < 1, 1), (x > hi, hi), else_=x), sa.Integer())
    in_range = sa.and_(year.between(1, 9999), month.between(1, 12), day.between(1, 31))
    candidate = binop(sa.func.make_date(clamp(year, 9999), clamp(month, 12), 1), "+",
                      binop(clamp(day, 31), "-", 1, sa.Integer()), sa.Date())
    fits = sa.cast(sa.extract("month", candidate), INT) == month
    return sa.case((sa.and_(in_range, fits), candidate))


DATE_FUNCTION = FunctionSpec(
    name="DATE", category="date", usage="DATE(year, month, day)", examples=("DATE(2024, 2, 29)",),
    summary="The date with these parts; null when it does not exist (DATE(2025, 2, 29)).",
    signatures=(Signature((T.INTEGER, T.INTEGER, T.INTEGER), T.DATE, v.make_date,
                          lambda c: _sql_make_date(c, *c.args)),),
)


def _sql_datevalue_text(c: SqlCall) -> Col:
    return retype(let(c.args[0], lambda s: _date_from_text(c, s)), sa.Date())


def _date_from_text(c: SqlCall, s: Col) -> Col:
    if c.sqlite:
        shaped = s.op("GLOB", is_comparison=True)(quoted("[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"))
        exists = sa.func.date(s, quoted("+0 days")) == s
        return sa.case((sa.and_(shaped, exists, s >= quoted("0001-01-01")), retype(s, sa.Date())))
    shaped = sa.case((s.op("~", is_comparison=True)(quoted("^[0-9]{4}-[0-9]{2}-[0-9]{2}$")), s))

    def from_parts(g: Col) -> Col:
        year, month, day = (sa.cast(sa.func.substr(g, a, b), INT) for a, b in ((1, 4), (6, 2), (9, 2)))
        return _sql_make_date(c, year, month, day)
    return let(shaped, from_parts)


DATEVALUE = FunctionSpec(
    name="DATEVALUE", category="date", usage="DATEVALUE(value)",
    examples=('DATEVALUE("2024-02-29")', "DATEVALUE(createdAt)"),
    summary="A date from `YYYY-MM-DD` text (null if malformed or impossible), or a datetime's UTC date.",
    signatures=(
        Signature((T.DATE,), T.DATE, lambda d: d, lambda c: c.args[0]),
        Signature((T.DATETIME,), T.DATE, v.utc_date, lambda c: _date_arg(c, 0)),
        Signature((T.TEXT,), T.DATE, v.parse_date, _sql_datevalue_text),
    ),
)


def _sql_datetimevalue_text(c: SqlCall) -> Col:
    return retype(let(c.args[0], lambda s: _datetime_from_text(c, s)), UTCDateTime())


def _datetime_from_text(c: SqlCall, s: Col) -> Col:
    day = _sql_datevalue_text(SqlCall(c.ctx, c.node, [sa.func.substr(s, 1, 10)]))
    if c.sqlite:
        clock = sa.func.substr(s, 12, 8)
        shaped = sa.and_(
            sa.func.length(s).between(19, 20),
            sa.func.substr(s, 11, 1).in_([quoted(" "), quoted("T")]),
            clock.op("GLOB", is_comparison=True)(quoted("[0-2][0-9]:[0-5][0-9]:[0-5][0-9]")),
            clock < quoted("24"),
            sa.or_(sa.func.length(s) == 19, sa.func.substr(s, 20, 1) == quoted("Z")),
        )
        text = binop(binop(binop(day, "||", quoted(" "), sa.Text()), "||", clock, sa.Text()), "||",
                     quoted(".000000"), sa.Text())
        return sa.case((shaped, retype(text, UTCDateTime())))
    pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z?$"
    clock = sa.case((s.op("~", is_comparison=True)(quoted(pattern)), sa.func.substr(s, 12, 8)))
    wall = binop(day, "+", sa.cast(clock, sa.Time()), sa.DateTime())
    return ds.from_utc_wall(wall)


DATETIMEVALUE = FunctionSpec(
    name="DATETIMEVALUE", category="date", usage="DATETIMEVALUE(value)",
    examples=('DATETIMEVALUE("2026-01-31 17:30:00")', "DATETIMEVALUE(closeDate)"),
    summary="A datetime from `YYYY-MM-DD HH:MM:SS` text (`T` may separate, `Z` may end; read as UTC), "
            "or midnight UTC of a date.",
    signatures=(
        Signature((T.DATETIME,), T.DATETIME, lambda d: d, lambda c: c.args[0]),
        Signature((T.DATE,), T.DATETIME, lambda d: datetime(d.year, d.month, d.day, tzinfo=UTC),
                  lambda c: ds.date_to_datetime(c.ctx, c.args[0])),
        Signature((T.TEXT,), T.DATETIME, v.parse_datetime, _sql_datetimevalue_text),
    ),
)


# --- parts -------------------------------------------------------------------------------
def _part(name: str, unit: str, types: tuple[ExprType, ...] = DATE_OR_DATETIME) -> FunctionSpec:
    return FunctionSpec(
        name=name, category="date", usage=f"{name}({'datetime' if types == (T.DATETIME,) else 'date'})",
        examples=(f"{name}({'createdAt' if types == (T.DATETIME,) else 'closeDate'})",),
        summary=f"The {unit} of a {'datetime' if types == (T.DATETIME,) else 'date or datetime'} (UTC), "
                "as an INTEGER.",
        signatures=tuple(
            Signature((t,), T.INTEGER, lambda x, _u=unit: getattr(x.astimezone(UTC) if isinstance(x, datetime) else x, _u),
                      lambda c, _u=unit: ds.part(c.ctx, c.args[0], _u, c.arg_type(0) == T.DATETIME))
            for t in types
        ),
    )


WEEKDAY = FunctionSpec(
    name="WEEKDAY", category="date", usage="WEEKDAY(date)", examples=("WEEKDAY(closeDate)",),
    summary="The day of the week: 1 = Sunday, 2 = Monday ... 7 = Saturday.",
    signatures=_on_date(v.weekday, lambda c, d: ds.weekday(c.ctx, d), T.INTEGER),
)


# --- moving dates ------------------------------------------------------------------------
def _py_shift_datetime(move: Callable[[date, int], date | None]) -> Callable[[datetime, int], datetime | None]:
    def shift(value: datetime, amount: int) -> datetime | None:
        utc = value.astimezone(UTC)
        moved = move(utc.date(), amount)
        return None if moved is None else datetime.combine(moved, utc.timetz())
    return shift


ADDDAYS = FunctionSpec(
    name="ADDDAYS", category="date", usage="ADDDAYS(date, days)", examples=("ADDDAYS(closeDate, 30)",),
    summary="The date (or datetime) `days` days later; negative goes back. Same as `date + days`.",
    signatures=(
        Signature((T.DATE, T.INTEGER), T.DATE, v.add_days, lambda c: ds.add_days(c.ctx, *c.args)),
        Signature((T.DATETIME, T.INTEGER), T.DATETIME, _py_shift_datetime(v.add_days),
                  lambda c: ds.add_days_datetime(c.ctx, *c.args)),
    ),
)
ADDMONTHS = FunctionSpec(
    name="ADDMONTHS", category="date", usage="ADDMONTHS(date, months)", examples=("ADDMONTHS(#2024-01-31#, 1)",),
    summary="The date (or datetime) `months` calendar months later, clamped to the month's last day "
            "(Jan 31 + 1 month = Feb 29 in 2024).",
    signatures=(
        Signature((T.DATE, T.INTEGER), T.DATE, v.add_months, lambda c: ds.add_months(c.ctx, *c.args)),
        Signature((T.DATETIME, T.INTEGER), T.DATETIME, _py_shift_datetime(v.add_months),
                  lambda c: ds.add_months_datetime(c.ctx, *c.args)),
    ),
)


def _py_datediff(unit: str, start: date | datetime, end: date | datetime) -> int:
    first, last = _as_date(start), _as_date(end)
    if unit == "days":
        return (last - first).days
    months = v.complete_months(first, last)
    return months if unit == "months" else v.truncated_division(months, 12)


def _sql_datediff(c: SqlCall) -> Col:
    unit = c.literal_value(0)
    start, end = _date_arg(c, 1), _date_arg(c, 2)
    if unit == "days":
        return ds.days_between(c.ctx, start, end)
    months = ds.complete_months(c.ctx, start, end)
    # Integer division truncates toward zero on both databases, like the Python rule.
    return months if unit == "months" else binop(months, "/", 12, INT)


def _check_unit(args: Sequence[Typed]) -> tuple[int, str] | None:
    unit = args[0]
    if isinstance(unit, TLiteral) and unit.value not in DATEDIFF_UNITS:
        return 0, f"DATEDIFF's unit must be one of {', '.join(repr(u) for u in DATEDIFF_UNITS)}"
    return None


DATEDIFF = FunctionSpec(
    name="DATEDIFF", category="date", usage='DATEDIFF("days"|"months"|"years", start, end)',
    literal_args=(0,), validate=_check_unit,
    examples=('DATEDIFF("days", createdAt, TODAY())', 'DATEDIFF("months", #2024-01-31#, #2024-02-29#)'),
    summary="Whole days, months or years from `start` to `end` (negative when `end` is earlier). "
            "Months count like ADDMONTHS: Jan 31 → Feb 29 is one month. Datetimes count by UTC date.",
    signatures=tuple(
        Signature((T.TEXT, a, b), T.INTEGER, _py_datediff, _sql_datediff)
        for a in DATE_OR_DATETIME for b in DATE_OR_DATETIME
    ),
)


def _start_of(name: str, unit: str, py: Callable[[date], date]) -> FunctionSpec:
    label = "Monday of the week" if unit == "week" else f"first day of the {unit}"
    return FunctionSpec(
        name=name, category="date", usage=f"{name}(date)", examples=(f"{name}(closeDate)",),
        summary=f"The {label} holding the date (a DATE).",
        signatures=_on_date(py, lambda c, d, _u=unit: ds.start_of(c.ctx, _u, d), T.DATE),
    )


ENDOFMONTH = FunctionSpec(
    name="ENDOFMONTH", category="date", usage="ENDOFMONTH(date)", examples=("ENDOFMONTH(#2024-02-10#)",),
    summary="The last day of the date's month (a DATE).",
    signatures=_on_date(v.end_of_month, lambda c, d: ds.end_of_month(c.ctx, d), T.DATE),
)

SPECS: tuple[FunctionSpec, ...] = (
    TODAY, NOW, DATE_FUNCTION, DATEVALUE, DATETIMEVALUE,
    _part("YEAR", "year"), _part("MONTH", "month"), _part("DAY", "day"),
    _part("HOUR", "hour", (T.DATETIME,)), _part("MINUTE", "minute", (T.DATETIME,)),
    WEEKDAY, ADDDAYS, ADDMONTHS, DATEDIFF,
    _start_of("STARTOFWEEK", "week", v.start_of_week), _start_of("STARTOFMONTH", "month", v.start_of_month),
    _start_of("STARTOFQUARTER", "quarter", v.start_of_quarter), _start_of("STARTOFYEAR", "year", v.start_of_year),
    ENDOFMONTH,
)
