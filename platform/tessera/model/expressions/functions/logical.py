"""Logical functions: IF, CASE, AND, OR, NOT, ISBLANK, BLANKVALUE, NULLVALUE, ISPICKVAL, INCLUDES."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from tessera.model.expressions.functions.spec import HANDLED, INHERIT, FunctionSpec, Signature
from tessera.model.expressions.sqlkit import POSTGRESQL, SQLITE, SqlCall, quoted
from tessera.model.expressions.typed import TCall, TField, TLiteral, Typed
from tessera.model.expressions.types import VALUE_TYPES, ExprType, unify

if TYPE_CHECKING:
    from tessera.model.expressions.evaluator import Evaluation

T = ExprType
Col = sa.ColumnElement[Any]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str | list) and len(value) == 0)


# --- IF / CASE ---------------------------------------------------------------------------
def _py_if(ev: Evaluation, node: TCall) -> Any:
    return ev.eval(node.args[1]) if ev.eval(node.args[0]) is True else ev.eval(node.args[2])


IF = FunctionSpec(
    name="IF", category="logical", usage="IF(condition, then, else)", nulls=HANDLED, special=True,
    exactness=INHERIT, examples=('IF(amount > 1000, "large", "small")',),
    summary="`then` when the condition is TRUE, otherwise (FALSE or null) `else`.",
    signatures=tuple(
        Signature((T.BOOLEAN, t, t), t, _py_if, lambda c: sa.case((c.args[0], c.args[1]), else_=c.args[2]))
        for t in VALUE_TYPES
    ),
)


def _py_case(ev: Evaluation, node: TCall) -> Any:
    args = node.args
    key = ev.eval(args[0])
    if key is not None:
        for i in range(1, len(args) - 1, 2):
            candidate = ev.eval(args[i])
            if candidate is not None and candidate == key:
                return ev.eval(args[i + 1])
    return ev.eval(args[-1])


def _sql_case(c: SqlCall) -> Col:
    count = len(c.args)
    whens = [(c.exact(i), c.args[i + 1]) for i in range(1, count - 1, 2)]
    return sa.case(*whens, value=c.exact(0), else_=c.args[-1])


def _resolve_case(types: Sequence[ExprType]) -> Signature | None:
    if len(types) < 4 or len(types) % 2:
        return None
    key: ExprType | None = types[0]
    for t in types[1:-1:2]:
        key = unify(key, t) if key is not None else None
    result: ExprType | None = types[-1]
    for t in types[2:-1:2]:
        result = unify(result, t) if result is not None else None
    if key is None or result is None or key not in (*VALUE_TYPES, T.PICKLIST, T.NULL):
        return None
    if result not in (*VALUE_TYPES, T.PICKLIST, T.NULL):
        return None
    key = T.TEXT if key in (T.NULL, T.PICKLIST) else key
    result = T.TEXT if result == T.NULL else result
    params = (key, *[p for _ in range((len(types) - 2) // 2) for p in (key, result)], result)
    return Signature(params, result, _py_case, _sql_case)


CASE = FunctionSpec(
    name="CASE", category="logical", usage="CASE(value, match1, result1, ..., else)", nulls=HANDLED,
    special=True, exactness=INHERIT, resolve=_resolve_case,
    examples=('CASE(stage, "won", 1, "lost", 0, 0.5)',),
    summary="The result of the first match equal to `value`, otherwise `else`; a null value matches nothing.",
    signatures=(Signature((T.TEXT, T.TEXT, T.TEXT, T.TEXT), T.TEXT, _py_case, _sql_case, variadic=True),),
)


# --- AND / OR / NOT ----------------------------------------------------------------------
def _py_and(ev: Evaluation, node: TCall) -> bool | None:
    unknown = False
    for arg in node.args:
        value = ev.eval(arg)
        if value is False:
            return False
        unknown = unknown or value is None
    return None if unknown else True


def _py_or(ev: Evaluation, node: TCall) -> bool | None:
    unknown = False
    for arg in node.args:
        value = ev.eval(arg)
        if value is True:
            return True
        unknown = unknown or value is None
    return None if unknown else False


AND = FunctionSpec(
    name="AND", category="logical", usage="a AND b, AND(a, b, ...)", nulls=HANDLED, special=True,
    summary="TRUE when all are TRUE; FALSE when any is FALSE; otherwise null (as in SQL).",
    examples=("AND(active, amount > 0)",),
    signatures=(Signature((T.BOOLEAN,), T.BOOLEAN, _py_and, lambda c: sa.and_(*c.args), variadic=True),),
)
OR = FunctionSpec(
    name="OR", category="logical", usage="a OR b, OR(a, b, ...)", nulls=HANDLED, special=True,
    summary="TRUE when any is TRUE; FALSE when all are FALSE; otherwise null (as in SQL).",
    examples=('OR(ISPICKVAL(stage, "won"), amount > 1000)',),
    signatures=(Signature((T.BOOLEAN,), T.BOOLEAN, _py_or, lambda c: sa.or_(*c.args), variadic=True),),
)
NOT = FunctionSpec(
    name="NOT", category="logical", usage="NOT a, NOT(a)", examples=("NOT(active)",),
    summary="TRUE for FALSE and FALSE for TRUE; null stays null.",
    signatures=(Signature((T.BOOLEAN,), T.BOOLEAN, lambda a: not a, lambda c: sa.not_(c.args[0])),),
)


# --- blanks ------------------------------------------------------------------------------
def _sql_multi_blank(c: SqlCall) -> Col:
    value = c.args[0]
    if c.sqlite:
        length = sa.func.json_array_length(value)
    else:
        length = sa.func.json_array_length(sa.cast(value, postgresql.JSON()))
    return sa.func.coalesce(length, 0) == 0


def _sql_blank(c: SqlCall) -> Col:
    if c.arg_type(0) in (T.TEXT, T.PICKLIST, T.NULL):
        return sa.func.coalesce(c.args[0], quoted("")) == quoted("")
    return c.args[0].is_(None)


ISBLANK = FunctionSpec(
    name="ISBLANK", category="logical", usage="ISBLANK(value)", nulls=HANDLED,
    examples=("ISBLANK(phone)",),
    summary="TRUE when the value is null, empty text, or a multi-select picklist with nothing selected.",
    signatures=(
        Signature((T.TEXT,), T.BOOLEAN, _blank, _sql_blank),
        Signature((T.MULTI_PICKLIST,), T.BOOLEAN, _blank, _sql_multi_blank),
        *(Signature((t,), T.BOOLEAN, _blank, _sql_blank) for t in VALUE_TYPES if t != T.TEXT),
    ),
)


def _sql_blankvalue(c: SqlCall) -> Col:
    value = c.args[0]
    if c.node.type in (T.TEXT, T.PICKLIST):
        value = sa.func.nullif(value, quoted(""))
    return sa.func.coalesce(value, c.args[1])


BLANKVALUE = FunctionSpec(
    name="BLANKVALUE", category="logical", usage="BLANKVALUE(value, substitute)", nulls=HANDLED,
    exactness=INHERIT, examples=('BLANKVALUE(nickname, firstName)',),
    summary="`substitute` when `value` is blank (null or empty text), otherwise `value`.",
    signatures=tuple(
        Signature((t, t), t, lambda a, b: b if _blank(a) else a, _sql_blankvalue) for t in VALUE_TYPES
    ),
)
NULLVALUE = FunctionSpec(
    name="NULLVALUE", category="logical", usage="NULLVALUE(value, substitute)", nulls=HANDLED,
    exactness=INHERIT, examples=("NULLVALUE(discount, 0)",),
    summary="`substitute` when `value` is null, otherwise `value` (empty text is kept).",
    signatures=tuple(
        Signature((t, t), t, lambda a, b: b if a is None else a, lambda c: sa.func.coalesce(*c.args))
        for t in VALUE_TYPES
    ),
)


# --- picklists ---------------------------------------------------------------------------
def _picklist_values(node: Typed) -> tuple[tuple[str, ...], str] | None:
    if isinstance(node, TCall) and node.spec.name == "PRIORVALUE":
        node = node.args[0]
    if isinstance(node, TField) and node.info.picklist_values:
        return node.info.picklist_values, ".".join(node.info.path)
    return None


def _check_option(args: Sequence[Typed]) -> tuple[int, str] | None:
    known = _picklist_values(args[0])
    literal = args[1]
    if known and isinstance(literal, TLiteral) and isinstance(literal.value, str):
        options, name = known
        if literal.value not in options:
            return 1, f"'{literal.value}' is not a value of picklist '{name}' ({', '.join(options)})"
    return None


def _sql_ispickval(c: SqlCall) -> Col:
    return sa.func.coalesce(c.args[0] == c.args[1], sa.false())


ISPICKVAL = FunctionSpec(
    name="ISPICKVAL", category="logical", usage="ISPICKVAL(picklist, value)", nulls=HANDLED,
    validate=_check_option, examples=('ISPICKVAL(stage, "closedWon")',),
    summary="TRUE when the picklist field holds `value`; FALSE otherwise, also when it is null.",
    signatures=(
        Signature((T.PICKLIST, T.TEXT), T.BOOLEAN,
                  lambda a, b: a is not None and b is not None and a == b, _sql_ispickval),
    ),
)


def _sql_includes_sqlite(c: SqlCall) -> Col:
    each = sa.func.json_each(c.args[0]).table_valued("value")
    found = sa.select(sa.literal(1)).select_from(each).where(each.c.value == c.args[1]).correlate_except(each)
    return sa.exists(found)


def _sql_includes_pg(c: SqlCall) -> Col:
    as_jsonb = sa.cast(c.args[0], postgresql.JSONB())
    return sa.func.coalesce(as_jsonb.op("@>", is_comparison=True)(sa.func.jsonb_build_array(c.args[1])), sa.false())


INCLUDES = FunctionSpec(
    name="INCLUDES", category="logical", usage="INCLUDES(multiPicklist, value)", nulls=HANDLED,
    validate=_check_option, examples=('INCLUDES(interests, "golf")',),
    summary="TRUE when the multi-select picklist has `value` selected; FALSE otherwise, also when null.",
    signatures=(
        Signature((T.MULTI_PICKLIST, T.TEXT), T.BOOLEAN,
                  lambda m, x: bool(m) and x is not None and x in m,
                  {SQLITE: _sql_includes_sqlite, POSTGRESQL: _sql_includes_pg}),
    ),
)

SPECS: tuple[FunctionSpec, ...] = (IF, CASE, AND, OR, NOT, ISBLANK, BLANKVALUE, NULLVALUE, ISPICKVAL, INCLUDES)
