"""The grammar: literals, operator precedence and associativity, positions, and syntax errors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tessera.core.errors import ValidationError
from tessera.model.expressions import parse
from tessera.model.expressions import syntax as s


def shape(node: s.Node) -> str:
    """A compact prefix form of a syntax tree: ``(+ 1 (* 2 3))``."""
    if isinstance(node, s.Literal):
        return repr(node.value) if node.kind != "null" else "NULL"
    if isinstance(node, s.FieldRef):
        return ".".join(node.path)
    if isinstance(node, s.Unary):
        return f"({node.op} {shape(node.operand)})"
    if isinstance(node, s.Binary):
        return f"({node.op} {shape(node.left)} {shape(node.right)})"
    assert isinstance(node, s.Call)
    return f"{node.name}({', '.join(shape(a) for a in node.args)})"


@pytest.mark.parametrize(("source", "expected"), [
    ("1 + 2 * 3", "(+ 1 (* 2 3))"),
    ("(1 + 2) * 3", "(* (+ 1 2) 3)"),
    ("10 - 4 - 3", "(- (- 10 4) 3)"),
    ("8 / 4 / 2", "(/ (/ 8 4) 2)"),
    ("2 ^ 3 ^ 2", "(^ 2 (^ 3 2))"),
    ("-x ^ 2", "(- (^ x 2))"),
    ("2 ^ -1", "(^ 2 (- 1))"),
    ('a & b + 1 & "x"', "(& (& a (+ b 1)) 'x')"),
    ("a + 1 > b & c", "(> (+ a 1) (& b c))"),
    ("NOT a = b", "(NOT (= a b))"),
    ("NOT(a) = b", "(= NOT(a) b)"),
    ("a = NOT(b)", "(= a NOT(b))"),
    ("NOT (a = b) AND c", "(AND NOT((= a b)) c)"),
    ("NOT NOT a", "(NOT (NOT a))"),
    ("a OR b AND c", "(OR a (AND b c))"),
    ("a AND NOT b OR c", "(OR (AND a (NOT b)) c)"),
    ("a && b || c", "(OR (AND a b) c)"),
    ("a == b", "(= a b)"),
    ("a != b", "(<> a b)"),
    ("a <> b", "(<> a b)"),
    ("a <= b", "(<= a b)"),
    ("and(a, b) or Or(c)", "(OR AND(a, b) OR(c))"),
    ("if(a, left(b, 2), NULL)", "IF(a, LEFT(b, 2), NULL)"),
    ("account.owner.name", "account.owner.name"),
    ("TODAY()", "TODAY()"),
    ("a /* why */ + /* multi\nline */ b", "(+ a b)"),
])
def test_precedence_and_associativity(source: str, expected: str) -> None:
    # given a source, when it is parsed, then operators bind as documented
    assert shape(parse(source)) == expected


@pytest.mark.parametrize(("source", "kind", "value"), [
    ("42", "integer", 42),
    ("4.50", "number", Decimal("4.50")),
    ('"say \\"hi\\"\\n"', "text", 'say "hi"\n'),
    ("'it''s'", None, None),
    ("'single \\' quote'", "text", "single ' quote"),
    ('""', "text", ""),
    ("TRUE", "boolean", True),
    ("false", "boolean", False),
    ("Null", "null", None),
    ("#2024-02-29#", "date", date(2024, 2, 29)),
    ("#2024-02-29T10:30:00Z#", "datetime", datetime(2024, 2, 29, 10, 30, tzinfo=UTC)),
    ("#2024-03-01T01:30:00+02:00#", "datetime", datetime(2024, 2, 29, 23, 30, tzinfo=UTC)),
    ("#2024-02-29 10:30:00.25Z#", "datetime", datetime(2024, 2, 29, 10, 30, 0, 250000, tzinfo=UTC)),
])
def test_literals(source: str, kind: str | None, value: object) -> None:
    if kind is None:
        # 'it''s' is two adjacent texts, which is not an expression
        with pytest.raises(ValidationError):
            parse(source)
        return
    node = parse(source)
    assert isinstance(node, s.Literal)
    assert (node.kind, node.value) == (kind, value)


def test_field_names_may_start_with_keywords() -> None:
    # given names that begin like keywords, then they stay field names
    assert shape(parse("android + notes + nullable + trueValue + order_")) == (
        "(+ (+ (+ (+ android notes) nullable) trueValue) order_)"
    )


def test_positions_are_line_and_column() -> None:
    # given a two-line source, then each node knows where it starts (operators at the operator)
    node = parse("IF(a,\n   b + c, d)")
    assert isinstance(node, s.Call)
    plus = node.args[1]
    assert (plus.pos.line, plus.pos.column) == (2, 6)
    assert isinstance(plus, s.Binary)
    assert (plus.left.pos.line, plus.left.pos.column) == (2, 4)
    assert node.depth == 3 and node.size == 6


@pytest.mark.parametrize(("source", "message"), [
    ("1 +", "1:4: unexpected end of expression"),
    ("(1 + 2", "1:7: unexpected end of expression; expected ')'"),
    ("a b", "1:3: unexpected 'b'"),
    ("1 $ 2", "1:3: unexpected character '$'"),
    ("1 < 2 < 3", "1:7: unexpected '<'"),
    ("f(1,)", "1:5: unexpected ')'"),
    ("x.", "1:3: unexpected end of expression; expected a name"),
    ("#2023-02-29#", "1:1: '#2023-02-29#' is not a valid date (#YYYY-MM-DD#) or datetime (#YYYY-MM-DDTHH:MM:SSZ#)"),
    ("#2024-02-29T10:00:00#", "1:1: '#2024-02-29T10:00:00#' is not a valid date"),
    ('"a\\q"', "1:1: unknown escape '\\q' in text"),
    ("99999999999999999999", "1:1: number 99999999999999999999 is too large"),
    ("   ", "1:1: expression is empty"),
    ("a +\n  * b", "2:3: unexpected '*'"),
])
def test_syntax_errors_name_position_and_reason(source: str, message: str) -> None:
    # given bad syntax, when parsed, then a ValidationError on the expression names where and why
    with pytest.raises(ValidationError) as caught:
        parse(source)
    assert caught.value.field == "expression"
    assert caught.value.message.startswith(message)
    assert caught.value.details["kind"] == "syntax"


def test_parentheses_do_not_nest() -> None:
    # given redundant parentheses, then they add no depth
    assert parse("(" * 1000 + "1" + ")" * 1000).depth == 1


def test_deep_input_is_refused_without_recursion() -> None:
    # given 1,300 nested calls and 3,000 unary minus signs (both within the length limit)
    for source in ("F(" * 1300 + "1" + ")" * 1300, "-" * 3000 + "x"):
        # when parsed, then the depth limit refuses it cleanly (no RecursionError)
        with pytest.raises(ValidationError) as caught:
            parse(source)
        assert caught.value.details["kind"] == "too_deep"
