"""Message templates: text with ``{{ expression }}`` holes filled from the record.

``Deal {{ name }} closes on {{ closeDate }}`` — each hole is an expression of the expression
language, checked when the workflow is saved and evaluated against the record when it runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tessera.core.errors import ValidationError
from tessera.model.definitions import TenantMetadata
from tessera.model.expressions import CheckedExpression, Context, check_for_object

HOLE = re.compile(r"\{\{(.*?)\}\}", re.S)
MAX_TEMPLATE = 5_000


@dataclass(frozen=True)
class Template:
    """Literal parts and checked holes, alternating: ``parts[0] hole[0] parts[1] ...``."""

    parts: tuple[str, ...]
    holes: tuple[CheckedExpression, ...]

    @property
    def references(self) -> set[tuple[str, ...]]:
        return {path for hole in self.holes for path in hole.references}

    def render(self, value_of: Callable[[CheckedExpression], Any]) -> str:
        out = [self.parts[0]]
        for hole, text in zip(self.holes, self.parts[1:], strict=True):
            value = value_of(hole)
            out.append("" if value is None else _text(value))
            out.append(text)
        return "".join(out)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def check_template(source: str, meta: TenantMetadata, object_name: str, where: str) -> Template:
    """Check every hole of ``source``; errors name ``where`` (the input field) and the hole."""
    if len(source) > MAX_TEMPLATE:
        raise ValidationError(f"{where}: at most {MAX_TEMPLATE} characters", field=where.split(".")[0])
    parts: list[str] = []
    holes: list[CheckedExpression] = []
    position = 0
    for match in HOLE.finditer(source):
        parts.append(source[position:match.start()])
        try:
            holes.append(check_for_object(match.group(1).strip(), meta, object_name, Context.ACTION))
        except ValidationError as exc:
            raise ValidationError(f"{where}: in {{{{{match.group(1).strip()}}}}}: {exc.message}",
                                  field=where.split(".")[0]) from None
        position = match.end()
    parts.append(source[position:])
    if "{{" in parts[-1]:
        raise ValidationError(f"{where}: '{{{{' without a closing '}}}}'", field=where.split(".")[0])
    return Template(tuple(parts), tuple(holes))
