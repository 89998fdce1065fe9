"""Request limits checked before execution: depth, aliases (tokens and size are checked earlier)."""

from __future__ import annotations

from graphql.language import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from tessera.core.config import Limits
from tessera.core.errors import LimitExceeded

INTROSPECTION_ROOTS = {"__schema", "__type"}


def check_document(document: DocumentNode, limits: Limits) -> None:
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            aliases = _count_aliases(definition.selection_set, fragments, set(), limits.max_aliases)
            if aliases > limits.max_aliases:
                raise LimitExceeded(f"the query uses {aliases} aliases; at most {limits.max_aliases} are allowed")
            depth = _depth(definition.selection_set, fragments, set())
            if depth > limits.max_depth:
                raise LimitExceeded(f"the query is {depth} levels deep; at most {limits.max_depth} are allowed")


def _count_aliases(
    selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode], visiting: set[str],
    limit: int,
) -> int:
    """Aliases as executed: a fragment spread counts its fragment's aliases each time it is used.

    Counting stops just past ``limit`` so that fragments spread many times cannot make it slow.
    """
    if selection_set is None:
        return 0
    count = 0
    for selection in selection_set.selections:
        if count > limit:
            break
        if isinstance(selection, FieldNode):
            count += selection.alias is not None
            count += _count_aliases(selection.selection_set, fragments, visiting, limit - count)
        elif isinstance(selection, InlineFragmentNode):
            count += _count_aliases(selection.selection_set, fragments, visiting, limit - count)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in visiting or name not in fragments:
                continue
            count += _count_aliases(fragments[name].selection_set, fragments, visiting | {name}, limit - count)
    return count


def _depth(selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode], visiting: set[str]) -> int:
    if selection_set is None:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value in INTROSPECTION_ROOTS:
                continue
            deepest = max(deepest, 1 + _depth(selection.selection_set, fragments, visiting))
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, fragments, visiting))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in visiting or name not in fragments:
                continue  # cycles and unknown fragments are reported by validation
            deepest = max(deepest, _depth(fragments[name].selection_set, fragments, visiting | {name}))
    return deepest
