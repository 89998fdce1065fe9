"""Date buckets (every bucket, on a DATE field and on a DATETIME field in a zone with daylight saving
time, with a fiscal year starting in April) and relative date ranges at a fixed instant, compared
with the same answer computed in Python with zoneinfo."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tests.platform.reports.conftest import ZONE, Sales, utc

from tessera.model.reports import Settings
from tessera.services.reports.run import run_definition

BUCKETS = ["DAY", "WEEK", "MONTH", "QUARTER", "YEAR", "FISCAL_QUARTER", "FISCAL_YEAR"]
FISCAL_START = 4


def bucket(day: date, name: str, fiscal_start: int = FISCAL_START) -> str:
    y, m = day.year, day.month
    fiscal_year = y + (1 if fiscal_start > 1 and m >= fiscal_start else 0)
    iso = day.isocalendar()
    return {
        "DAY": day.isoformat(), "WEEK": f"{iso.year}-W{iso.week:02d}", "MONTH": f"{y}-{m:02d}",
        "QUARTER": f"{y}-Q{(m - 1) // 3 + 1}", "YEAR": str(y), "FISCAL_YEAR": f"FY{fiscal_year}",
        "FISCAL_QUARTER": f"FY{fiscal_year}-Q{((m - fiscal_start) % 12) // 3 + 1}",
    }[name]


def _run(sales: Sales, definition: dict[str, Any], now: datetime | None = None) -> Any:
    settings = Settings(timezone=ZONE, fiscal_start=FISCAL_START, now=now or datetime(2026, 5, 15, 12, tzinfo=ZoneInfo("UTC")))
    return run_definition(sales.rt, sales.actor(), definition, settings=settings)


def _counts(result: Any) -> dict[Any, int]:
    return {row[0]: row[1] for row in result.rows}


@pytest.mark.parametrize("name", BUCKETS)
def test_date_field_buckets_match_python(sales: Sales, name: str) -> None:
    result = _run(sales, {"object": "opportunity", "groupBy": [{"field": "closeDate", "bucket": name}],
                          "measures": [{"function": "COUNT", "alias": "n"}]})
    expected = Counter(bucket(date.fromisoformat(d["closeDate"]), name) for d in sales.deals)
    assert _counts(result) == dict(expected)
    # keys sort chronologically
    assert [r[0] for r in result.rows] == sorted(expected)


@pytest.mark.parametrize("name", BUCKETS)
def test_datetime_buckets_use_the_tenants_zone_with_daylight_saving(sales: Sales, name: str) -> None:
    result = _run(sales, {"object": "opportunity", "groupBy": [{"field": "lastContactAt", "bucket": name}],
                          "measures": [{"function": "COUNT", "alias": "n"}]})
    zone = ZoneInfo(ZONE)
    expected = Counter(bucket(utc(d["lastContactAt"]).astimezone(zone).date(), name) if d["lastContactAt"] else None
                       for d in sales.deals)
    assert _counts(result) == dict(expected)


def test_daylight_saving_instants_land_on_their_local_day(sales: Sales) -> None:
    # 04:30Z on 1 April is 00:30 EDT (UTC-4): April and Q2, where a fixed EST offset would say March
    result = _run(sales, {"object": "opportunity", "groupBy": [{"field": "lastContactAt", "bucket": "DAY"}],
                          "measures": [{"function": "COUNT", "alias": "n"}]})
    days = _counts(result)
    assert "2026-04-01" in days and "2026-03-31" in days and "2026-11-01" in days and "2026-10-31" in days
    assert "2025-12-31" in days  # 04:00Z on 1 January is still the 31st in New York


RANGES = {
    # at 2026-05-15 12:00 UTC (08:00 in New York), fiscal year from April
    "THIS_MONTH": (date(2026, 5, 1), date(2026, 6, 1)),
    "LAST_QUARTER": (date(2026, 1, 1), date(2026, 4, 1)),
    "THIS_FISCAL_YEAR": (date(2026, 4, 1), date(2027, 4, 1)),
    "LAST_FISCAL_QUARTER": (date(2026, 1, 1), date(2026, 4, 1)),
    "THIS_WEEK": (date(2026, 5, 11), date(2026, 5, 18)),
    "LAST_N_DAYS:90": (date(2026, 5, 15) - timedelta(days=89), date(2026, 5, 16)),
    "YEAR_TO_DATE": (date(2026, 1, 1), date(2026, 5, 16)),
    "SAME_PERIOD_LAST_YEAR": (date(2025, 1, 1), date(2025, 5, 16)),
    "LAST_YEAR": (date(2025, 1, 1), date(2026, 1, 1)),
}


@pytest.mark.parametrize("name", sorted(RANGES))
def test_relative_ranges_on_a_date_field(sales: Sales, name: str) -> None:
    result = _run(sales, {"object": "opportunity", "measures": [{"function": "COUNT", "alias": "n"}],
                          "dateRange": {"field": "closeDate", "range": name}})
    start, end = RANGES[name]
    expected = sum(1 for d in sales.deals if start <= date.fromisoformat(d["closeDate"]) < end)
    assert result.totals["n"] == expected


def test_relative_range_on_a_datetime_field_starts_at_local_midnight(sales: Sales) -> None:
    # Q1 2026 in New York: 2026-01-01 05:00Z .. 2026-04-01 04:00Z
    now = datetime(2026, 5, 15, 12, tzinfo=ZoneInfo("UTC"))
    result = _run(sales, {"object": "opportunity", "measures": [{"function": "COUNT", "alias": "n"}],
                          "dateRange": {"field": "lastContactAt", "range": "LAST_QUARTER"}}, now)
    zone = ZoneInfo(ZONE)
    expected = sum(1 for d in sales.deals if d["lastContactAt"]
                   and date(2026, 1, 1) <= utc(d["lastContactAt"]).astimezone(zone).date() < date(2026, 4, 1))
    assert result.totals["n"] == expected


def test_shifted_fixed_range(sales: Sales) -> None:
    result = _run(sales, {"object": "opportunity", "measures": [{"function": "COUNT", "alias": "n"}],
                          "dateRange": {"field": "closeDate", "from": "2026-02-01", "to": "2026-06-30", "shiftYears": -1}})
    expected = sum(1 for d in sales.deals if date(2025, 2, 1) <= date.fromisoformat(d["closeDate"]) <= date(2025, 6, 30))
    assert result.totals["n"] == expected


def test_unknown_range_is_named(sales: Sales) -> None:
    from tessera.core.errors import ValidationError

    with pytest.raises(ValidationError) as info:
        _run(sales, {"object": "opportunity", "dateRange": {"field": "closeDate", "range": "NEXT_DECADE"}})
    assert info.value.field == "dateRange.range"
