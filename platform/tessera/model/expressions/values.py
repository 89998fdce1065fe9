"""Python values of the expression language and the calendar and text rules both back ends follow.

TEXT is ``str``, INTEGER ``int``, NUMBER ``Decimal``, BOOLEAN ``bool``, DATE ``date``, DATETIME an aware
``datetime`` in UTC, MULTI_PICKLIST a ``list`` of ``str``; null is ``None``.
"""

from __future__ import annotations

import calendar
import re
import string
from datetime import UTC, date, datetime, timedelta
from decimal import (
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
)
from typing import Any

DECIMAL_CONTEXT = Context(
    prec=34, rounding=ROUND_HALF_EVEN, Emax=999_999, Emin=-999_999,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
"""Arithmetic on NUMBER: 34 significant digits (decimal128); errors become null, never garbage."""

WIDE_CONTEXT = Context(prec=200, rounding=ROUND_HALF_UP, Emax=999_999, Emin=-999_999)
"""For quantizing (ROUND, TEXT) where the digits before the point must never be lost."""

TEXT_PLACES = 10
"""TEXT(number) rounds to this many decimal places (half away from zero), then drops trailing zeros."""

NUMBER_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DATETIME_TEXT = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})[ T]([0-9]{2}):([0-9]{2}):([0-9]{2})Z?")
DATETIME_LITERAL = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[ T]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,6}))?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})"
)
_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
MIN_DATE = date(1, 1, 1)


# --- numbers -----------------------------------------------------------------------------
def to_decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def number_text(value: Decimal) -> str:
    """Plain decimal notation rounded to ``TEXT_PLACES`` places, no trailing zeros, never ``-0``."""
    rounded = value.quantize(Decimal(1).scaleb(-TEXT_PLACES), rounding=ROUND_HALF_UP, context=WIDE_CONTEXT)
    text = format(rounded, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def round_half_up(value: Decimal, places: int) -> Decimal:
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=WIDE_CONTEXT)
    return rounded.quantize(Decimal(1), context=WIDE_CONTEXT) if places < 0 else rounded


def parse_number(text: str) -> Decimal | None:
    """VALUE's rule: an optional minus, digits, optionally a point and digits; anything else is null."""
    return Decimal(text) if NUMBER_TEXT.fullmatch(text) else None


def truncated_remainder(a: int, b: int) -> int | None:
    """``a - b * trunc(a / b)``: the sign follows the dividend, as in SQL."""
    if b == 0:
        return None
    r = abs(a) % abs(b)
    return -r if a < 0 else r


# --- text --------------------------------------------------------------------------------
def ascii_upper(text: str) -> str:
    return text.translate(_UPPER)


def ascii_lower(text: str) -> str:
    return text.translate(_LOWER)


# --- dates -------------------------------------------------------------------------------
def make_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except (ValueError, OverflowError):
        return None


def parse_date(text: str) -> date | None:
    if not DATE_TEXT.fullmatch(text):
        return None
    return make_date(int(text[:4]), int(text[5:7]), int(text[8:10]))


def parse_datetime(text: str) -> datetime | None:
    """DATETIMEVALUE's rule: ``YYYY-MM-DD HH:MM:SS`` (or ``T``), optional ``Z``; read as UTC."""
    match = DATETIME_TEXT.fullmatch(text)
    if not match:
        return None
    day = parse_date(match.group(1))
    hour, minute, second = (int(match.group(i)) for i in (2, 3, 4))
    if day is None or hour > 23 or minute > 59 or second > 59:
        return None
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


def parse_datetime_literal(text: str) -> datetime | None:
    """A ``#...#`` datetime literal: ISO 8601 with ``Z`` or an offset, converted to UTC."""
    match = DATETIME_LITERAL.fullmatch(text)
    if not match:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        return None
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return None


def utc_date(value: datetime) -> date:
    return value.astimezone(UTC).date()


def days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def add_days(value: date, days: int) -> date | None:
    try:
        return value + timedelta(days=days)
    except OverflowError:
        return None


def add_months(value: date, months: int) -> date | None:
    """Calendar months later (or earlier), clamped to the month's end: Jan 31 + 1 = Feb 28 or 29."""
    index = value.year * 12 + value.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        return None
    return date(year, month + 1, min(value.day, days_in_month(year, month + 1)))


def complete_months(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end`` (negative when ``end`` is earlier), month-end aware."""
    raw = (end.year * 12 + end.month) - (start.year * 12 + start.month)
    landed = min(start.day, days_in_month(end.year, end.month))
    if raw > 0 and landed > end.day:
        return raw - 1
    if raw < 0 and landed < end.day:
        return raw + 1
    return raw


def truncated_division(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def weekday(value: date) -> int:
    """1 = Sunday ... 7 = Saturday."""
    return value.isoweekday() % 7 + 1


def start_of_week(value: date) -> date:
    """Weeks start on Monday (ISO 8601)."""
    return value - timedelta(days=value.weekday())


def start_of_month(value: date) -> date:
    return value.replace(day=1)


def start_of_quarter(value: date) -> date:
    return date(value.year, (value.month - 1) // 3 * 3 + 1, 1)


def start_of_year(value: date) -> date:
    return date(value.year, 1, 1)


def end_of_month(value: date) -> date:
    return value.replace(day=days_in_month(value.year, value.month))


def date_text(value: date) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def datetime_text(value: datetime) -> str:
    """``YYYY-MM-DD HH:MM:SSZ`` in UTC; fractions of a second are dropped."""
    v = value.astimezone(UTC)
    return f"{date_text(v.date())} {v.hour:02d}:{v.minute:02d}:{v.second:02d}Z"
