"""The untyped syntax tree the parser builds: literals, field paths, calls and operators, with positions.

Every node records its nesting ``depth`` and node count ``size`` when it is built (bottom-up, without
recursion), so limits are checked before anything walks the tree recursively.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Pos:
    """A place in the source: 1-based line and column, 0-based character offset."""

    line: int
    column: int
    offset: int

    def __str__(self) -> str:
        return f"{self.line}:{self.column}"


@dataclass(frozen=True, kw_only=True)
class Node:
    pos: Pos
    depth: int = 1
    size: int = 1

    def children(self) -> tuple[Node, ...]:
        return ()


@dataclass(frozen=True, kw_only=True)
class Literal(Node):
    """``kind`` is one of text, integer, number, boolean, date, datetime, null."""

    kind: str
    value: Any


@dataclass(frozen=True, kw_only=True)
class FieldRef(Node):
    """A field, or a lookup path such as ``account.owner.name``; one position per segment."""

    path: tuple[str, ...]
    segment_pos: tuple[Pos, ...]


@dataclass(frozen=True, kw_only=True)
class Call(Node):
    """A function call; ``name`` is upper-cased, ``written`` is how the source spelled it."""

    name: str
    written: str
    args: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.args


@dataclass(frozen=True, kw_only=True)
class Unary(Node):
    """``op`` is ``-``, ``+`` or ``NOT``; ``pos`` is the operator's position."""

    op: str
    operand: Node

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(frozen=True, kw_only=True)
class Binary(Node):
    """``op`` is canonical (``=``, ``<>``, ``AND``, ``OR``, ``&``, ``+``, ...); ``pos`` is the operator's."""

    op: str
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


def measured(children: tuple[Node, ...]) -> dict[str, int]:
    """The ``depth`` and ``size`` of a node with these children."""
    return {
        "depth": 1 + max((c.depth for c in children), default=0),
        "size": 1 + sum(c.size for c in children),
    }


def deepest_path(root: Node) -> list[Node]:
    """Nodes from the root down along the deepest branch (iterative: safe on any depth)."""
    path = [root]
    node = root
    while node.children():
        node = max(node.children(), key=lambda c: c.depth)
        path.append(node)
    return path
