"""Parsing and validating GraphQL documents, with a bounded cache of validated documents."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, validate

from tessera.api.limits import check_document
from tessera.core.config import Limits
from tessera.core.errors import LimitExceeded


class DocumentCache:
    """Validated documents per (schema, query text); parse and validation errors are cached too."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[int, str], tuple[GraphQLSchema, DocumentNode | None, Any]] = OrderedDict()

    def get(self, schema: GraphQLSchema, query: str, limits: Limits) -> DocumentNode:
        """The validated document, or raise: ``LimitExceeded`` or a list of ``GraphQLError`` via ``InvalidDocument``."""
        key = (id(schema), query)
        with self._lock:
            entry = self._items.get(key)
            # NOTE: an id can be reused once a schema is garbage-collected; the entry keeps its
            # schema alive and must be that very schema to count as a hit.
            if entry is not None and entry[0] is schema:
                self._items.move_to_end(key)
            else:
                entry = None
        if entry is None:
            entry = (schema, *self._compile(schema, query, limits))
            with self._lock:
                self._items[key] = entry
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
        _, document, problem = entry
        if isinstance(problem, LimitExceeded):
            raise problem
        if problem:
            raise InvalidDocument(problem)
        assert document is not None
        return document

    @staticmethod
    def _compile(schema: GraphQLSchema, query: str, limits: Limits) -> tuple[DocumentNode | None, Any]:
        try:
            document = parse(query, max_tokens=limits.max_tokens)
        except GraphQLError as exc:
            if "tokens" in exc.message and "more than" in exc.message:
                return None, LimitExceeded(f"the query has more than {limits.max_tokens} tokens")
            return None, [exc]
        try:
            check_document(document, limits)
        except LimitExceeded as exc:
            return None, exc
        errors = validate(schema, document)
        return (document, errors) if errors else (document, [])


class InvalidDocument(Exception):
    def __init__(self, errors: list[GraphQLError]) -> None:
        super().__init__(errors[0].message)
        self.errors = errors
