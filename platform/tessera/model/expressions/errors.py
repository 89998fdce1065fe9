"""How the expression language refuses: one ``ValidationError`` naming the position and the reason."""

from __future__ import annotations

from tessera.core.errors import ValidationError
from tessera.model.expressions.syntax import Pos

EXPRESSION_FIELD = "expression"


def expression_error(pos: Pos, reason: str, *, kind: str = "invalid") -> ValidationError:
    """``ValidationError("line:column: reason", field="expression")`` with the parts as details."""
    return ValidationError(
        f"{pos}: {reason}",
        field=EXPRESSION_FIELD,
        line=pos.line,
        column=pos.column,
        reason=reason,
        kind=kind,
    )


def pos_at(source: str, offset: int) -> Pos:
    """The position of character ``offset`` of ``source``."""
    offset = max(0, min(offset, len(source)))
    line = source.count("\n", 0, offset) + 1
    start = source.rfind("\n", 0, offset) + 1
    return Pos(line, offset - start + 1, offset)
