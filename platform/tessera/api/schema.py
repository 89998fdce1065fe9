"""Assembles a tenant's schema (metadata half + generated data half) and caches the built object.

The built ``graphene.Schema`` is cached per (tenant, metadata version, permission profile) in each
process: never rebuilt per request, never re-parsed from SDL. Users with the same permission sets
share one schema; a bounded LRU keeps memory flat with many tenants and profiles.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import graphene
from graphql import GraphQLSchema

from tessera.api.audit.schema import AuditMutation, AuditQuery
from tessera.api.automation.approvals import ApprovalMutation, ApprovalQuery
from tessera.api.automation.state_machines import StateMachineMutation, StateMachineQuery
from tessera.api.automation.workflows import WorkflowMutation, WorkflowQuery
from tessera.api.connectors.schema import ConnectorMutation, ConnectorQuery
from tessera.api.data.schema import data_fields
from tessera.api.metadata.schema import MetadataMutation, MetadataQuery
from tessera.api.plugins.schema import PluginsMutation, PluginsQuery, extension_fields
from tessera.api.reports.schema import ReportMutation, ReportQuery
from tessera.api.security.schema import SecurityMutation, SecurityQuery
from tessera.model.access import ADMIN, PermissionProfile, visible_metadata
from tessera.model.definitions import TenantMetadata
from tessera.plugin_host import PluginHost


@dataclass(frozen=True)
class TenantSchema:
    """A built schema and the metadata it shows (a permission profile's view of the tenant's)."""

    schema: graphene.Schema
    meta: TenantMetadata

    @property
    def graphql_schema(self) -> GraphQLSchema:
        return self.schema.graphql_schema


def build_schema(
    meta: TenantMetadata, profile: PermissionProfile = ADMIN, host: PluginHost | None = None
) -> TenantSchema:
    visible = visible_metadata(meta, profile)
    queries, mutations = data_fields(visible, profile)
    if host is not None:
        extra_queries, extra_mutations = extension_fields(host, meta)
        queries = {**extra_queries, **queries}
        mutations = {**extra_mutations, **mutations}
    query = type("Query", (MetadataQuery, SecurityQuery, AuditQuery, PluginsQuery,
                           StateMachineQuery, ApprovalQuery, WorkflowQuery, ReportQuery, ConnectorQuery), queries)
    mutation = type("Mutation", (MetadataMutation, SecurityMutation, AuditMutation, PluginsMutation,
                                 StateMachineMutation, ApprovalMutation, WorkflowMutation, ReportMutation,
                                 ConnectorMutation), mutations)
    return TenantSchema(graphene.Schema(query=query, mutation=mutation, auto_camelcase=True), visible)


class SchemaCache:
    def __init__(self, size: int = 32, host: PluginHost | None = None) -> None:
        self._host = host
        self._size = size
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[str, int, str], TenantSchema] = OrderedDict()
        self.builds = 0

    def get(self, meta: TenantMetadata, tenant_id: str, profile: PermissionProfile = ADMIN) -> TenantSchema:
        key = (tenant_id, meta.version, profile.key)
        with self._lock:
            schema = self._items.get(key)
            if schema is not None:
                self._items.move_to_end(key)
                return schema
        schema = build_schema(meta, profile, self._host)
        with self._lock:
            self.builds += 1
            self._items[key] = schema
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return schema
