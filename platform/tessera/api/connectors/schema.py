"""Connectors in GraphQL: instances with masked credentials, runs now, the run log (administrators);
looking entities up in a source and linking one to a record (users)."""

from __future__ import annotations

from typing import Any

import graphene

from tessera.api.inputs import service_mutation
from tessera.api.scalars import JSON, DateTime
from tessera.services.connectors import instances, lookup, runs
from tessera.services.connectors.mapping import dump_mapping


class ConnectorRun(graphene.ObjectType):
    """One sync: counters of the target object (created, updated, unchanged); ``failed`` counts every
    record that failed, of any object; ``counts`` has the numbers per object."""

    id = graphene.ID(required=True)
    connector = graphene.String(required=True)
    trigger = graphene.String(required=True, description="MANUAL, SCHEDULE or CLI.")
    status = graphene.String(required=True, description="RUNNING, SUCCEEDED or FAILED.")
    started_at = graphene.Field(DateTime, name="startedAt", required=True)
    finished_at = graphene.Field(DateTime, name="finishedAt")
    pages = graphene.Int(required=True)
    created = graphene.Int(required=True)
    updated = graphene.Int(required=True)
    unchanged = graphene.Int(required=True)
    failed = graphene.Int(required=True)
    error = graphene.String(description="Why the run failed.")
    error_samples = graphene.List(graphene.NonNull(JSON), name="errorSamples", required=True,
                                  description="Up to 20 failed records: {page, source, object, key, reason}.")
    counts = graphene.Field(JSON, required=True, description="{object: {created, updated, unchanged, failed}}.")


class Connector(graphene.ObjectType):
    """A connection to an external source (credentials in ``config`` show as ********)."""

    name = graphene.String(required=True)
    plugin = graphene.String(required=True)
    provider = graphene.String(required=True)
    config = graphene.Field(JSON, required=True)
    target = graphene.String(required=True)
    match_key = graphene.String(name="matchKey", required=True)
    mapping = graphene.List(graphene.NonNull(JSON), required=True,
                            description="[{field, path, transform}]: the provider's default until edited.")
    mapping_edited = graphene.Boolean(name="mappingEdited", required=True)
    schedule = graphene.String()
    run_as = graphene.ID(name="runAs")
    active = graphene.Boolean(required=True)
    cursor = graphene.String(description="Where the next sync starts.")
    created_at = graphene.Field(DateTime, name="createdAt", required=True)
    updated_at = graphene.Field(DateTime, name="updatedAt", required=True)
    runs = graphene.List(graphene.NonNull(ConnectorRun), required=True, first=graphene.Int(default_value=5))

    @staticmethod
    def resolve_mapping(root: Any, info: Any) -> Any:
        return dump_mapping(root.mapping)

    @staticmethod
    def resolve_runs(root: Any, info: Any, first: int) -> Any:
        ctx = info.context
        return runs.list_runs(ctx.rt, ctx.actor, root.name, first=first)


class CreateConnectorInput(graphene.InputObjectType):
    name = graphene.String(required=True)
    plugin = graphene.String(required=True)
    config = graphene.Field(JSON, required=True, description='e.g. {"source": "https://...", "since": "2024-01-01"}')
    provider = graphene.String(description="The plugin's provider (default: its only one).")
    target = graphene.String()
    matchKey = graphene.String()
    mapping = graphene.List(graphene.NonNull(JSON))
    schedule = graphene.String(description="Cron (UTC) for scheduled runs.")
    runAs = graphene.ID(description="The user whose permissions the sync writes with (default: you).")
    active = graphene.Boolean()


class UpdateConnectorInput(graphene.InputObjectType):
    name = graphene.String(required=True)
    config = graphene.Field(JSON)
    mapping = graphene.List(graphene.NonNull(JSON), description="[] goes back to the provider's default.")
    schedule = graphene.String()
    runAs = graphene.ID()
    active = graphene.Boolean()
    resetCursor = graphene.Boolean(description="Start the next sync from the beginning of the source.")


class ConnectorCandidate(graphene.ObjectType):
    """An entity of a connector's source a user may pick (e.g. a registry entity for an account)."""

    key = graphene.String(required=True, description="What linkExternalRecord takes (an LEI).")
    title = graphene.String(required=True)
    detail = graphene.String(description="One line to tell candidates apart.")
    document = graphene.Field(JSON, required=True)


class ConnectorSearch(graphene.ObjectType):
    candidates = graphene.List(graphene.NonNull(ConnectorCandidate), required=True)
    page = graphene.Int(required=True)
    last_page = graphene.Int(name="lastPage", required=True)
    total = graphene.Int()


class ExternalLink(graphene.ObjectType):
    """What linking a source's record to a record wrote."""

    record = graphene.ID(required=True)
    key = graphene.String(required=True)
    changed = graphene.Boolean(required=True, description="False: the record already matched the source.")
    counts = graphene.Field(JSON, required=True, description="{object: {created, updated, unchanged, failed}}.")


class ConnectorQuery(graphene.ObjectType):
    connectors = graphene.List(graphene.NonNull(Connector), required=True, description="Connectors (administrators).")
    connector = graphene.Field(Connector, name=graphene.String(required=True))
    connector_runs = graphene.List(graphene.NonNull(ConnectorRun), required=True, name="connectorRuns",
                                   connector_name=graphene.String(name="name", required=True),
                                   first=graphene.Int(default_value=20),
                                   description="A connector's runs, newest first (administrators).")

    connector_search = graphene.Field(
        graphene.NonNull(ConnectorSearch), name="connectorSearch", connector_name=graphene.String(name="name", required=True),
        query=graphene.String(required=True), page=graphene.Int(default_value=1),
        description="Look entities up in a connector's source (users who may read its target object).")

    @staticmethod
    def resolve_connector_search(root: Any, info: Any, connector_name: str, query: str, page: int) -> Any:
        ctx = info.context
        return lookup.search_source(ctx.rt, ctx.actor, connector_name, query, page)

    @staticmethod
    def resolve_connectors(root: Any, info: Any) -> Any:
        ctx = info.context
        return instances.list_connectors(ctx.rt, ctx.actor)

    @staticmethod
    def resolve_connector(root: Any, info: Any, name: str) -> Any:
        ctx = info.context
        return instances.get_connector(ctx.rt, ctx.actor, name)

    @staticmethod
    def resolve_connector_runs(root: Any, info: Any, connector_name: str, first: int) -> Any:
        ctx = info.context
        return runs.list_runs(ctx.rt, ctx.actor, connector_name, first=first)


def _update(rt: Any, actor: Any, data: dict[str, Any]) -> Any:
    if "schedule" in data and data["schedule"] == "":
        data["schedule"] = None
    return instances.update_connector(rt, actor, data)


class DeleteConnector(graphene.Mutation):
    class Arguments:
        name = graphene.String(required=True)

    Output = graphene.NonNull(Connector)

    @staticmethod
    def mutate(root: Any, info: Any, name: str) -> Any:
        ctx = info.context
        ctx.end_read()
        return instances.delete_connector(ctx.rt, ctx.actor, name)


class RunConnector(graphene.Mutation):
    """Run a connector now; with in-process jobs the answer is the finished run, with workers the
    run as queued (follow it with connectorRuns)."""

    class Arguments:
        name = graphene.String(required=True)

    Output = graphene.NonNull(ConnectorRun)

    @staticmethod
    def mutate(root: Any, info: Any, name: str) -> Any:
        ctx = info.context
        ctx.end_read()
        started = runs.run_connector(ctx.rt, ctx.actor, name)
        return runs.get_run(ctx.rt, ctx.principal.tenant.id, started.id)


class LinkExternalRecord(graphene.Mutation):
    """Write a source's record (a candidate of connectorSearch) into a record you may edit: its fields,
    with what the source brings along (e.g. risk events), field history with channel ``connector``."""

    class Arguments:
        connector = graphene.String(required=True)
        key = graphene.String(required=True)
        record = graphene.ID(required=True)

    Output = graphene.NonNull(ExternalLink)

    @staticmethod
    def mutate(root: Any, info: Any, connector: str, key: str, record: str) -> Any:
        ctx = info.context
        ctx.end_read()
        done = lookup.link_record(ctx.rt, ctx.actor, connector, key, record)
        return ExternalLink(record=done.record_id, key=done.key, changed=done.changed, counts=dict(done.counts))


class ConnectorMutation(graphene.ObjectType):
    create_connector = service_mutation(instances.create_connector, CreateConnectorInput, Connector,
                                        "Create a connector (administrators).")
    update_connector = service_mutation(_update, UpdateConnectorInput, Connector,
                                        "Change a connector: the keys given (administrators).")
    delete_connector = DeleteConnector.Field(description="Delete a connector; the records it synced stay.")
    run_connector = RunConnector.Field(description="Run a connector now (administrators).")
    link_external_record = LinkExternalRecord.Field(description="Link a source's record to a record.")
