"""Approval processes and requests in the admin API: processes are defined by administrators; any
user submits records they may edit, decides what awaits them, and reads the history of records
they can read."""

from __future__ import annotations

from typing import Any

import graphene

from tessera.api.inputs import service_mutation
from tessera.api.scalars import JSON, DateTime
from tessera.core.errors import NotFound
from tessera.model.access import Action
from tessera.model.definitions import ApprovalProcessDef
from tessera.services.automation import approval_history, approvals
from tessera.services.automation import approval_processes as processes
from tessera.storage.types import iso_datetime


class ApproverType(graphene.Enum):
    ROLE = "ROLE"
    MANAGER_CHAIN = "MANAGER_CHAIN"
    USERS = "USERS"


class ApprovalStatus(graphene.Enum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    RECALLED = "RECALLED"


class ApprovalDecision(graphene.Enum):
    """A step row's state: SKIPPED when another approver of the step decided first."""

    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    SKIPPED = "SKIPPED"
    RECALLED = "RECALLED"


class ApprovalApprovers(graphene.ObjectType):
    type = graphene.Field(ApproverType, required=True)
    role = graphene.String(description="ROLE: any active user with this role approves.")
    levels = graphene.Int(description="MANAGER_CHAIN: how many managers up the submitter's chain approve, in turn.")
    users = graphene.List(graphene.NonNull(graphene.ID), description="USERS: any of them approves.")


class ApprovalProcess(graphene.ObjectType):
    object = graphene.String(required=True)
    name = graphene.String(required=True)
    description = graphene.String()
    active = graphene.Boolean(required=True)
    entry_condition = graphene.String(name="entryCondition")
    approvers = graphene.Field(ApprovalApprovers, required=True)
    on_submit = graphene.Field(JSON, required=True, name="onSubmit")
    on_approve = graphene.Field(JSON, required=True, name="onApprove")
    on_reject = graphene.Field(JSON, required=True, name="onReject")
    lock_record = graphene.Boolean(required=True, name="lockRecord")
    origin = graphene.String(required=True)

    @staticmethod
    def resolve_object(root: ApprovalProcessDef, info: Any) -> str:
        return root.object_name

    @staticmethod
    def resolve_approvers(root: ApprovalProcessDef, info: Any) -> dict[str, Any]:
        return dict(root.approvers)

    @staticmethod
    def resolve_on_submit(root: ApprovalProcessDef, info: Any) -> dict[str, Any]:
        return dict(root.on_submit)

    @staticmethod
    def resolve_on_approve(root: ApprovalProcessDef, info: Any) -> dict[str, Any]:
        return dict(root.on_approve)

    @staticmethod
    def resolve_on_reject(root: ApprovalProcessDef, info: Any) -> dict[str, Any]:
        return dict(root.on_reject)


class ApprovalStep(graphene.ObjectType):
    step = graphene.Int(required=True)
    approver_id = graphene.ID(name="approverId", description="Who was asked (null: an administrator stepped in).")
    decided_by = graphene.ID(name="decidedBy")
    decision = graphene.Field(ApprovalDecision, required=True)
    comment = graphene.String()
    created_at = DateTime(required=True, name="createdAt")
    decided_at = DateTime(name="decidedAt")

    @staticmethod
    def resolve_created_at(root: approval_history.ApprovalStep, info: Any) -> str:
        return iso_datetime(root.created_at)

    @staticmethod
    def resolve_decided_at(root: approval_history.ApprovalStep, info: Any) -> str | None:
        return iso_datetime(root.decided_at) if root.decided_at else None


class ApprovalRequest(graphene.ObjectType):
    id = graphene.ID(required=True)
    process = graphene.String(required=True)
    object = graphene.String(required=True)
    record_id = graphene.ID(required=True, name="recordId")
    status = graphene.Field(ApprovalStatus, required=True)
    step = graphene.Int(required=True, description="The step awaiting a decision (or the last one decided).")
    submitted_by = graphene.ID(name="submittedBy")
    submitted_at = DateTime(required=True, name="submittedAt")
    completed_at = DateTime(name="completedAt")
    comment = graphene.String(description="The submitter's comment.")
    current_approvers = graphene.List(graphene.NonNull(graphene.ID), required=True, name="currentApprovers")
    steps = graphene.List(graphene.NonNull(ApprovalStep), required=True)

    @staticmethod
    def resolve_object(root: approval_history.ApprovalRequest, info: Any) -> str:
        return root.object_name

    @staticmethod
    def resolve_submitted_at(root: approval_history.ApprovalRequest, info: Any) -> str:
        return iso_datetime(root.submitted_at)

    @staticmethod
    def resolve_completed_at(root: approval_history.ApprovalRequest, info: Any) -> str | None:
        return iso_datetime(root.completed_at) if root.completed_at else None

    @staticmethod
    def resolve_steps(root: approval_history.ApprovalRequest, info: Any) -> list[approval_history.ApprovalStep]:
        return list(root.steps)


class ApproversInput(graphene.InputObjectType):
    type = ApproverType(required=True)
    role = graphene.String(description="ROLE: the role's name.")
    levels = graphene.Int(description="MANAGER_CHAIN: 1 to 10 (default 1).")
    users = graphene.List(graphene.NonNull(graphene.ID), description="USERS: user ids.")


def _process_input(name: str, *, create: bool) -> type[graphene.InputObjectType]:
    updates = "Field → value set on the record (values as in record inputs)."
    return type(name, (graphene.InputObjectType,), {
        "object": graphene.String(required=True),
        "name": graphene.String(required=True, description="camelCase, unique in the tenant."),
        "description": graphene.String(),
        "active": graphene.Boolean(description="Default true."),
        "entryCondition": graphene.String(description="A boolean expression the record must meet to be submitted."),
        "approvers": ApproversInput(required=create),
        "onSubmit": JSON(description=updates),
        "onApprove": JSON(description=updates),
        "onReject": JSON(description=updates),
        "lockRecord": graphene.Boolean(description="Lock the record while pending (default true)."),
    })


CreateApprovalProcessInput = _process_input("CreateApprovalProcessInput", create=True)
UpdateApprovalProcessInput = _process_input("UpdateApprovalProcessInput", create=False)


class ApprovalQuery(graphene.ObjectType):
    approval_processes = graphene.List(graphene.NonNull(ApprovalProcess), required=True, name="approvalProcesses",
                                       object=graphene.String(required=True), description="An object's processes.")
    approval_requests = graphene.List(
        graphene.NonNull(ApprovalRequest), required=True, name="approvalRequests",
        object=graphene.String(), record_id=graphene.ID(name="recordId"), status=ApprovalStatus(),
        first=graphene.Int(default_value=50),
        description="Approval history, newest first: a record's requests (if you can read it), else yours.",
    )
    pending_approvals = graphene.List(graphene.NonNull(ApprovalRequest), required=True, name="pendingApprovals",
                                      first=graphene.Int(default_value=50),
                                      description="Requests awaiting your decision, oldest first.")

    @staticmethod
    def resolve_approval_processes(root: Any, info: Any, object: str) -> list[ApprovalProcessDef]:
        ctx = info.context
        obj = ctx.model.meta.object(object)
        if obj is None or not ctx.access.can(obj, Action.READ):
            raise NotFound(f"object: no object '{object}'", field="object")
        return list(obj.approval_processes)

    @staticmethod
    def resolve_approval_requests(
        root: Any, info: Any, object: str | None = None, record_id: str | None = None, status: Any = None,
        first: int = 50,
    ) -> list[approval_history.ApprovalRequest]:
        ctx = info.context
        return approval_history.list_approval_requests(
            ctx.rt, ctx.actor, object_name=object, record_id=record_id,
            status=getattr(status, "value", status), first=first)

    @staticmethod
    def resolve_pending_approvals(root: Any, info: Any, first: int = 50) -> list[approval_history.ApprovalRequest]:
        ctx = info.context
        return approval_history.pending_approvals(ctx.rt, ctx.actor, first=first)


def _request_mutation(service: Any, description: str, **args: Any) -> graphene.Field:
    """A mutation on approval requests taking plain arguments, handed to ``service`` as a dict."""

    def resolve(root: Any, info: Any, **given: Any) -> Any:
        ctx = info.context
        ctx.end_read()
        return service(ctx.rt, ctx.actor, given)

    return graphene.Field(graphene.NonNull(ApprovalRequest), resolver=resolve, description=description, **args)


class ApprovalMutation(graphene.ObjectType):
    create_approval_process = service_mutation(processes.create_approval_process, CreateApprovalProcessInput,
                                               ApprovalProcess, "Define an approval process (administrators).")
    update_approval_process = service_mutation(processes.update_approval_process, UpdateApprovalProcessInput,
                                               ApprovalProcess, "Change an approval process (keys given).")
    delete_approval_process = graphene.Field(
        graphene.NonNull(ApprovalProcess), object=graphene.String(required=True), name=graphene.String(required=True),
        description="Delete a process no record was submitted to (otherwise deactivate it).")
    submit_for_approval = _request_mutation(
        approvals.submit_for_approval, "Submit a record you may edit for approval.",
        object=graphene.String(required=True), recordId=graphene.ID(required=True),
        process=graphene.String(description="Default: the first active process whose entry condition holds."),
        comment=graphene.String())
    approve_request = _request_mutation(approvals.approve_request, "Approve a request awaiting you.",
                                        id=graphene.ID(required=True), comment=graphene.String())
    reject_request = _request_mutation(approvals.reject_request, "Reject a request awaiting you.",
                                       id=graphene.ID(required=True), comment=graphene.String())
    recall_approval_request = _request_mutation(approvals.recall_approval_request,
                                                "Withdraw a pending request you submitted.", id=graphene.ID(required=True))

    @staticmethod
    def resolve_delete_approval_process(root: Any, info: Any, object: str, name: str) -> ApprovalProcessDef:
        ctx = info.context
        ctx.end_read()
        return processes.delete_approval_process(ctx.rt, ctx.actor, {"object": object, "name": name})
