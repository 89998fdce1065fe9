"""The SQL back end: a typed tree compiled to one SQLAlchemy expression for SQLite or PostgreSQL.

``compile_sql(expr, resolver, dialect=...)`` never builds joins itself: the resolver turns each field
path into SQL (a column, a joined column, a correlated subquery), so the caller decides.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from tessera.core.clock import utcnow
from tessera.model.expressions.checker import CheckedExpression
from tessera.model.expressions.errors import expression_error
from tessera.model.expressions.sqlkit import DIALECTS, SQLITE, Resolver, SqlCall, SqlContext, retype, sql_type
from tessera.model.expressions.typed import TCall, TField, TLiteral, Typed

SQLITE_CHECK_DEPTH = 5
"""Expressions this deep or deeper are test-parsed for SQLite (see ``_check_sqlite_parses``)."""


def compile_sql(
    expr: CheckedExpression | Typed,
    resolver: Resolver,
    *,
    dialect: str,
    now: datetime | None = None,
) -> sa.ColumnElement[Any]:
    """SQL computing ``expr`` per row; ``now`` fixes what TODAY() and NOW() mean (default: now).

    The result carries the SQLAlchemy type of the expression's type, so selecting it yields the
    same Python values the evaluator returns (NUMBER as Decimal, DATETIME aware in UTC).
    """
    if dialect not in DIALECTS:
        raise ValueError(f"expressions compile for {', '.join(DIALECTS)}, not {dialect}")
    tree = expr.tree if isinstance(expr, CheckedExpression) else expr
    ctx = SqlContext(dialect=dialect, now=now or utcnow(), resolver=resolver)
    column = retype(_compile(tree, ctx), sql_type(tree.type))
    if dialect == SQLITE and _depth(tree) >= SQLITE_CHECK_DEPTH:
        _check_sqlite_parses(column, tree)
    return column


def _compile(node: Typed, ctx: SqlContext) -> sa.ColumnElement[Any]:
    if isinstance(node, TLiteral):
        return ctx.literal(node.value, node.type)
    if isinstance(node, TField):
        return ctx.resolver(node.path)
    assert isinstance(node, TCall)
    impl = node.signature.sql_for(ctx.dialect)
    if impl is None:
        raise expression_error(node.pos, f"{node.spec.name} cannot be computed in SQL", kind="not_allowed")
    args = [_compile(arg, ctx) for arg in node.args]
    return impl(SqlCall(ctx, node, args))


def _depth(node: Typed) -> int:
    return 1 + max((_depth(c) for c in node.children()), default=0)


def _check_sqlite_parses(column: sa.ColumnElement[Any], tree: Typed) -> None:
    """Refuse SQL that SQLite's parser cannot take, as a ValidationError instead of a failed query.

    SQLite builds such as 3.40 parse with a fixed stack of 100 entries, so very deep SQL fails with
    "parser stack overflow". Preparing the statement on an empty in-memory database parses it (and
    then fails on the unknown tables, which is fine).
    """
    text = str(sa.select(column).compile(dialect=sqlite.dialect()))
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute(f"EXPLAIN {text}")
    except sqlite3.Error as exc:
        if "parser stack overflow" in str(exc):
            raise expression_error(
                tree.pos, "expression nests too deeply for SQLite; simplify it or split it into formula fields",
                kind="too_deep",
            ) from None
    finally:
        probe.close()
