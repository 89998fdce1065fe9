"""Lookup paths and system fields on both back ends, and compiled expressions in WHERE and ORDER BY."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
import sqlalchemy as sa

from tessera.core.errors import ValidationError
from tessera.model.expressions import Context, RecordResolver, compile_sql

CASES = [
    ("parent.name", "Acme"),
    ("parent.manager.name", "Boss"),
    ("ISBLANK(parent.manager.manager)", True),
    ("parent.manager.manager.name", None),
    ("parent.revenue / 1000", D("1000")),
    ("parent.founded", date(1999, 12, 31)),
    ('ISPICKVAL(parent.segment, "ent")', True),
    ("parent.tier + qty", 44),
    ("parent.name", None, "blank"),
    ("parent.name", None, "orphan"),
    ("ISBLANK(parent)", False, "orphan"),
    ("ISBLANK(parent.name)", True, "orphan"),
    ('parent.name & " / " & parent.manager.name', "Acme / Boss"),
    ("parent.manager.name", None, "edge"),
    ("parent.name", "Boss", "edge"),
    ("owner.name", "admin"),
    ("owner.email", "admin@example.com"),
    ("createdBy.name = owner.name", True),
    ("LEN(id)", 36),
    ("LEN(owner)", 36),
    ("createdAt > #2020-01-01T00:00:00Z#", True),
    ("updatedAt >= createdAt", True),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]} [{c[2] if len(c) > 2 else 'base'}]")
def test_lookup_path(world, case) -> None:  # type: ignore[no-untyped-def]
    world.check_case(*case)


def _ids(world, statement: sa.Select) -> list[str]:  # type: ignore[no-untyped-def]
    names = {v: k for k, v in world.ids.items()}
    return [names[i] for i in world.conn.execute(statement).scalars()]


def test_filter_in_where_keeps_only_true_rows(world) -> None:  # type: ignore[no-untyped-def]
    # given a filter that is TRUE for base, FALSE for edge and null for blank and orphan
    checked = world.check("qty > 0 AND active", Context.FILTER)
    table = world.model.tables.table("exprSample")
    where = compile_sql(checked, RecordResolver(world.model.tables, "exprSample"), dialect=world.dialect)
    # when it filters the records
    found = _ids(world, sa.select(table.c.id).where(where))
    # then null counts as not matching, as in validation rules
    assert found == ["base"]


def test_formula_orders_rows(world) -> None:  # type: ignore[no-untyped-def]
    # given a formula on a lookup that is blank for two rows
    checked = world.check('BLANKVALUE(parent.name, "~none") & "/" & TEXT(NULLVALUE(qty, 0))')
    table = world.model.tables.table("exprSample")
    key = compile_sql(checked, RecordResolver(world.model.tables, "exprSample"), dialect=world.dialect)
    # when records are sorted by it
    ordered = _ids(world, sa.select(table.c.id).order_by(key, table.c.id))
    # then the order follows the formula's value (codepoint order: "~" sorts after letters)
    assert ordered == ["base", "edge", "orphan", "blank"] or ordered == ["base", "edge", "blank", "orphan"]
    values = dict(zip(ordered, world.conn.execute(sa.select(key).order_by(key, table.c.id)).scalars(), strict=True))
    assert values["base"] == "Acme/42" and values["edge"] == "Boss/-7"
    assert values["blank"] == "~none/0" and values["orphan"] == "~none/0"


def test_resolver_accepts_an_alias(world) -> None:  # type: ignore[no-untyped-def]
    # given the record table under an alias, as a report joining it would use
    table = world.model.tables.table("exprSample").alias("s")
    resolver = RecordResolver(world.model.tables, "exprSample", source=table)
    column = compile_sql(world.check("parent.name & title"), resolver, dialect=world.dialect)
    # when selected through the alias
    value = world.scalar(sa.select(column).where(table.c.id == world.ids["base"]))
    # then paths correlate with the alias
    assert value == "AcmeHello World"


def test_record_change_functions_do_not_compile_to_sql(world) -> None:  # type: ignore[no-untyped-def]
    # given a validation rule using ISCHANGED
    checked = world.check("ISCHANGED(stage)", Context.VALIDATION)
    # when it is compiled to SQL, then it is refused with its position
    with pytest.raises(ValidationError) as caught:
        compile_sql(checked, RecordResolver(world.model.tables, "exprSample"), dialect=world.dialect)
    assert caught.value.field == "expression"
    assert caught.value.message == "1:1: ISCHANGED cannot be computed in SQL"


def test_unknown_dialect_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="not mysql"):
        compile_sql(world.check("1"), RecordResolver(world.model.tables, "exprSample"), dialect="mysql")


def test_sql_grows_linearly_with_nesting(world) -> None:  # type: ignore[no-untyped-def]
    # given functions whose SQL needs their argument several times, nested four deep
    source = "VALUE(TEXT(" * 2 + "parent.revenue + amount" + "))" * 2
    column = compile_sql(world.check(source), RecordResolver(world.model.tables, "exprSample"), dialect=world.dialect)
    table = world.model.tables.table("exprSample")
    statement = sa.select(column).where(table.c.id == world.ids["base"])
    # when compiled, then large arguments are bound once: copies do not multiply per level
    sql = str(statement.compile(world.conn))
    assert sql.count("revenue") <= 4
    assert len(sql) < 6_000
    # and the database computes it
    assert world.scalar(statement) == D("1001234.56")


def test_too_deep_for_sqlite_is_refused_when_compiled(world) -> None:  # type: ignore[no-untyped-def]
    # given an expression whose SQL nests deeper than older SQLite parsers take
    source = "VALUE(TEXT(" * 6 + "amount + 1" + "))" * 6
    resolver = RecordResolver(world.model.tables, "exprSample")
    table = world.model.tables.table("exprSample")
    try:
        column = compile_sql(world.check(source), resolver, dialect=world.dialect)
    except ValidationError as exc:
        # then SQLite refuses it cleanly at compile time, with the reason
        assert world.dialect == "sqlite"
        assert exc.details["kind"] == "too_deep"
        assert "too deeply for SQLite" in exc.message
        return
    # or (PostgreSQL, newer SQLite) it runs
    assert world.scalar(sa.select(column).where(table.c.id == world.ids["base"])) == D("1235.56")
