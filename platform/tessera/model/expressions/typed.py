"""The typed tree the checker produces and both back ends consume.

Operators are calls too (``+`` is a call of the ``+`` function), so the evaluator and the SQL compiler
each have one way in: a literal, a field, or a call of a resolved signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tessera.model.expressions.syntax import Pos
from tessera.model.expressions.types import ExprType

if TYPE_CHECKING:
    from tessera.model.expressions.functions.spec import FunctionSpec, Signature
    from tessera.model.expressions.scope import FieldInfo


@dataclass(frozen=True, eq=False)
class Typed:
    type: ExprType
    pos: Pos

    def children(self) -> tuple[Typed, ...]:
        return ()


@dataclass(frozen=True, eq=False)
class TLiteral(Typed):
    value: Any


@dataclass(frozen=True, eq=False)
class TField(Typed):
    info: FieldInfo

    @property
    def path(self) -> tuple[str, ...]:
        return self.info.path


@dataclass(frozen=True, eq=False)
class TCall(Typed):
    spec: FunctionSpec
    signature: Signature
    args: tuple[Typed, ...]

    def children(self) -> tuple[Typed, ...]:
        return self.args


def walk(node: Typed) -> list[Typed]:
    """Every node of a (depth-limited) typed tree, parents first."""
    out = [node]
    for child in node.children():
        out.extend(walk(child))
    return out
