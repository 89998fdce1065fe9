"""Automation: workflows and their runs and schedules, state machines, approvals, the outbox of
background jobs, notifications, e-mail and webhook delivery logs.

Revision ID: 0005_automation
Revises: 0004_plugins
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_automation"
down_revision = "0004_plugins"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)

TABLES = ['webhook_deliveries', 'email_messages', 'notifications', 'outbox', 'approval_steps', 'approval_requests', 'approval_processes', 'state_machines', 'assignment_cursors', 'workflow_schedules', 'workflow_runs', 'workflow_versions', 'workflows']


def upgrade() -> None:
    op.create_table(
        "workflows",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("object_id", sa.String(36), sa.ForeignKey("object_defs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("trigger", sa.JSON, nullable=False),
        sa.Column("condition", sa.Text, nullable=True),
        sa.Column("actions", sa.JSON, nullable=False),
        sa.Column("origin", sa.String(63), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("tenant_id", "name", name="uq_workflows_tenant_name"),
    )

    op.create_table(
        "workflow_versions",
        sa.Column("workflow_id", sa.String(36), sa.ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("definition", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(36), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )

    op.create_table(
        "workflow_runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("workflow_id", sa.String(36), nullable=False),
        sa.Column("workflow_name", sa.String(63), nullable=False),
        sa.Column("workflow_version", sa.Integer, nullable=False),
        sa.Column("object_name", sa.String(63), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=True),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("triggered_by", sa.String(36), nullable=True),
        sa.Column("depth", sa.Integer, nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("duration_ms", sa.Integer, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("run_key", sa.String(255), nullable=False, unique=True),
        sa.Index("ix_workflow_runs_workflow", "tenant_id", "workflow_id", "started_at"),
    )

    op.create_table(
        "workflow_schedules",
        sa.Column("workflow_id", sa.String(36), sa.ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("last_fired_at", TS, nullable=True),
        sa.Column("checked_until", TS, nullable=True),
    )

    op.create_table(
        "assignment_cursors",
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("name", sa.String(140), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
    )

    op.create_table(
        "state_machines",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("object_id", sa.String(36), sa.ForeignKey("object_defs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("field_name", sa.String(63), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("transitions", sa.JSON, nullable=False),
        sa.Column("required_fields", sa.JSON, nullable=False),
        sa.Column("origin", sa.String(63), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("object_id", "field_name", name="uq_state_machines_object_field"),
    )

    op.create_table(
        "approval_processes",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("object_id", sa.String(36), sa.ForeignKey("object_defs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("entry_condition", sa.Text, nullable=True),
        sa.Column("approvers", sa.JSON, nullable=False),
        sa.Column("on_submit", sa.JSON, nullable=False),
        sa.Column("on_approve", sa.JSON, nullable=False),
        sa.Column("on_reject", sa.JSON, nullable=False),
        sa.Column("lock_record", sa.Boolean, nullable=False),
        sa.Column("origin", sa.String(63), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("tenant_id", "name", name="uq_approval_processes_tenant_name"),
    )

    op.create_table(
        "approval_requests",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("process_id", sa.String(36), sa.ForeignKey("approval_processes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("object_name", sa.String(63), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("submitted_by", sa.String(36), nullable=True),
        sa.Column("submitted_at", TS, nullable=False),
        sa.Column("completed_at", TS, nullable=True),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Index("ix_approval_requests_record", "tenant_id", "record_id", "status"),
        sa.Index("uq_approval_requests_pending", "tenant_id", "record_id", unique=True,
                 sqlite_where=sa.text("status = 'PENDING'"), postgresql_where=sa.text("status = 'PENDING'")),
    )

    op.create_table(
        "approval_steps",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("request_id", sa.String(36), sa.ForeignKey("approval_requests.id", ondelete="CASCADE"), nullable=False),
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("approver_id", sa.String(36), nullable=True),
        sa.Column("decided_by", sa.String(36), nullable=True),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("decided_at", TS, nullable=True),
        sa.Index("ix_approval_steps_approver", "tenant_id", "approver_id", "decision"),
    )

    op.create_table(
        "outbox",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=True),
        sa.Column("kind", sa.String(63), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("job_key", sa.String(255), nullable=False, unique=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("max_attempts", sa.Integer, nullable=False),
        sa.Column("available_at", TS, nullable=False),
        sa.Column("dispatched_at", TS, nullable=True),
        sa.Column("lease_until", TS, nullable=True),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Index("ix_outbox_status_available", "status", "available_at"),
        sa.Index("ix_outbox_tenant_created", "tenant_id", "created_at"),
    )

    op.create_table(
        "notifications",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=True),
        sa.Column("object_name", sa.String(63), nullable=True),
        sa.Column("record_id", sa.String(36), nullable=True),
        sa.Column("source", sa.String(140), nullable=False),
        sa.Column("dedupe_key", sa.String(255), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("read_at", TS, nullable=True),
        sa.Index("ix_notifications_user", "tenant_id", "user_id", "created_at"),
    )

    op.create_table(
        "email_messages",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("recipients", sa.JSON, nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("source", sa.String(140), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
    )

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("workflow_id", sa.String(36), nullable=True),
        sa.Column("workflow_name", sa.String(63), nullable=True),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("response_status", sa.Integer, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("delivered_at", TS, nullable=True),
        sa.Column("duration_ms", sa.Integer, nullable=True),
        sa.Index("ix_webhook_deliveries_workflow", "tenant_id", "workflow_id", "created_at"),
    )


def downgrade() -> None:
    for name in TABLES:
        op.drop_table(name)
