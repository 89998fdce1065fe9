"""Calendar arithmetic in SQL, one helper per rule, for SQLite (text dates) and PostgreSQL.

SQLite holds DATE as ``YYYY-MM-DD`` and DATETIME as ``YYYY-MM-DD HH:MM:SS.ffffff`` (UTC); every helper
returns that same canonical form, so comparisons stay plain text comparisons. PostgreSQL converts a
``timestamptz`` through UTC explicitly, so the session time zone never matters.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tessera.model.expressions.sqlkit import SqlContext, binop, let, lets, quoted, raw, retype
from tessera.storage.types import UTCDateTime

Col = sa.ColumnElement[Any]
INT = sa.BigInteger()
TEXT = sa.Text()


def _int(expr: Any) -> Col:
    return sa.cast(expr, sa.Integer())


def _cat(*parts: Any) -> Col:
    out = parts[0]
    for part in parts[1:]:
        out = binop(out, "||", part, TEXT)
    return out


def utc_wall(ts: Col) -> Col:
    """PostgreSQL: a timestamptz as the UTC wall-clock timestamp."""
    return sa.func.timezone(raw("'UTC'"), ts, type_=sa.DateTime())


def from_utc_wall(ts: Col) -> Col:
    return sa.func.timezone(raw("'UTC'"), ts, type_=UTCDateTime())


def to_date(ctx: SqlContext, value: Col, is_datetime: bool) -> Col:
    """A DATE, or the UTC calendar date of a DATETIME."""
    if not is_datetime:
        return value
    if ctx.sqlite:
        return sa.func.substr(value, 1, 10, type_=sa.Date())
    return sa.cast(utc_wall(value), sa.Date())


def part(ctx: SqlContext, value: Col, unit: str, is_datetime: bool) -> Col:
    """year, month, day, hour or minute as an integer (UTC for datetimes)."""
    if ctx.sqlite:
        start, length = {"year": (1, 4), "month": (6, 2), "day": (9, 2), "hour": (12, 2), "minute": (15, 2)}[unit]
        return sa.cast(sa.func.substr(value, start, length), INT)
    source = utc_wall(value) if is_datetime else value
    return sa.cast(sa.extract(unit, source), INT)


def add_days(ctx: SqlContext, day: Col, days: Col) -> Col:
    if ctx.sqlite:
        return sa.func.date(day, _cat(days, quoted(" days")), type_=sa.Date())
    return binop(day, "+", _int(days), sa.Date())


def add_days_datetime(ctx: SqlContext, ts: Col, days: Col) -> Col:
    if ctx.sqlite:
        # NOTE: date() of the whole text would round .999999 seconds up into the next day.
        def moved(t: Col) -> Col:
            return _cat(add_days(ctx, sa.func.substr(t, 1, 10), days), sa.func.substr(t, 11))
        return retype(let(ts, moved), UTCDateTime())
    interval = sa.func.make_interval(0, 0, 0, _int(days))
    return from_utc_wall(binop(utc_wall(ts), "+", interval, sa.DateTime()))


def add_months(ctx: SqlContext, day: Col, months: Col) -> Col:
    """Clamped to the month's end, like ``values.add_months``."""
    if not ctx.sqlite:
        interval = sa.func.make_interval(0, _int(months))
        return sa.cast(binop(day, "+", interval, sa.DateTime()), sa.Date())
    def from_day(d: Col) -> Col:
        start = sa.func.date(d, quoted("start of month"), _cat(months, quoted(" months")))
        wanted = sa.cast(sa.func.substr(d, 9, 2), INT)

        def clamped(s: Col) -> Col:
            last = sa.cast(sa.func.strftime(quoted("%d"), s, quoted("+1 month"), quoted("-1 day")), INT)
            offset = binop(sa.func.min(wanted, last), "-", 1, INT)
            return sa.func.date(s, _cat(offset, quoted(" days")), type_=sa.Date())
        return let(start, clamped)
    return retype(let(day, from_day), sa.Date())


def add_months_datetime(ctx: SqlContext, ts: Col, months: Col) -> Col:
    if ctx.sqlite:
        def moved(t: Col) -> Col:
            return _cat(add_months(ctx, sa.func.substr(t, 1, 10), months), sa.func.substr(t, 11))
        return retype(let(ts, moved), UTCDateTime())
    interval = sa.func.make_interval(0, _int(months))
    return from_utc_wall(binop(utc_wall(ts), "+", interval, sa.DateTime()))


def days_between(ctx: SqlContext, start: Col, end: Col) -> Col:
    if ctx.sqlite:
        return sa.cast(binop(sa.func.julianday(end), "-", sa.func.julianday(start), sa.Float()), INT)
    return binop(end, "-", start, INT)


def last_day(ctx: SqlContext, day: Col) -> Col:
    """The day number of the last day of ``day``'s month."""
    if ctx.sqlite:
        return sa.cast(
            sa.func.strftime(quoted("%d"), day, quoted("start of month"), quoted("+1 month"), quoted("-1 day")), INT
        )
    return sa.cast(sa.extract("day", end_of_month(ctx, day)), INT)


def complete_months(ctx: SqlContext, start: Col, end: Col) -> Col:
    """Whole months from start to end, as ``values.complete_months``."""
    def between(s: Col, e: Col) -> Col:
        y1, m1, d1 = (part(ctx, s, u, False) for u in ("year", "month", "day"))
        y2, m2 = (part(ctx, e, u, False) for u in ("year", "month"))
        raw_months = binop(binop(binop(y2, "*", 12, INT), "+", m2, INT), "-",
                           binop(binop(y1, "*", 12, INT), "+", m1, INT), INT)
        last = last_day(ctx, e)
        landed = sa.func.min(d1, last) if ctx.sqlite else sa.func.least(d1, last)
        return lets([raw_months, landed, part(ctx, e, "day", False)], _adjusted)
    return retype(lets([start, end], between), INT)


def _adjusted(raw_months: Col, landed: Col, end_day: Col) -> Col:
    return sa.case(
        (sa.and_(raw_months > 0, landed > end_day), raw_months - 1),
        (sa.and_(raw_months < 0, landed < end_day), raw_months + 1),
        else_=raw_months,
    )


def _trunc(unit: str, day: Col) -> Col:
    return sa.cast(sa.func.date_trunc(raw(f"'{unit}'"), sa.cast(day, sa.DateTime())), sa.Date())


def start_of(ctx: SqlContext, unit: str, day: Col) -> Col:
    """The first day of the week (Monday), month, quarter or year holding ``day``."""
    if not ctx.sqlite:
        return _trunc(unit, day)
    if unit == "month":
        return sa.func.date(day, quoted("start of month"), type_=sa.Date())
    if unit == "year":
        return sa.func.date(day, quoted("start of year"), type_=sa.Date())
    if unit == "week":
        def monday(d: Col) -> Col:
            weekday = sa.cast(sa.func.strftime(quoted("%w"), d), INT)
            back = binop(binop(weekday, "+", 6, INT), "%", 7, INT)
            return sa.func.date(d, _cat(quoted("-"), back, quoted(" days")), type_=sa.Date())
        return retype(let(day, monday), sa.Date())

    def quarter(d: Col) -> Col:
        month = sa.cast(sa.func.substr(d, 6, 2), INT)
        back = binop(binop(month, "-", 1, INT), "%", 3, INT)
        return sa.func.date(d, quoted("start of month"), _cat(quoted("-"), back, quoted(" months")), type_=sa.Date())
    return retype(let(day, quarter), sa.Date())


def end_of_month(ctx: SqlContext, day: Col) -> Col:
    if ctx.sqlite:
        return sa.func.date(day, quoted("start of month"), quoted("+1 month"), quoted("-1 day"), type_=sa.Date())
    month_start = sa.func.date_trunc(raw("'month'"), sa.cast(day, sa.DateTime()))
    return sa.cast(binop(month_start, "+", raw("INTERVAL '1 month - 1 day'"), sa.DateTime()), sa.Date())


def weekday(ctx: SqlContext, day: Col) -> Col:
    """1 = Sunday ... 7 = Saturday."""
    if ctx.sqlite:
        return binop(sa.cast(sa.func.strftime(quoted("%w"), day), INT), "+", 1, INT)
    return binop(sa.cast(sa.extract("dow", day), INT), "+", 1, INT)


def date_to_datetime(ctx: SqlContext, day: Col) -> Col:
    """Midnight UTC of a date."""
    if ctx.sqlite:
        return retype(_cat(day, quoted(" 00:00:00.000000")), UTCDateTime())
    return from_utc_wall(sa.cast(day, sa.DateTime()))
