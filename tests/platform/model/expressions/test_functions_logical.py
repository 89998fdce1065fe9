"""Logical functions on both back ends, with their null behaviour."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

CASES = [
    ('IF(qty > 40, "big", "small")', "big"),
    ('IF(qty > 40, "big", "small")', "small", "blank"),
    ('IF(qty > 40, "big", "small")', "small", "edge"),
    ("IF(active, 1, 2.5)", D("1")),
    ("IF(NULL, 1, 2)", 2),
    ("IF(active, startDate, NULL)", date(2024, 1, 31)),
    ("IF(active, NULL, 1)", None),
    ('IF(ISBLANK(title), "none", title)', "none", "blank"),
    ('CASE(stage, "won", 1, "lost", 0, -1)', 1),
    ('CASE(stage, "won", 1, "lost", 0, -1)', 0, "edge"),
    ('CASE(stage, "won", 1, "lost", 0, -1)', -1, "blank"),
    ('CASE(qty, 42, "answer", 7, "seven", "other")', "answer"),
    ('CASE(price * 100, 29, "exact", "no")', "exact"),
    ('CASE(startDate, #2024-01-31#, "january", "other")', "january"),
    ('CASE(title, NULL, "null matched", "no match")', "no match", "blank"),
    ('CASE(active, TRUE, 1.5, FALSE, 0, 2)', D("0"), "edge"),
    ("ISBLANK(title)", False),
    ("ISBLANK(title)", True, "blank"),
    ("ISBLANK(title)", True, "edge"),
    ("ISBLANK(qty)", False),
    ("ISBLANK(qty)", True, "blank"),
    ("ISBLANK(active)", False, "edge"),
    ("ISBLANK(startDate)", True, "blank"),
    ("ISBLANK(seenAt)", False),
    ("ISBLANK(tags)", False),
    ("ISBLANK(tags)", True, "edge"),
    ("ISBLANK(tags)", True, "blank"),
    ("ISBLANK(parent)", False),
    ("ISBLANK(parent)", True, "blank"),
    ("ISBLANK(NULL)", True),
    ('BLANKVALUE(title, "none")', "Hello World"),
    ('BLANKVALUE(title, "none")', "none", "blank"),
    ('BLANKVALUE(title, "none")', "none", "edge"),
    ("BLANKVALUE(qty, 0)", 0, "blank"),
    ("BLANKVALUE(amount, 1)", D("1"), "blank"),
    ("BLANKVALUE(startDate, TODAY())", date(2024, 2, 29), "blank"),
    ('NULLVALUE(title, "none")', "", "edge"),
    ('NULLVALUE(title, "none")', "none", "blank"),
    ("NULLVALUE(startDate, #2000-01-01#)", date(2000, 1, 1), "blank"),
    ("NULLVALUE(qty, small)", None, "blank"),
    ('ISPICKVAL(stage, "won")', True),
    ('ISPICKVAL(stage, "won")', False, "edge"),
    ('ISPICKVAL(stage, "won")', False, "blank"),
    ('ISPICKVAL(parent.segment, "ent")', True),
    ('INCLUDES(tags, "red")', True),
    ('INCLUDES(tags, "green")', False),
    ('INCLUDES(tags, "red")', False, "edge"),
    ('INCLUDES(tags, "red")', False, "blank"),
    ("AND(active, qty > 0)", True),
    ("AND(active, qty > 0)", None, "blank"),
    ("AND(active, qty > 0, FALSE)", False, "blank"),
    ("AND(TRUE)", True),
    ("OR(active, qty > 100)", True),
    ("OR(active, qty > 100)", None, "blank"),
    ("OR(active, qty > 100, TRUE)", True, "blank"),
    ("OR(active, qty > 100)", False, "edge"),
    ("NOT(active)", False),
    ("NOT(active)", True, "edge"),
    ("NOT(active)", None, "blank"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]} [{c[2] if len(c) > 2 else 'base'}]")
def test_logical_function(world, case) -> None:  # type: ignore[no-untyped-def]
    world.check_case(*case)
