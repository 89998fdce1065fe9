"""Formula measures: arithmetic over other measures of the same report (``won / total * 100``).

The same parsed tree gives SQL (to sort and rank groups by it) and a Python value computed with
exact decimals from the other measures' values, so the figure shown is the same on every database.
Division by zero gives null.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, DivisionByZero, InvalidOperation
from typing import Any

import sqlalchemy as sa

from tessera.core.errors import ValidationError

TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|([A-Za-z][A-Za-z0-9_]*)|(.))")


@dataclass(frozen=True)
class Node:
    op: str
    """``num``, ``ref``, ``neg`` or one of ``+ - * /``."""
    args: tuple[Any, ...]


def parse_formula(text: str, known: set[str], where: str) -> Node:
    tokens = []
    for number, name, other in TOKEN.findall(text):
        if other and other.strip():
            if other not in "+-*/()":
                raise ValidationError(f"{where}: unexpected '{other}'", field=where)
            tokens.append(("op", other))
        elif number:
            tokens.append(("num", number))
        elif name:
            if name not in known:
                raise ValidationError(f"{where}: no measure '{name}' before this one", field=where)
            tokens.append(("ref", name))
    position = 0

    def peek() -> tuple[str, str] | None:
        return tokens[position] if position < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal position
        token = peek()
        if token is None:
            raise ValidationError(f"{where}: the formula ends too early", field=where)
        position += 1
        return token

    def primary() -> Node:
        kind, value = take()
        if kind == "num":
            return Node("num", (Decimal(value),))
        if kind == "ref":
            return Node("ref", (value,))
        if value == "-":
            return Node("neg", (primary(),))
        if value == "(":
            inner = sum_()
            if take() != ("op", ")"):
                raise ValidationError(f"{where}: missing ')'", field=where)
            return inner
        raise ValidationError(f"{where}: unexpected '{value}'", field=where)

    def product() -> Node:
        node = primary()
        while peek() in (("op", "*"), ("op", "/")):
            node = Node(take()[1], (node, primary()))
        return node

    def sum_() -> Node:
        node = product()
        while peek() in (("op", "+"), ("op", "-")):
            node = Node(take()[1], (node, product()))
        return node

    tree = sum_()
    if peek() is not None:
        raise ValidationError(f"{where}: unexpected '{peek()[1]}'", field=where)  # type: ignore[index]
    return tree


def formula_sql(node: Node, measures: Mapping[str, sa.ColumnElement[Any]]) -> sa.ColumnElement[Any]:
    if node.op == "num":
        return sa.literal(float(node.args[0]), sa.Float())
    if node.op == "ref":
        return sa.cast(measures[node.args[0]], sa.Float())
    if node.op == "neg":
        return -formula_sql(node.args[0], measures)
    left, right = (formula_sql(a, measures) for a in node.args)
    if node.op == "/":
        return left / sa.func.nullif(right, 0)
    ops: dict[str, Callable[[Any, Any], Any]] = {"+": lambda a, b: a + b, "-": lambda a, b: a - b,
                                                 "*": lambda a, b: a * b}
    return ops[node.op](left, right)


def formula_value(node: Node, values: Mapping[str, Any]) -> Decimal | None:
    if node.op == "num":
        return node.args[0]
    if node.op == "ref":
        value = values.get(node.args[0])
        return None if value is None else Decimal(value)
    if node.op == "neg":
        inner = formula_value(node.args[0], values)
        return None if inner is None else -inner
    left, right = (formula_value(a, values) for a in node.args)
    if left is None or right is None:
        return None
    try:
        if node.op == "/":
            return left / right if right != 0 else None
        return left + right if node.op == "+" else left - right if node.op == "-" else left * right
    except (DivisionByZero, InvalidOperation):
        return None
