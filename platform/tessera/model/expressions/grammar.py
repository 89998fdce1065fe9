"""The grammar (lark, LALR) and ``parse(source)``: source text to an untyped syntax tree.

The tree is built while parsing (an inline transformer), bottom-up and without recursion, so even
hostile input cannot exhaust the Python stack before the limits refuse it.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from tessera.core.errors import ValidationError
from tessera.model.expressions import syntax as s
from tessera.model.expressions.errors import expression_error, pos_at
from tessera.model.expressions.limits import DEFAULT_LIMITS, ExpressionLimits, check_length, check_tree
from tessera.model.expressions.values import parse_date, parse_datetime_literal

GRAMMAR = r"""
?start: expr
?expr: or_expr
?or_expr: and_expr | or_expr OR and_expr -> binary
?and_expr: not_expr | and_expr AND not_expr -> binary
?not_expr: comparison | NOT not_expr -> unary
?comparison: concat | concat COMPARE concat -> binary
?concat: additive | concat AMP additive -> binary
?additive: multiplicative | additive ADDOP multiplicative -> binary
?multiplicative: unary | multiplicative MULOP unary -> binary
?unary: power | ADDOP unary -> unary
?power: atom | atom CARET unary -> binary
?atom: INT -> integer
     | DECIMAL -> decimal
     | STRING -> string
     | DATE_LITERAL -> date_literal
     | TRUE -> boolean
     | FALSE -> boolean
     | NULL -> null
     | NAME LPAR [arguments] RPAR -> call
     | AND LPAR [arguments] RPAR -> call
     | OR LPAR [arguments] RPAR -> call
     | NOTCALL LPAR [arguments] RPAR -> call
     | path
     | LPAR expr RPAR -> group
path: NAME (DOT NAME)*
arguments: expr (COMMA expr)*

OR.3: /or\b/i | "||"
AND.3: /and\b/i | "&&"
NOTCALL.4: /not(?=\s*\()/i
NOT.3: /not\b/i
TRUE.3: /true\b/i
FALSE.3: /false\b/i
NULL.3: /null\b/i
COMPARE: "==" | "!=" | "<>" | "<=" | ">=" | "=" | "<" | ">"
AMP: "&"
ADDOP: "+" | "-"
MULOP: "*" | "/"
CARET: "^"
LPAR: "("
RPAR: ")"
COMMA: ","
DOT: "."
NAME: /[A-Za-z_][A-Za-z0-9_]*/
DECIMAL.2: /[0-9]+\.[0-9]+/
INT: /[0-9]+/
STRING: /"(?:[^"\\\n]|\\.)*"/ | /'(?:[^'\\\n]|\\.)*'/
DATE_LITERAL: /#[^#\n]*#/
COMMENT: /\/\*(.|\n)*?\*\//
%ignore /\s+/
%ignore COMMENT
"""

CANONICAL_OPS = {"==": "=", "!=": "<>", "&&": "AND", "||": "OR"}
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}
MAX_INTEGER = 2**63 - 1
MAX_NUMBER_DIGITS = 30
TOKEN_WORDS = {
    "RPAR": "')'", "LPAR": "'('", "COMMA": "','", "DOT": "'.'", "NAME": "a name", "INT": "a number",
    "DECIMAL": "a number", "STRING": "a text", "COMPARE": "a comparison", "ADDOP": "'+' or '-'",
    "MULOP": "'*' or '/'", "AMP": "'&'", "CARET": "'^'", "AND": "AND", "OR": "OR", "NOT": "NOT",
    "$END": "the end",
}


def _pos(token: Token) -> s.Pos:
    return s.Pos(token.line or 1, token.column or 1, token.start_pos or 0)


def _unescape(token: Token) -> str:
    body = token[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt not in ESCAPES:
                raise expression_error(_pos(token), f"unknown escape '\\{nxt}' in text", kind="syntax")
            out.append(ESCAPES[nxt])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


class _Builder(Transformer[Token, s.Node]):
    """Turns parse events into syntax nodes (runs inside the LALR parser, bottom-up)."""

    def integer(self, children: list[Token]) -> s.Node:
        (token,) = children
        value = int(token)
        if value > MAX_INTEGER:
            raise expression_error(_pos(token), f"number {token} is too large", kind="syntax")
        return s.Literal(pos=_pos(token), kind="integer", value=value)

    def decimal(self, children: list[Token]) -> s.Node:
        (token,) = children
        if len(token) - 1 > MAX_NUMBER_DIGITS:
            raise expression_error(_pos(token), f"number {token} has too many digits", kind="syntax")
        return s.Literal(pos=_pos(token), kind="number", value=Decimal(str(token)))

    def string(self, children: list[Token]) -> s.Node:
        (token,) = children
        return s.Literal(pos=_pos(token), kind="text", value=_unescape(token))

    def date_literal(self, children: list[Token]) -> s.Node:
        (token,) = children
        text = token[1:-1].strip()
        if len(text) == 10:
            value: Any = parse_date(text)
            kind = "date"
        else:
            value = parse_datetime_literal(text)
            kind = "datetime"
        if value is None:
            raise expression_error(
                _pos(token),
                f"'{token}' is not a valid date (#YYYY-MM-DD#) or datetime (#YYYY-MM-DDTHH:MM:SSZ#)",
                kind="syntax",
            )
        return s.Literal(pos=_pos(token), kind=kind, value=value)

    def boolean(self, children: list[Token]) -> s.Node:
        (token,) = children
        return s.Literal(pos=_pos(token), kind="boolean", value=token.type == "TRUE")

    def null(self, children: list[Token]) -> s.Node:
        (token,) = children
        return s.Literal(pos=_pos(token), kind="null", value=None)

    def path(self, children: list[Token]) -> s.Node:
        names = [t for t in children if t.type == "NAME"]
        return s.FieldRef(
            pos=_pos(names[0]), path=tuple(str(t) for t in names), segment_pos=tuple(_pos(t) for t in names)
        )

    def arguments(self, children: list[Any]) -> tuple[s.Node, ...]:
        return tuple(c for c in children if isinstance(c, s.Node))

    def call(self, children: list[Any]) -> s.Node:
        name = children[0]
        args = next((c for c in children[1:] if isinstance(c, tuple)), ())
        canonical = CANONICAL_OPS.get(str(name), str(name).upper())
        return s.Call(pos=_pos(name), name=canonical, written=str(name), args=args, **s.measured(args))

    def group(self, children: list[Any]) -> s.Node:
        return children[1]

    def unary(self, children: list[Any]) -> s.Node:
        op, operand = children
        text = "NOT" if op.type == "NOT" else str(op)
        return s.Unary(pos=_pos(op), op=text, operand=operand, **s.measured((operand,)))

    def binary(self, children: list[Any]) -> s.Node:
        left, op, right = children
        text = str(op).upper() if op.type in ("AND", "OR") else str(op)
        return s.Binary(
            pos=_pos(op), op=CANONICAL_OPS.get(text, text), left=left, right=right, **s.measured((left, right))
        )


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", transformer=_Builder(), maybe_placeholders=False)


def parse(source: str, limits: ExpressionLimits = DEFAULT_LIMITS) -> s.Node:
    """Parse ``source`` into a syntax tree; refuse bad syntax or breached limits with the position."""
    if not isinstance(source, str):
        raise ValidationError("expression must be a text", field="expression")
    check_length(source, limits)
    if not source.strip():
        raise expression_error(pos_at(source, 0), "expression is empty", kind="syntax")
    try:
        tree = _parser().parse(source)
    except ValidationError:
        raise
    except UnexpectedInput as exc:
        raise _syntax_error(source, exc) from None
    check_tree(tree, limits)
    return tree


def _syntax_error(source: str, exc: UnexpectedInput) -> ValidationError:
    if isinstance(exc, UnexpectedCharacters):
        pos = pos_at(source, exc.pos_in_stream)
        return expression_error(pos, f"unexpected character '{source[exc.pos_in_stream]}'", kind="syntax")
    if isinstance(exc, UnexpectedEOF):
        return expression_error(pos_at(source, len(source)), "unexpected end of expression", kind="syntax")
    assert isinstance(exc, UnexpectedToken)
    token = exc.token
    if token.type == "$END":
        pos = pos_at(source, len(source.rstrip()))
        found = "end of expression"
    else:
        pos = _pos(token)
        found = f"'{token}'"
    expected = sorted({TOKEN_WORDS.get(name, name) for name in exc.expected if name in TOKEN_WORDS})
    hint = f"; expected {', '.join(expected)}" if expected and len(expected) <= 4 else ""
    return expression_error(pos, f"unexpected {found}{hint}", kind="syntax")
