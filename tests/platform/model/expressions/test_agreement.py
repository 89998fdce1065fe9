"""Property: the Python evaluator and the SQL compiler agree on generated typed expressions and rows.

Rows carry nulls, negative numbers, month ends, Feb 29 2024 and year boundaries; expressions are
built type-directed from fields, literals, operators and functions. NUMBER results may differ by
1e-9 (SQLite computes in binary doubles); every other type must be identical.

Where SQLite's doubles would make an expression ambiguous (a division or product of computed
numbers compared for equality), the generator keeps such arithmetic out of discontinuous places
(comparisons, FLOOR, ROUND, TEXT...), as docs/expressions.md documents.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from tessera.core.errors import ValidationError
from tessera.model.expressions import Context, RecordEnv, RecordResolver, compile_sql, evaluate

NOW = datetime(2024, 2, 29, 13, 45, 10, 123456, tzinfo=UTC)
FIELDS = {
    "INTEGER": ["qty", "small", "parent.tier"],
    "NUMBER": ["amount", "price", "rate", "parent.revenue"],
    "TEXT": ["title", "notes", "code", "stage", "parent.name"],
    "BOOLEAN": ["active"],
    "DATE": ["startDate", "endDate", "parent.founded"],
    "DATETIME": ["seenAt", "doneAt"],
}
SPECIAL_DATES = [
    date(2024, 2, 29), date(2024, 2, 28), date(2024, 3, 1), date(2023, 2, 28), date(2023, 12, 31),
    date(2024, 1, 1), date(2024, 1, 31), date(2024, 4, 30), date(2000, 2, 29), date(1900, 2, 28),
    date(2100, 12, 31), date(1999, 12, 31), date(2025, 12, 29), date(2026, 1, 4),
]
SPECIAL_TIMES = [time(0, 0), time(23, 59, 59, 999999), time(12, 0, 0, 500000), time(0, 0, 0, 1)]
SPECIAL_TEXTS = ["", " ", "abc", "Hello World", "  padded  ", "ÄÖü é", "a_b%c", "42", "-3.50", "0.5",
                 "2024-02-29", "2024-02-29 10:11:12", "x'y\"z", "MiXeD", "ß", "tab\tnew\nline", "won"]
TEXT_ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
STAGES = ["new", "open", "won", "lost"]
TAGS = ["red", "green", "blue"]


# --- rows --------------------------------------------------------------------------------
def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


texts = st.one_of(st.sampled_from(SPECIAL_TEXTS), st.text(TEXT_ALPHABET, max_size=8))
dates = st.one_of(st.sampled_from(SPECIAL_DATES), st.dates(date(1900, 1, 1), date(2100, 12, 31)))
datetimes = st.builds(
    lambda d, t: datetime.combine(d, t, tzinfo=UTC),
    dates, st.one_of(st.sampled_from(SPECIAL_TIMES), st.times()),
)


def decimals(limit: int, places: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(-limit, limit, places=places, allow_nan=False, allow_infinity=False)


parent_rows = st.fixed_dictionaries({
    "name": maybe(texts), "tier": maybe(st.integers(-50, 50)), "revenue": maybe(decimals(10**6, 2)),
    "founded": maybe(dates), "segment": maybe(st.sampled_from(["smb", "mid", "ent"])),
})
sample_rows = st.fixed_dictionaries({
    "title": maybe(texts), "notes": maybe(texts), "code": maybe(texts),
    "qty": maybe(st.integers(-10**6, 10**6)), "small": maybe(st.integers(-400, 400)),
    "amount": maybe(decimals(10**6, 2)), "price": maybe(decimals(10**4, 4)), "rate": maybe(decimals(1000, 2)),
    "active": maybe(st.booleans()), "startDate": maybe(dates), "endDate": maybe(dates),
    "seenAt": maybe(datetimes), "doneAt": maybe(datetimes), "stage": maybe(st.sampled_from(STAGES)),
    "tags": maybe(st.lists(st.sampled_from(TAGS), unique=True, max_size=3)), "hasParent": st.booleans(),
})


# --- expressions -------------------------------------------------------------------------
def text_literal(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def number_literal(value: Decimal) -> str:
    return format(value, "f")


LITERALS: dict[str, st.SearchStrategy[str]] = {
    "INTEGER": st.integers(-1000, 1000).map(str),
    "NUMBER": decimals(1000, 2).map(number_literal),
    "TEXT": texts.map(text_literal),
    "BOOLEAN": st.sampled_from(["TRUE", "FALSE"]),
    "DATE": dates.map(lambda d: f"#{d.isoformat()}#"),
    "DATETIME": datetimes.map(lambda d: f"#{d.strftime('%Y-%m-%dT%H:%M:%S.%f')}Z#"),
}
Build = Callable[[st.DrawFn, int, bool], str]


def leaf(t: str) -> st.SearchStrategy[str]:
    options = [st.sampled_from(FIELDS[t]), LITERALS[t]]
    if t == "DATE":
        options.append(st.just("TODAY()"))
    if t == "DATETIME":
        options.append(st.just("NOW()"))
    return st.one_of(*options)


@st.composite
def expr(draw: st.DrawFn, t: str, depth: int, exact: bool = True) -> str:
    """An expression of type ``t``; ``exact`` keeps products and quotients of numbers out."""
    if depth <= 0 or draw(st.integers(0, 3)) == 0:
        return draw(leaf(t))
    build: Build = draw(st.sampled_from(PRODUCTIONS[t] + (CONTINUOUS.get(t, []) if not exact else [])))
    return build(draw, depth - 1, exact)


def sub(draw: st.DrawFn, t: str, depth: int, exact: bool = True) -> str:
    return draw(expr(t, depth, exact))


def small_int(draw: st.DrawFn, depth: int) -> str:
    return draw(st.one_of(st.just("small"), st.integers(-400, 400).map(str),
                          st.sampled_from(["MONTH(startDate)", "DAY(endDate)", "WEEKDAY(seenAt)", "LEN(title)"])))


def numeric(draw: st.DrawFn, depth: int, exact: bool) -> str:
    return sub(draw, draw(st.sampled_from(["INTEGER", "NUMBER"])), depth, exact)


def comparable(draw: st.DrawFn, depth: int) -> tuple[str, str]:
    t = draw(st.sampled_from(["INTEGER", "NUMBER", "TEXT", "DATE", "DATETIME"]))
    if t in ("INTEGER", "NUMBER"):
        return numeric(draw, depth, True), numeric(draw, depth, True)
    return sub(draw, t, depth), sub(draw, t, depth)


def _same_type(name: str, t: str) -> Build:
    return lambda d, n, e: f"{name}({sub(d, t, n, e)}, {sub(d, t, n, e)})"


def _if(t: str) -> Build:
    return lambda d, n, e: f"IF({sub(d, 'BOOLEAN', n)}, {sub(d, t, n, e)}, {sub(d, t, n, e)})"


def _case(t: str, key: str) -> Build:
    def build(d: st.DrawFn, n: int, e: bool) -> str:
        k1, k2 = d(LITERALS[key]), d(LITERALS[key])
        return f"CASE({sub(d, key, n)}, {k1}, {sub(d, t, n, e)}, {k2}, {sub(d, t, n, e)}, {sub(d, t, n, e)})"
    return build


def _date_part(name: str, t: str = "DATE") -> Build:
    return lambda d, n, e: f"{name}({sub(d, t, n)})"


PRODUCTIONS: dict[str, list[Build]] = {
    "INTEGER": [
        lambda d, n, e: f"({sub(d, 'INTEGER', n)} + {sub(d, 'INTEGER', n)})",
        lambda d, n, e: f"({sub(d, 'INTEGER', n)} - {sub(d, 'INTEGER', n)})",
        lambda d, n, e: f"({d(leaf('INTEGER'))} * {d(leaf('INTEGER'))})",
        lambda d, n, e: f"-{sub(d, 'INTEGER', n)}",
        lambda d, n, e: f"LEN({sub(d, 'TEXT', n)})",
        lambda d, n, e: f"FIND({sub(d, 'TEXT', n)}, {sub(d, 'TEXT', n)})",
        lambda d, n, e: f"FLOOR({sub(d, 'NUMBER', n)})",
        lambda d, n, e: f"CEILING({sub(d, 'NUMBER', n)})",
        lambda d, n, e: f"MOD({sub(d, 'INTEGER', n)}, {sub(d, 'INTEGER', n)})",
        lambda d, n, e: f"ABS({sub(d, 'INTEGER', n)})",
        _same_type("MIN", "INTEGER"), _same_type("MAX", "INTEGER"), _if("INTEGER"), _case("INTEGER", "INTEGER"),
        _same_type("NULLVALUE", "INTEGER"), _same_type("BLANKVALUE", "INTEGER"),
        _date_part("YEAR"), _date_part("MONTH"), _date_part("DAY"), _date_part("WEEKDAY"),
        _date_part("DAY", "DATETIME"), _date_part("HOUR", "DATETIME"), _date_part("MINUTE", "DATETIME"),
        lambda d, n, e: f"({sub(d, 'DATE', n)} - {sub(d, 'DATE', n)})",
        lambda d, n, e: f'DATEDIFF("{d(st.sampled_from(["days", "months", "years"]))}", '
                        f"{sub(d, d(st.sampled_from(['DATE', 'DATETIME'])), n)}, "
                        f"{sub(d, d(st.sampled_from(['DATE', 'DATETIME'])), n)})",
    ],
    "NUMBER": [
        lambda d, n, e: f"({numeric(d, n, e)} + {numeric(d, n, e)})",
        lambda d, n, e: f"({numeric(d, n, e)} - {numeric(d, n, e)})",
        lambda d, n, e: f"({sub(d, 'NUMBER', n, e)} * {d(st.integers(-100, 100))})",
        lambda d, n, e: f"-{sub(d, 'NUMBER', n, e)}",
        lambda d, n, e: f"ROUND({numeric(d, n, e)}, {d(st.integers(-2, 4))})",
        lambda d, n, e: f"ABS({sub(d, 'NUMBER', n, e)})",
        lambda d, n, e: f"MOD({numeric(d, n, True)}, {d(leaf('NUMBER'))})",
        lambda d, n, e: f"VALUE(TEXT({sub(d, 'NUMBER', n)}))",
        lambda d, n, e: f"VALUE({sub(d, 'TEXT', n)})",
        _same_type("MIN", "NUMBER"), _same_type("MAX", "NUMBER"), _if("NUMBER"), _case("NUMBER", "INTEGER"),
        _same_type("BLANKVALUE", "NUMBER"),
    ],
    "TEXT": [
        lambda d, n, e: f"({sub(d, 'TEXT', n)} & {sub(d, 'TEXT', n)})",
        lambda d, n, e: f"LEFT({sub(d, 'TEXT', n)}, {small_int(d, n)})",
        lambda d, n, e: f"RIGHT({sub(d, 'TEXT', n)}, {small_int(d, n)})",
        lambda d, n, e: f"MID({sub(d, 'TEXT', n)}, {small_int(d, n)}, {small_int(d, n)})",
        lambda d, n, e: f"UPPER({sub(d, 'TEXT', n)})",
        lambda d, n, e: f"LOWER({sub(d, 'TEXT', n)})",
        lambda d, n, e: f"TRIM({sub(d, 'TEXT', n)})",
        lambda d, n, e: f"SUBSTITUTE({sub(d, 'TEXT', n)}, {d(LITERALS['TEXT'])}, {d(LITERALS['TEXT'])})",
        lambda d, n, e: f"TEXT({sub(d, d(st.sampled_from(['INTEGER', 'NUMBER', 'DATE', 'DATETIME', 'BOOLEAN'])), n)})",
        _same_type("MIN", "TEXT"), _same_type("MAX", "TEXT"), _if("TEXT"), _case("TEXT", "TEXT"),
        _same_type("BLANKVALUE", "TEXT"), _same_type("NULLVALUE", "TEXT"),
    ],
    "BOOLEAN": [
        lambda d, n, e: "({} {} {})".format(*_pair_with(d, n, d(st.sampled_from(["=", "<>", "<", "<=", ">", ">="])))),
        lambda d, n, e: f"({sub(d, 'BOOLEAN', n)} = {sub(d, 'BOOLEAN', n)})",
        lambda d, n, e: f"({sub(d, 'BOOLEAN', n)} AND {sub(d, 'BOOLEAN', n)})",
        lambda d, n, e: f"({sub(d, 'BOOLEAN', n)} OR {sub(d, 'BOOLEAN', n)})",
        lambda d, n, e: f"(NOT {sub(d, 'BOOLEAN', n)})",
        lambda d, n, e: f"NOT({sub(d, 'BOOLEAN', n)})",
        lambda d, n, e: f"OR({sub(d, 'BOOLEAN', n)}, {sub(d, 'BOOLEAN', n)}, {sub(d, 'BOOLEAN', n)})",
        lambda d, n, e: f"ISBLANK({sub(d, d(st.sampled_from(list(FIELDS))), n)})",
        lambda d, n, e: "ISBLANK(tags)",
        lambda d, n, e: f"CONTAINS({sub(d, 'TEXT', n)}, {sub(d, 'TEXT', n)})",
        lambda d, n, e: f"BEGINS({sub(d, 'TEXT', n)}, {sub(d, 'TEXT', n)})",
        lambda d, n, e: f'ISPICKVAL(stage, "{d(st.sampled_from(STAGES))}")',
        lambda d, n, e: f'INCLUDES(tags, "{d(st.sampled_from(TAGS))}")',
        _if("BOOLEAN"),
    ],
    "DATE": [
        lambda d, n, e: f"({sub(d, 'DATE', n)} + {small_int(d, n)})",
        lambda d, n, e: f"({sub(d, 'DATE', n)} - {small_int(d, n)})",
        lambda d, n, e: f"ADDDAYS({sub(d, 'DATE', n)}, {small_int(d, n)})",
        lambda d, n, e: f"ADDMONTHS({sub(d, 'DATE', n)}, {small_int(d, n)})",
        lambda d, n, e: f"DATE(YEAR({sub(d, 'DATE', n)}), {d(st.integers(0, 13))}, {d(st.integers(0, 32))})",
        lambda d, n, e: f"DATE({d(st.integers(1900, 2100))}, MONTH({sub(d, 'DATE', n)}), DAY({sub(d, 'DATE', n)}))",
        lambda d, n, e: f"DATEVALUE({sub(d, d(st.sampled_from(['DATE', 'DATETIME', 'TEXT'])), n)})",
        lambda d, n, e: f"DATEVALUE(TEXT({sub(d, 'DATE', n)}))",
        lambda d, n, e: f"{d(st.sampled_from(['STARTOFWEEK', 'STARTOFMONTH', 'STARTOFQUARTER', 'STARTOFYEAR', 'ENDOFMONTH']))}"
                        f"({sub(d, d(st.sampled_from(['DATE', 'DATETIME'])), n)})",
        _same_type("MIN", "DATE"), _same_type("MAX", "DATE"), _if("DATE"), _same_type("BLANKVALUE", "DATE"),
    ],
    "DATETIME": [
        lambda d, n, e: f"({sub(d, 'DATETIME', n)} + {small_int(d, n)})",
        lambda d, n, e: f"({sub(d, 'DATETIME', n)} - {small_int(d, n)})",
        lambda d, n, e: f"ADDDAYS({sub(d, 'DATETIME', n)}, {small_int(d, n)})",
        lambda d, n, e: f"ADDMONTHS({sub(d, 'DATETIME', n)}, {small_int(d, n)})",
        lambda d, n, e: f"DATETIMEVALUE({sub(d, d(st.sampled_from(['DATE', 'TEXT'])), n)})",
        lambda d, n, e: f"DATETIMEVALUE(TEXT({sub(d, 'DATETIME', n)}))",
        _same_type("MIN", "DATETIME"), _same_type("MAX", "DATETIME"), _if("DATETIME"),
    ],
}
CONTINUOUS: dict[str, list[Build]] = {
    "NUMBER": [
        lambda d, n, e: f"({d(leaf('NUMBER'))} * {d(leaf('NUMBER'))})",
        lambda d, n, e: f"({numeric(d, n, False)} / {numeric(d, n, False)})",
        lambda d, n, e: f"POWER({d(leaf('NUMBER'))}, {d(st.integers(0, 3))})",
        lambda d, n, e: f"SQRT({sub(d, 'NUMBER', n, False)})",
        lambda d, n, e: f"({sub(d, 'DATETIME', n)} - {sub(d, 'DATETIME', n)})",
    ],
}


def _pair_with(draw: st.DrawFn, depth: int, op: str) -> tuple[str, str, str]:
    left, right = comparable(draw, depth)
    return left, op, right


@st.composite
def expressions(draw: st.DrawFn) -> str:
    t = draw(st.sampled_from(list(PRODUCTIONS)))
    return draw(expr(t, 3, exact=False))


# --- the property ------------------------------------------------------------------------
def _insert(world, parent: dict[str, Any], samples: list[dict[str, Any]]) -> list[str]:  # type: ignore[no-untyped-def]
    tables, meta = world.model.tables, world.model.meta
    system = {"created_at": NOW, "updated_at": NOW, "version": 1}

    def columns(object_name: str, values: dict[str, Any]) -> dict[str, Any]:
        obj = meta.object(object_name)
        return {obj.field(k).column_name: v for k, v in values.items()}

    parent_id = str(uuid.uuid4())
    world.conn.execute(tables.table("exprParent").insert().values(id=parent_id, **system,
                                                                  **columns("exprParent", parent)))
    ids = []
    for sample in samples:
        values = {k: v for k, v in sample.items() if k != "hasParent"}
        values["parent"] = parent_id if sample["hasParent"] else None
        ids.append(str(uuid.uuid4()))
        world.conn.execute(tables.table("exprSample").insert().values(id=ids[-1], **system,
                                                                      **columns("exprSample", values)))
    return ids


def _values(world, record_id: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    table = world.model.tables.table("exprSample")
    row = world.conn.execute(sa.select(table).where(table.c.id == record_id)).mappings().one()
    obj = world.model.meta.object("exprSample")
    values: dict[str, Any] = {f.name: row[f.column_name] for f in obj.fields}
    if values["parent"] is not None:
        parents = world.model.tables.table("exprParent")
        parent = world.conn.execute(sa.select(parents).where(parents.c.id == values["parent"])).mappings().one()
        pobj = world.model.meta.object("exprParent")
        values["parent"] = {"id": parent["id"], **{f.name: parent[f.column_name] for f in pobj.fields}}
    return values


@pytest.mark.slow
@settings(max_examples=1000, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(source=expressions(), parent=parent_rows, samples=st.lists(sample_rows, min_size=3, max_size=3))
def test_python_and_sql_agree(expr_world, source: str, parent: dict[str, Any],  # type: ignore[no-untyped-def]
                              samples: list[dict[str, Any]]) -> None:
    world = expr_world
    checked = world.check(source, Context.FORMULA)
    try:
        column = compile_sql(checked, RecordResolver(world.model.tables, "exprSample"), dialect=world.dialect, now=NOW)
    except ValidationError as exc:
        if exc.details.get("kind") == "too_deep":
            reject()  # beyond what this SQLite's parser takes: refused cleanly, nothing to compare
        raise
    savepoint = world.conn.begin_nested()
    try:
        ids = _insert(world, parent, samples)
        table = world.model.tables.table("exprSample")
        in_sql = dict(world.conn.execute(sa.select(table.c.id, column).where(table.c.id.in_(ids))).all())
        for record_id in ids:
            in_python = evaluate(checked, RecordEnv(_values(world, record_id), now=NOW))
            assert _agree(in_python, in_sql[record_id]), (
                f"{source}\n  Python: {in_python!r}\n  SQL ({world.dialect}): {in_sql[record_id]!r}\n"
                f"  row: {_values(world, record_id)!r}"
            )
    finally:
        savepoint.rollback()


def _agree(python: Any, sql: Any) -> bool:
    if python is None or sql is None:
        return python is None and sql is None
    if type(python) is not type(sql):
        return False
    if isinstance(python, Decimal):
        return abs(python - sql) <= Decimal("1e-9") * max(Decimal(1), abs(python))
    return bool(python == sql)
