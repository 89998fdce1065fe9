"""What a read asks for: a tree of response keys over records, lookups and relations.

The API layer builds it from a GraphQL selection set; the record reader executes it with a
fixed number of statements and returns the response shape directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

VALUE = "value"          # a field or system value of the record
TYPENAME = "typename"    # __typename
LOOKUP = "lookup"        # a lookup field, as the nested target record
RELATION = "relation"    # a reverse relation, as a connection
USER = "user"            # owner / createdBy / updatedBy, as a user


@dataclass
class ListArgs:
    filter: Mapping[str, Any] | None = None
    order_by: Sequence[Mapping[str, str]] | None = None
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


@dataclass
class NodeItem:
    key: str
    kind: str
    name: str
    node: NodeSelection | None = None
    connection: ConnectionSelection | None = None


@dataclass
class NodeSelection:
    object: str
    typename: str
    items: list[NodeItem] = field(default_factory=list)


@dataclass
class ConnectionSelection:
    """A Relay connection: ``items`` are (key, kind) with kinds totalCount, edges, pageInfo, typename."""

    object: str
    typename: str
    args: ListArgs
    items: list[tuple[str, str]] = field(default_factory=list)
    edge_items: list[tuple[str, str]] = field(default_factory=list)   # node, cursor, typename
    page_info_items: list[tuple[str, str]] = field(default_factory=list)
    node: NodeSelection | None = None

    @property
    def wants_total(self) -> bool:
        return any(kind == "totalCount" for _, kind in self.items)

    @property
    def wants_rows(self) -> bool:
        return any(kind in {"edges", "pageInfo"} for _, kind in self.items)
