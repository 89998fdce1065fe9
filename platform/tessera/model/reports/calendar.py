"""Dates for reports: buckets (day … fiscal year) in the tenant's time zone, and relative ranges.

Bucket keys are text, rendered identically by both databases and sorting chronologically: day
``2026-03-05``, ISO week ``2026-W09``, month ``2026-03``, quarter ``2026-Q1``, year ``2026``,
fiscal quarter ``FY2026-Q1`` and fiscal year ``FY2026``. A fiscal year starting in month ``s > 1``
is named after the calendar year it ends in (April 2025 – March 2026 is ``FY2026``).

DATE fields are calendar dates and are bucketed as they are. DATETIME fields are instants stored in
UTC and are bucketed by their wall-clock date in the tenant's zone:

- PostgreSQL: ``timezone(zone, ts)`` — the server's tz database, DST included.
- SQLite has no time zone functions. Adding a fixed offset is wrong for half the year in any zone
  with daylight saving time, and a SQL table of transitions would cost a range lookup per row. So
  each connection gets ``tessera_local_time(text, zone)``, a deterministic Python function using
  ``zoneinfo`` (the same tz database rules), memoised per (UTC minute, zone): offsets only change on
  whole minutes, so a report over a million rows converts each distinct minute once. For tenants in
  UTC the function is not used at all. ``register_sqlite_functions`` installs it; the report service
  calls it on the connection before running a report.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from tessera.core.errors import ValidationError

Col = sa.ColumnElement[Any]
LOCAL_TIME_FUNCTION = "tessera_local_time"


def check_zone(name: str, where: str = "timezone") -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(f"{where}: unknown time zone '{name}'", field=where) from None


@lru_cache(maxsize=200_000)
def _local_minute(minute: str, zone: str) -> str:
    instant = datetime.fromisoformat(minute).replace(tzinfo=UTC)
    return instant.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def local_time(value: str | None, zone: str) -> str | None:
    """SQLite: a stored UTC datetime text as wall-clock text (to the minute) in ``zone``."""
    if value is None:
        return None
    return _local_minute(value[:16], zone)


def register_sqlite_functions(dbapi_connection: Any) -> None:
    dbapi_connection.create_function(LOCAL_TIME_FUNCTION, 2, local_time, deterministic=True)


def _text(value: Col) -> Col:
    return sa.cast(value, sa.String())


def _cat(*parts: Col | str) -> Col:
    items = [sa.literal(p, sa.String()) if isinstance(p, str) else p for p in parts]
    out = items[0]
    for item in items[1:]:
        out = out.op("||")(item)
    return sa.type_coerce(out, sa.String())


def bucket_sql(value: Col, bucket: str, *, dialect: str, is_datetime: bool, zone: str, fiscal_start: int) -> Col:
    """The bucket key of a DATE or DATETIME value as text (see the module docstring)."""
    if dialect == "sqlite":
        local = sa.func.substr(value, 1, 16) if zone == "UTC" or not is_datetime else (
            getattr(sa.func, LOCAL_TIME_FUNCTION)(value, zone))
        return _sqlite_bucket(local if is_datetime else value, bucket, fiscal_start)
    local = sa.func.timezone(zone, value, type_=sa.DateTime()) if is_datetime else value
    return _pg_bucket(local, bucket, fiscal_start)


def _sqlite_bucket(v: Col, bucket: str, fiscal_start: int) -> Col:
    year = sa.cast(sa.func.substr(v, 1, 4), sa.Integer())
    month = sa.cast(sa.func.substr(v, 6, 2), sa.Integer())
    if bucket == "DAY":
        return sa.func.substr(v, 1, 10, type_=sa.String())
    if bucket == "MONTH":
        return sa.func.substr(v, 1, 7, type_=sa.String())
    if bucket == "YEAR":
        return sa.func.substr(v, 1, 4, type_=sa.String())
    if bucket == "QUARTER":
        return _cat(sa.func.substr(v, 1, 4), "-Q", _text((month + 2) // 3))
    if bucket == "WEEK":
        day = sa.func.substr(v, 1, 10)
        weekday = (sa.cast(sa.func.strftime("%w", day), sa.Integer()) + 6) % 7  # Monday = 0
        thursday = sa.func.date(day, _cat("-", _text(weekday), " days"), "+3 days")
        week = (sa.cast(sa.func.strftime("%j", thursday), sa.Integer()) - 1) // 7 + 1
        return _cat(sa.func.substr(thursday, 1, 4), "-W", sa.func.printf("%02d", week))
    return _fiscal(year, month, bucket, fiscal_start)


def _pg_bucket(v: Col, bucket: str, fiscal_start: int) -> Col:
    formats = {"DAY": "YYYY-MM-DD", "MONTH": "YYYY-MM", "YEAR": "YYYY", "QUARTER": 'YYYY-"Q"Q',
               "WEEK": 'IYYY-"W"IW'}
    if bucket in formats:
        return sa.func.to_char(v, formats[bucket], type_=sa.String())
    year = sa.cast(sa.extract("year", v), sa.Integer())
    month = sa.cast(sa.extract("month", v), sa.Integer())
    return _fiscal(year, month, bucket, fiscal_start)


def _fiscal(year: Col, month: Col, bucket: str, start: int) -> Col:
    fiscal_year = year if start == 1 else year + sa.case((month >= start, 1), else_=0)
    label = _cat("FY", _text(fiscal_year))
    if bucket == "FISCAL_YEAR":
        return label
    quarter = ((month - start + 12) % 12) // 3 + 1
    return _cat(label, "-Q", _text(quarter))


# --- relative ranges ------------------------------------------------------------------------------
def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _shift_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def _period(today: date, unit: str, offset: int, fiscal_start: int) -> tuple[date, date]:
    if unit == "DAY":
        start = today + timedelta(days=offset)
        return start, start + timedelta(days=1)
    if unit == "WEEK":
        start = today - timedelta(days=today.weekday()) + timedelta(weeks=offset)
        return start, start + timedelta(weeks=1)
    first = today.replace(day=1)
    if unit == "MONTH":
        return _add_months(first, offset), _add_months(first, offset + 1)
    if unit == "QUARTER":
        start = _add_months(first, -((today.month - 1) % 3) + 3 * offset)
        return start, _add_months(start, 3)
    if unit == "YEAR":
        start = date(today.year + offset, 1, 1)
        return start, date(today.year + offset + 1, 1, 1)
    since = (today.month - fiscal_start) % 12
    if unit == "FISCAL_QUARTER":
        start = _add_months(first, -(since % 3) + 3 * offset)
        return start, _add_months(start, 3)
    start = _add_months(first, -since + 12 * offset)  # FISCAL_YEAR
    return start, _add_months(start, 12)


_UNITS = {"DAY": "DAY", "WEEK": "WEEK", "MONTH": "MONTH", "QUARTER": "QUARTER", "YEAR": "YEAR",
          "FISCAL_QUARTER": "FISCAL_QUARTER", "FISCAL_YEAR": "FISCAL_YEAR"}
_NAMED = {"TODAY": ("DAY", 0), "YESTERDAY": ("DAY", -1), "TOMORROW": ("DAY", 1)}
RANGE_NAMES = ["TODAY", "YESTERDAY", "TOMORROW", "THIS_WEEK", "LAST_WEEK", "NEXT_WEEK", "THIS_MONTH", "LAST_MONTH", "NEXT_MONTH", "THIS_QUARTER", "LAST_QUARTER", "NEXT_QUARTER", "THIS_YEAR", "LAST_YEAR", "NEXT_YEAR", "THIS_FISCAL_QUARTER", "LAST_FISCAL_QUARTER", "NEXT_FISCAL_QUARTER", "THIS_FISCAL_YEAR", "LAST_FISCAL_YEAR", "NEXT_FISCAL_YEAR", "YEAR_TO_DATE", "SAME_PERIOD_LAST_YEAR", "LAST_N_DAYS:n", "NEXT_N_DAYS:n"]


def relative_range(name: str, today: date, fiscal_start: int, where: str = "dateRange.range") -> tuple[date, date]:
    """[start, end) of a named range around ``today`` (the tenant's local date)."""
    if name in _NAMED:
        unit, offset = _NAMED[name]
        return _period(today, unit, offset, fiscal_start)
    if name == "YEAR_TO_DATE":
        return date(today.year, 1, 1), today + timedelta(days=1)
    if name == "SAME_PERIOD_LAST_YEAR":
        start, end = relative_range("YEAR_TO_DATE", today, fiscal_start)
        return _shift_years(start, -1), _shift_years(end, -1)
    head, _, count = name.partition(":")
    if head in ("LAST_N_DAYS", "NEXT_N_DAYS"):
        if not count.isdigit() or not 1 <= int(count) <= 10_000:
            raise ValidationError(f"{where}: {head} needs a day count, e.g. {head}:30", field=where)
        days = int(count)
        if head == "LAST_N_DAYS":  # the n days ending today, today included
            return today - timedelta(days=days - 1), today + timedelta(days=1)
        return today + timedelta(days=1), today + timedelta(days=days + 1)
    prefix, _, unit = name.partition("_")
    offsets = {"THIS": 0, "LAST": -1, "NEXT": 1}
    if prefix in offsets and unit in _UNITS:
        return _period(today, _UNITS[unit], offsets[prefix], fiscal_start)
    raise ValidationError(f"{where}: unknown range '{name}' (one of {', '.join(RANGE_NAMES)})", field=where)


def parse_day(value: str, where: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{where}: expected a date YYYY-MM-DD, got '{value}'", field=where) from None


def shifted(bounds: tuple[date, date], years: int) -> tuple[date, date]:
    return (_shift_years(bounds[0], years), _shift_years(bounds[1], years)) if years else bounds


def local_midnight_utc(day: date, zone: str) -> datetime:
    """The UTC instant at which ``day`` begins in ``zone``."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)).astimezone(UTC)
