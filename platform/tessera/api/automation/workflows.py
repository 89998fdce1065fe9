"""Workflows in GraphQL: definitions (administrators), manual runs, the run log, webhook deliveries,
background jobs (administrators) and each user's own notifications."""

from __future__ import annotations

from typing import Any

import graphene

from tessera.api.inputs import plain, service_mutation
from tessera.api.scalars import JSON, DateTime
from tessera.core.errors import Forbidden, NotFound, ValidationError
from tessera.core.ids import is_uuid, new_id
from tessera.model.access import Action
from tessera.model.exports import export_workflow
from tessera.services.automation import notifications as notification_service
from tessera.services.automation import outbox as outbox_service
from tessera.services.automation import workflows as workflow_service
from tessera.services.automation.outbox import enqueue
from tessera.services.automation.runs import list_runs, run_key
from tessera.services.automation.triggers import WORKFLOW_JOB, workflow_job
from tessera.services.automation.webhooks import list_deliveries


def _admin(info: Any, what: str) -> Any:
    ctx = info.context
    if not ctx.access.profile.is_admin:
        raise Forbidden(f"only administrators see {what}")
    return ctx


class WorkflowEvent(graphene.Enum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    DELETED = "DELETED"
    SCHEDULED = "SCHEDULED"
    DATE_RELATIVE = "DATE_RELATIVE"
    MANUAL = "MANUAL"


class WorkflowRunStatus(graphene.Enum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


class JobStatus(graphene.Enum):
    PENDING = "PENDING"
    DISPATCHED = "DISPATCHED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"


class WorkflowTriggerInput(graphene.InputObjectType):
    event = graphene.Field(WorkflowEvent, required=True)
    fields = graphene.List(graphene.NonNull(graphene.String), description="UPDATED: only when one of these changes.")
    # camelCase attribute names: the input reaches the services as a dict keyed by them.
    conditionBecomesTrue = graphene.Boolean(
        description="UPDATED: only when the condition was false before the change.")
    cron = graphene.String(description="SCHEDULED: minute hour day month weekday (UTC).")
    dateField = graphene.String(description="DATE_RELATIVE: the date or date-time field.")
    offsetDays = graphene.Int(description="DATE_RELATIVE: days after (negative: before) the date.")


class CreateWorkflowInput(graphene.InputObjectType):
    object = graphene.String(required=True)
    name = graphene.String(required=True)
    description = graphene.String()
    active = graphene.Boolean()
    trigger = graphene.Field(WorkflowTriggerInput, required=True)
    condition = graphene.String(description="An expression; the actions run only when it is TRUE.")
    actions = graphene.List(graphene.NonNull(JSON), required=True,
                            description="Ordered actions: {type: UPDATE_FIELDS|CREATE_RECORD|UPDATE_RELATED|NOTIFY|"
                                        "WEBHOOK|ASSIGN|PLUGIN, ...} (see docs/automation.md).")


class UpdateWorkflowInput(graphene.InputObjectType):
    name = graphene.String(required=True)
    description = graphene.String()
    active = graphene.Boolean()
    trigger = graphene.Field(WorkflowTriggerInput)
    condition = graphene.String()
    actions = graphene.List(graphene.NonNull(JSON))


class WorkflowRun(graphene.ObjectType):
    id = graphene.ID(required=True)
    workflow = graphene.String(required=True)
    version = graphene.Int(required=True)
    object = graphene.String(required=True)
    record_id = graphene.ID(name="recordId")
    trigger = graphene.String(required=True)
    status = graphene.Field(WorkflowRunStatus, required=True)
    triggered_by = graphene.ID(name="triggeredBy")
    depth = graphene.Int(required=True)
    started_at = graphene.Field(DateTime, name="startedAt", required=True)
    finished_at = graphene.Field(DateTime, name="finishedAt")
    duration_ms = graphene.Int(name="durationMs")
    error = graphene.String()

    @staticmethod
    def resolve_object(root: Any, info: Any) -> str:
        return root.object_name


class Workflow(graphene.ObjectType):
    """An automation: trigger + condition + ordered actions (webhook secrets are never shown)."""

    name = graphene.String(required=True)
    object = graphene.String(required=True)
    description = graphene.String()
    active = graphene.Boolean(required=True)
    version = graphene.Int(required=True)
    trigger = graphene.Field(JSON, required=True)
    condition = graphene.String()
    actions = graphene.List(graphene.NonNull(JSON), required=True)
    origin = graphene.String(required=True)
    runs = graphene.List(graphene.NonNull(WorkflowRun), required=True, first=graphene.Int(default_value=20))

    @staticmethod
    def resolve_object(root: Any, info: Any) -> str:
        return root.object_name

    @staticmethod
    def resolve_trigger(root: Any, info: Any) -> Any:
        return export_workflow(root)["trigger"]

    @staticmethod
    def resolve_actions(root: Any, info: Any) -> Any:
        return export_workflow(root)["actions"]

    @staticmethod
    def resolve_runs(root: Any, info: Any, first: int) -> Any:
        ctx = info.context
        with ctx.rt.db.system.connect() as conn:
            return list_runs(conn, ctx.principal.tenant.id, workflow=root.name, first=first)


class WebhookDelivery(graphene.ObjectType):
    id = graphene.ID(required=True, description="Sent as X-Tessera-Delivery; the same on every retry.")
    workflow = graphene.String()
    url = graphene.String(required=True)
    status = graphene.String(required=True, description="PENDING, RETRYING, DELIVERED or FAILED.")
    attempts = graphene.Int(required=True)
    response_status = graphene.Int(name="responseStatus")
    last_error = graphene.String(name="lastError")
    created_at = graphene.Field(DateTime, name="createdAt", required=True)
    delivered_at = graphene.Field(DateTime, name="deliveredAt")
    duration_ms = graphene.Int(name="durationMs")
    body = graphene.String(required=True)


class Notification(graphene.ObjectType):
    id = graphene.ID(required=True)
    title = graphene.String(required=True)
    body = graphene.String()
    object = graphene.String()
    record_id = graphene.ID(name="recordId")
    source = graphene.String(required=True)
    created_at = graphene.Field(DateTime, name="createdAt", required=True)
    read_at = graphene.Field(DateTime, name="readAt")
    read = graphene.Boolean(required=True)

    @staticmethod
    def resolve_object(root: Any, info: Any) -> str | None:
        return root.object_name

    @staticmethod
    def resolve_read(root: Any, info: Any) -> bool:
        return root.read_at is not None


class Job(graphene.ObjectType):
    """A background job of the outbox."""

    id = graphene.ID(required=True)
    kind = graphene.String(required=True)
    key = graphene.String(required=True)
    status = graphene.Field(JobStatus, required=True)
    attempts = graphene.Int(required=True)
    max_attempts = graphene.Int(name="maxAttempts", required=True)
    available_at = graphene.Field(DateTime, name="availableAt", required=True)
    created_at = graphene.Field(DateTime, name="createdAt", required=True)
    finished_at = graphene.Field(DateTime, name="finishedAt")
    last_error = graphene.String(name="lastError")


def _workflows(info: Any) -> list[Any]:
    ctx = _admin(info, "workflows")
    return workflow_service.list_workflows(ctx.model.meta.objects)


class WorkflowQuery(graphene.ObjectType):
    workflows = graphene.List(graphene.NonNull(Workflow), required=True, object=graphene.String(),
                              description="Workflows (administrators).")
    workflow = graphene.Field(Workflow, name=graphene.String(required=True))
    workflow_runs = graphene.List(
        graphene.NonNull(WorkflowRun), required=True, name="workflowRuns", workflow=graphene.String(),
        record_id=graphene.ID(name="recordId"), status=WorkflowRunStatus(), first=graphene.Int(default_value=50),
        description="The run log, newest first (administrators).")
    webhook_deliveries = graphene.List(
        graphene.NonNull(WebhookDelivery), required=True, name="webhookDeliveries", workflow=graphene.String(),
        status=graphene.String(), first=graphene.Int(default_value=50))
    notifications = graphene.List(graphene.NonNull(Notification), required=True,
                                  unread_only=graphene.Boolean(name="unreadOnly", default_value=False),
                                  first=graphene.Int(default_value=50), description="Your notifications, newest first.")
    unread_notifications = graphene.Int(required=True, name="unreadNotifications")
    jobs = graphene.List(graphene.NonNull(Job), required=True, status=JobStatus(), first=graphene.Int(default_value=50),
                         description="The tenant's background jobs, newest first (administrators).")

    @staticmethod
    def resolve_workflows(root: Any, info: Any, object: str | None = None) -> Any:
        found = _workflows(info)
        return [w for w in found if object is None or w.object_name == object]

    @staticmethod
    def resolve_workflow(root: Any, info: Any, name: str) -> Any:
        return next((w for w in _workflows(info) if w.name == name), None)

    @staticmethod
    def resolve_workflow_runs(root: Any, info: Any, first: int, workflow: str | None = None,
                              record_id: str | None = None, status: Any = None) -> Any:
        ctx = _admin(info, "workflow runs")
        with ctx.rt.db.system.connect() as conn:
            return list_runs(conn, ctx.principal.tenant.id, workflow=workflow, record_id=record_id,
                             status=plain(status), first=first)

    @staticmethod
    def resolve_webhook_deliveries(root: Any, info: Any, first: int, workflow: str | None = None,
                                   status: str | None = None) -> Any:
        ctx = _admin(info, "webhook deliveries")
        with ctx.rt.db.system.connect() as conn:
            return list_deliveries(conn, ctx.principal.tenant.id, workflow=workflow, status=status, first=first)

    @staticmethod
    def resolve_notifications(root: Any, info: Any, unread_only: bool, first: int) -> Any:
        ctx = info.context
        if ctx.principal.user_id is None:
            return []
        with ctx.rt.db.system.connect() as conn:
            return notification_service.list_notifications(
                conn, ctx.principal.tenant.id, ctx.principal.user_id, unread_only=unread_only, first=first)

    @staticmethod
    def resolve_unread_notifications(root: Any, info: Any) -> int:
        ctx = info.context
        if ctx.principal.user_id is None:
            return 0
        with ctx.rt.db.system.connect() as conn:
            return notification_service.unread_count(conn, ctx.principal.tenant.id, ctx.principal.user_id)

    @staticmethod
    def resolve_jobs(root: Any, info: Any, first: int, status: Any = None) -> Any:
        ctx = _admin(info, "background jobs")
        return outbox_service.list_jobs(ctx.rt, tenant_id=ctx.principal.tenant.id, status=plain(status), first=first)


def _create(rt: Any, actor: Any, data: dict[str, Any]) -> Any:
    return workflow_service.create_workflow(rt, actor, data)


def _update(rt: Any, actor: Any, data: dict[str, Any]) -> Any:
    return workflow_service.update_workflow(rt, actor, data)


class DeleteWorkflow(graphene.Mutation):
    class Arguments:
        name = graphene.String(required=True)

    Output = graphene.NonNull(Workflow)

    @staticmethod
    def mutate(root: Any, info: Any, name: str) -> Any:
        ctx = info.context
        ctx.end_read()
        return workflow_service.delete_workflow(ctx.rt, ctx.actor, name)


class RunWorkflow(graphene.Mutation):
    """Run a MANUAL workflow for a record you can see; returns the run once it finished (in-process)
    or was queued (with workers)."""

    class Arguments:
        name = graphene.String(required=True)
        record_id = graphene.ID(name="recordId", required=True)

    Output = graphene.NonNull(graphene.String)

    @staticmethod
    def mutate(root: Any, info: Any, name: str, record_id: str) -> str:
        ctx = info.context
        workflow = next((w for o in ctx.model.meta.objects for w in o.workflows if w.name == name), None)
        if workflow is None or not workflow.active or workflow.event != "MANUAL":
            raise NotFound(f"no active manual workflow '{name}'", field="name")
        obj = ctx.model.meta.by_name[workflow.object_name]
        if not ctx.access.can(obj, Action.READ) or not is_uuid(record_id) or not ctx.records(
            obj.name, fields=["id"], filter={"id": {"eq": record_id}}
        ):
            raise NotFound(f"no {obj.name} with id {record_id}", field="recordId")
        ctx.end_read()
        key = run_key(workflow, record_id, f"MANUAL:{new_id()}")
        with ctx.rt.write(ctx.principal.tenant) as conn:
            if not enqueue(conn, tenant_id=ctx.principal.tenant.id, kind=WORKFLOW_JOB, key=key,
                           payload=workflow_job(workflow, record_id, "MANUAL", ctx.principal.user_id, 0)):
                raise ValidationError("this run is already queued", field="name")
        return key


class MarkNotificationsRead(graphene.Mutation):
    """Mark your notifications read (all unread ones when ids is omitted); returns how many changed."""

    class Arguments:
        ids = graphene.List(graphene.NonNull(graphene.ID))

    Output = graphene.NonNull(graphene.Int)

    @staticmethod
    def mutate(root: Any, info: Any, ids: list[str] | None = None) -> int:
        ctx = info.context
        if ctx.principal.user_id is None:
            return 0
        with ctx.rt.system_write() as conn:
            return notification_service.mark_read(conn, ctx.principal.tenant.id, ctx.principal.user_id, ids)


class RequeueJobs(graphene.Mutation):
    """Give failed jobs (these, or all of the tenant's) a fresh set of attempts (administrators)."""

    class Arguments:
        ids = graphene.List(graphene.NonNull(graphene.ID))

    Output = graphene.NonNull(graphene.Int)

    @staticmethod
    def mutate(root: Any, info: Any, ids: list[str] | None = None) -> int:
        ctx = _admin(info, "background jobs")
        ctx.end_read()
        return outbox_service.requeue(ctx.rt, ids, tenant_id=ctx.principal.tenant.id)


class WorkflowMutation(graphene.ObjectType):
    create_workflow = service_mutation(_create, CreateWorkflowInput, Workflow, "Create a workflow (administrators).")
    update_workflow = service_mutation(_update, UpdateWorkflowInput, Workflow,
                                       "Change a workflow: the keys given; each change is a new version.")
    delete_workflow = DeleteWorkflow.Field(description="Delete a workflow (its run log stays).")
    run_workflow = RunWorkflow.Field(description="Run a MANUAL workflow for one record.")
    mark_notifications_read = MarkNotificationsRead.Field()
    requeue_jobs = RequeueJobs.Field()
