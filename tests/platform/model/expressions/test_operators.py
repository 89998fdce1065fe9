"""Operators on both back ends: arithmetic, date arithmetic, ``&``, comparisons and their nulls."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest

CASES = [
    # arithmetic: INTEGER stays INTEGER, anything with a NUMBER is a NUMBER, / is always a NUMBER
    ("qty + small", 45),
    ("qty - small * 2", 36),
    ("qty * -small", -126),
    ("7 / 2", D("3.5")),
    ("qty / small", D("14")),
    ("amount + 0.44", D("1235.00")),
    ("amount * 2 - price", D("2468.83")),
    ("price * 100", D("29.0000")),
    ("-amount", D("-1234.56")),
    ("-(qty)", -42),
    ("+qty", 42),
    ("1 / 0", None),
    ("qty / (small - 3)", None),
    ("qty + small", None, "blank"),
    ("amount * 2", None, "blank"),
    ("rate / 100 * amount", D("154.32")),
    ("2 ^ 10", D("1024")),
    ("-2 ^ 2", D("-4")),
    ("2 ^ 3 ^ 2", D("512")),
    ("1 + 2 * 3 - 4 / 2", D("5")),
    ("(1 + 2) * 3", 9),
    # date arithmetic
    ("startDate + 30", date(2024, 3, 1)),
    ("30 + startDate", date(2024, 3, 1)),
    ("endDate - 365", date(2023, 3, 1)),
    ("endDate - startDate", 29),
    ("startDate - endDate", -29),
    ("endDate + qty", date(2024, 4, 11)),
    ("seenAt + 1", datetime(2024, 3, 1, 23, 59, 59, 999999, tzinfo=UTC)),
    ("1 + seenAt", datetime(2024, 3, 1, 23, 59, 59, 999999, tzinfo=UTC)),
    ("seenAt - 366", datetime(2023, 2, 28, 23, 59, 59, 999999, tzinfo=UTC)),
    ("doneAt - seenAt", D("-60.99999999998842592592592592592593")),
    ("seenAt - doneAt", D("60.99999999998842592592592592592593")),
    ("startDate + 1", None, "blank"),
    ("seenAt - doneAt", None, "blank"),
    # concatenation: a null side is empty text
    ('title & "!"', "Hello World!"),
    ('title & "!"', "!", "blank"),
    ("title & code", "", "blank"),
    ('"a" & NULL & "b"', "ab"),
    ("stage & \"-\" & email", "won-a@example.com"),
    # comparisons
    ("qty > small", True),
    ("qty = 42", True),
    ("qty == 42.0", True),
    ("qty <> 42", False),
    ("qty != 41", True),
    ("amount >= 1234.56", True),
    ("price * 100 = 29", True),
    ("amount * 3 / 3 = amount", True),
    ("0.1 + 0.2 = 0.3", True),
    ('title < "Hello"', False),
    ('"B" < "a"', True),
    ('title >= "Hello World"', True),
    ("startDate < endDate", True),
    ("seenAt > doneAt", True),
    ("seenAt = #2024-02-29T23:59:59.999999Z#", True),
    ("active = TRUE", True),
    ("active <> FALSE", True),
    ("qty > 0", None, "blank"),
    ('title = ""', None, "blank"),
    ('title = ""', True, "edge"),
    ("stage = \"won\"", True),
    ('notes = "ÄÖü é"', True, "edge"),
    ('notes > "z"', True, "edge"),
    # logic is three-valued, NOT binds looser than comparisons
    ("qty > 0 AND active", True),
    ("qty > 0 AND active", None, "blank"),
    ("active OR qty > 0", None, "blank"),
    ("active OR TRUE", True, "blank"),
    ("active AND FALSE", False, "blank"),
    ("NOT qty = 41", True),
    ("NOT active", None, "blank"),
    ("active && qty > 40 || FALSE", True),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]} [{c[2] if len(c) > 2 else 'base'}]")
def test_operator(world, case) -> None:  # type: ignore[no-untyped-def]
    world.check_case(*case)
