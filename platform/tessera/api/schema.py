"""Assembles a tenant's schema (metadata half + generated data half) and caches the built object.

The built ``graphene.Schema`` is cached per (tenant, metadata version) in each process: never
rebuilt per request, never re-parsed from SDL. A bounded LRU keeps memory flat with many tenants.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import graphene

from tessera.api.data.schema import data_fields
from tessera.api.metadata.schema import MetadataMutation, MetadataQuery
from tessera.model.definitions import TenantMetadata


def build_schema(meta: TenantMetadata) -> graphene.Schema:
    queries, mutations = data_fields(meta)
    query = type("Query", (MetadataQuery,), queries)
    mutation = type("Mutation", (MetadataMutation,), mutations)
    return graphene.Schema(query=query, mutation=mutation, auto_camelcase=True)


class SchemaCache:
    def __init__(self, size: int = 32) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[str, int], Any] = OrderedDict()
        self.builds = 0

    def get(self, meta: TenantMetadata, tenant_id: str) -> graphene.Schema:
        key = (tenant_id, meta.version)
        with self._lock:
            schema = self._items.get(key)
            if schema is not None:
                self._items.move_to_end(key)
                return schema
        schema = build_schema(meta)
        with self._lock:
            self.builds += 1
            self._items[key] = schema
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return schema
