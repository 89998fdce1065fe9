"""Execution: results precompiled by the record reader pass through graphql-core untouched.

graphql-core still parses, validates and reports errors; a resolver that has already built the
response shape for its whole subtree returns ``Precompiled`` and graphql-core does not walk it
leaf by leaf (that walk costs ~3 µs per leaf, several times the SQL itself).
"""

from __future__ import annotations

from typing import Any

from graphql import ExecutionContext


class Precompiled:
    """A finished response subtree (plain dicts, lists and JSON scalars)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class TesseraExecutionContext(ExecutionContext):
    def complete_value(self, return_type, field_nodes, info, path, result):  # type: ignore[no-untyped-def]
        if type(result) is Precompiled:
            return result.value
        return super().complete_value(return_type, field_nodes, info, path, result)
