"""Size and nesting limits, checked before an expression is type-checked, evaluated or compiled."""

from __future__ import annotations

from dataclasses import dataclass

from tessera.model.expressions.errors import expression_error, pos_at
from tessera.model.expressions.syntax import Node, deepest_path


@dataclass(frozen=True)
class ExpressionLimits:
    max_length: int = 4_000
    """Characters of source text."""
    max_depth: int = 32
    """Nesting of calls and operators: ``a + b * c`` is 3 deep, ``IF(a, b, c)`` 2."""
    max_nodes: int = 500
    """Literals, field references, calls and operators together."""
    max_path_hops: int = 5
    """Lookups one field path may traverse (``account.owner.name`` traverses 2)."""


DEFAULT_LIMITS = ExpressionLimits()


def check_length(source: str, limits: ExpressionLimits) -> None:
    if len(source) > limits.max_length:
        raise expression_error(
            pos_at(source, limits.max_length),
            f"expression is too long: {len(source)} characters, at most {limits.max_length}",
            kind="too_long",
        )


def check_tree(root: Node, limits: ExpressionLimits) -> None:
    """Refuse a tree that nests too deeply or has too many nodes, at the first offending node."""
    if root.depth > limits.max_depth:
        culprit = deepest_path(root)[limits.max_depth]
        raise expression_error(
            culprit.pos,
            f"expression nests too deeply: {root.depth} levels, at most {limits.max_depth}",
            kind="too_deep",
        )
    if root.size > limits.max_nodes:
        raise expression_error(
            root.pos,
            f"expression is too large: {root.size} parts, at most {limits.max_nodes}",
            kind="too_large",
        )
