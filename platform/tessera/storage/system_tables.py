"""System tables: the platform's own rows (tenants, users, tokens, metadata definitions).

They live in ``main`` on SQLite and in the system schema on PostgreSQL (reached through the
connection's ``search_path``), and are migrated with Alembic (``migrations/``).
"""

from __future__ import annotations

import sqlalchemy as sa

from tessera.storage.types import UTCDateTime

metadata = sa.MetaData()


tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("slug", sa.String(32), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("schema_name", sa.String(63), nullable=False, unique=True),
    sa.Column("metadata_version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("recycle_retention_days", sa.Integer, nullable=False, server_default="30"),
    sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
    sa.Column("fiscal_year_start_month", sa.Integer, nullable=False, server_default="1"),
)

roles = sa.Table(
    "roles",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(63), nullable=False),
    sa.Column("labels", sa.JSON, nullable=False),
    sa.Column("parent_id", sa.String(36), sa.ForeignKey("roles.id", ondelete="CASCADE"), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("tenant_id", "name", name="uq_roles_tenant_name"),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("password_hash", sa.Text, nullable=True),
    sa.Column("role_id", sa.String(36), sa.ForeignKey("roles.id", ondelete="SET NULL", name="fk_users_role"),
              nullable=True),
    sa.Column("manager_id", sa.String(36), sa.ForeignKey("users.id", ondelete="SET NULL", name="fk_users_manager"),
              nullable=True),
    sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("last_login_at", UTCDateTime(), nullable=True),
    sa.UniqueConstraint("tenant_id", "email", name="uq_users_tenant_email"),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=True),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
    sa.Column("scope", sa.String(16), nullable=False, server_default="READ_WRITE"),
    sa.Column("last_used_at", UTCDateTime(), nullable=True),
)

object_defs = sa.Table(
    "object_defs",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(63), nullable=False),
    sa.Column("plural_name", sa.String(63), nullable=False),
    sa.Column("labels", sa.JSON, nullable=False),
    sa.Column("plural_labels", sa.JSON, nullable=False),
    sa.Column("description", sa.JSON, nullable=True),
    sa.Column("origin", sa.String(63), nullable=False),
    sa.Column("table_name", sa.String(63), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("tenant_id", "name", name="uq_object_defs_tenant_name"),
    sa.UniqueConstraint("tenant_id", "plural_name", name="uq_object_defs_tenant_plural"),
    sa.Column("sharing", sa.String(24), nullable=False, server_default="PUBLIC_READ_WRITE"),
)

field_defs = sa.Table(
    "field_defs",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column(
        "object_id", sa.String(36), sa.ForeignKey("object_defs.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("name", sa.String(63), nullable=False),
    sa.Column("column_name", sa.String(63), nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("labels", sa.JSON, nullable=False),
    sa.Column("description", sa.JSON, nullable=True),
    sa.Column("help_text", sa.JSON, nullable=True),
    sa.Column("required", sa.Boolean, nullable=False),
    sa.Column("is_unique", sa.Boolean, nullable=False),
    sa.Column("indexed", sa.Boolean, nullable=False),
    sa.Column("read_only", sa.Boolean, nullable=False),
    sa.Column("default_value", sa.JSON, nullable=True),
    sa.Column("options", sa.JSON, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("origin", sa.String(63), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("default_expression", sa.Text, nullable=True),
    sa.Column("track_history", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.UniqueConstraint("object_id", "name", name="uq_field_defs_object_name"),
)

validation_rules = sa.Table(
    "validation_rules",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column(
        "object_id", sa.String(36), sa.ForeignKey("object_defs.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("name", sa.String(63), nullable=False),
    sa.Column("expression", sa.Text, nullable=False),
    sa.Column("message", sa.JSON, nullable=False),
    sa.Column("error_field", sa.String(63), nullable=True),
    sa.Column("description", sa.JSON, nullable=True),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("origin", sa.String(63), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("object_id", "name", name="uq_validation_rules_object_name"),
)

sequences = sa.Table(
    "sequences",
    metadata,
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("name", sa.String(140), primary_key=True),
    sa.Column("next_value", sa.BigInteger, nullable=False),
)

permission_sets = sa.Table(
    "permission_sets",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(63), nullable=False),
    sa.Column("labels", sa.JSON, nullable=False),
    sa.Column("description", sa.JSON, nullable=True),
    sa.Column("origin", sa.String(63), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("tenant_id", "name", name="uq_permission_sets_tenant_name"),
)

object_permissions = sa.Table(
    "object_permissions",
    metadata,
    sa.Column("permission_set_id", sa.String(36), sa.ForeignKey("permission_sets.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("object_id", sa.String(36), sa.ForeignKey("object_defs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("can_read", sa.Boolean, nullable=False),
    sa.Column("can_create", sa.Boolean, nullable=False),
    sa.Column("can_edit", sa.Boolean, nullable=False),
    sa.Column("can_delete", sa.Boolean, nullable=False),
    sa.Column("view_all", sa.Boolean, nullable=False),
    sa.Column("modify_all", sa.Boolean, nullable=False),
)

field_permissions = sa.Table(
    "field_permissions",
    metadata,
    sa.Column("permission_set_id", sa.String(36), sa.ForeignKey("permission_sets.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("field_id", sa.String(36), sa.ForeignKey("field_defs.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("can_read", sa.Boolean, nullable=False),
    sa.Column("can_edit", sa.Boolean, nullable=False),
)

user_permission_sets = sa.Table(
    "user_permission_sets",
    metadata,
    sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("permission_set_id", sa.String(36), sa.ForeignKey("permission_sets.id", ondelete="CASCADE"),
              primary_key=True),
)

record_shares = sa.Table(
    "record_shares",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("object_id", sa.String(36), sa.ForeignKey("object_defs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("record_id", sa.String(36), nullable=False),
    sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
    sa.Column("role_id", sa.String(36), sa.ForeignKey("roles.id", ondelete="CASCADE"), nullable=True),
    sa.Column("access", sa.String(8), nullable=False),
    sa.Column("created_by", sa.String(36), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("object_id", "record_id", "user_id", "role_id", name="uq_record_shares_grantee"),
    sa.Index("ix_record_shares_user", "user_id", "object_id"),
    sa.Index("ix_record_shares_role", "role_id", "object_id"),
    sa.Index("ix_record_shares_record", "object_id", "record_id"),
)

login_throttle = sa.Table(
    "login_throttle",
    metadata,
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("window_started_at", UTCDateTime(), nullable=False),
    sa.Column("locked_until", UTCDateTime(), nullable=True),
)

record_history = sa.Table(
    "record_history",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("object_id", sa.String(36), sa.ForeignKey("object_defs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("record_id", sa.String(36), nullable=False),
    sa.Column("action", sa.String(8), nullable=False),
    sa.Column("field", sa.String(63), nullable=True),
    sa.Column("old_value", sa.JSON, nullable=True),
    sa.Column("new_value", sa.JSON, nullable=True),
    sa.Column("user_id", sa.String(36), nullable=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("change_id", sa.String(36), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Index("ix_record_history_record", "object_id", "record_id", "at"),
    sa.Index("ix_record_history_change", "change_id"),
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("target", sa.String(200), nullable=True),
    sa.Column("user_id", sa.String(36), nullable=True),
    sa.Column("address", sa.String(64), nullable=True),
    sa.Column("details", sa.JSON, nullable=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Index("ix_audit_events_tenant_at", "tenant_id", "at"),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
)

plugin_installs = sa.Table(
    "plugin_installs",
    metadata,
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("plugin", sa.String(63), primary_key=True),
    sa.Column("version", sa.String(32), nullable=False),
    sa.Column("installed_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

# --- automation: workflows, state machines, approvals, jobs ------------------------------------

workflows = sa.Table(
    "workflows",
    metadata,
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
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("tenant_id", "name", name="uq_workflows_tenant_name"),
)

workflow_versions = sa.Table(
    "workflow_versions",
    metadata,
    sa.Column("workflow_id", sa.String(36), sa.ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("definition", sa.JSON, nullable=False),
    sa.Column("created_by", sa.String(36), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

workflow_runs = sa.Table(
    "workflow_runs",
    metadata,
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
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    sa.Column("duration_ms", sa.Integer, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("run_key", sa.String(255), nullable=False, unique=True),
    sa.Index("ix_workflow_runs_workflow", "tenant_id", "workflow_id", "started_at"),
)

workflow_schedules = sa.Table(
    "workflow_schedules",
    metadata,
    sa.Column("workflow_id", sa.String(36), sa.ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("last_fired_at", UTCDateTime(), nullable=True),
    sa.Column("checked_until", UTCDateTime(), nullable=True),
)

assignment_cursors = sa.Table(
    "assignment_cursors",
    metadata,
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("name", sa.String(140), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),
)

state_machines = sa.Table(
    "state_machines",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("object_id", sa.String(36), sa.ForeignKey("object_defs.id", ondelete="CASCADE"), nullable=False),
    sa.Column("field_name", sa.String(63), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("transitions", sa.JSON, nullable=False),
    sa.Column("required_fields", sa.JSON, nullable=False),
    sa.Column("origin", sa.String(63), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("object_id", "field_name", name="uq_state_machines_object_field"),
)

approval_processes = sa.Table(
    "approval_processes",
    metadata,
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
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("tenant_id", "name", name="uq_approval_processes_tenant_name"),
)

approval_requests = sa.Table(
    "approval_requests",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("process_id", sa.String(36), sa.ForeignKey("approval_processes.id", ondelete="CASCADE"), nullable=False),
    sa.Column("object_name", sa.String(63), nullable=False),
    sa.Column("record_id", sa.String(36), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("submitted_by", sa.String(36), nullable=True),
    sa.Column("submitted_at", UTCDateTime(), nullable=False),
    sa.Column("completed_at", UTCDateTime(), nullable=True),
    sa.Column("comment", sa.Text, nullable=True),
    sa.Index("ix_approval_requests_record", "tenant_id", "record_id", "status"),
    # At most one pending request per record, even when two submissions race.
    sa.Index("uq_approval_requests_pending", "tenant_id", "record_id", unique=True,
             sqlite_where=sa.text("status = 'PENDING'"), postgresql_where=sa.text("status = 'PENDING'")),
)

approval_steps = sa.Table(
    "approval_steps",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("request_id", sa.String(36), sa.ForeignKey("approval_requests.id", ondelete="CASCADE"), nullable=False),
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("approver_id", sa.String(36), nullable=True),
    sa.Column("decided_by", sa.String(36), nullable=True),
    sa.Column("decision", sa.String(16), nullable=False),
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("decided_at", UTCDateTime(), nullable=True),
    sa.Index("ix_approval_steps_approver", "tenant_id", "approver_id", "decision"),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=True),
    sa.Column("kind", sa.String(63), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("job_key", sa.String(255), nullable=False, unique=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("max_attempts", sa.Integer, nullable=False),
    sa.Column("available_at", UTCDateTime(), nullable=False),
    sa.Column("dispatched_at", UTCDateTime(), nullable=True),
    sa.Column("lease_until", UTCDateTime(), nullable=True),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index("ix_outbox_status_available", "status", "available_at"),
    sa.Index("ix_outbox_tenant_created", "tenant_id", "created_at"),
)

notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("body", sa.Text, nullable=True),
    sa.Column("object_name", sa.String(63), nullable=True),
    sa.Column("record_id", sa.String(36), nullable=True),
    sa.Column("source", sa.String(140), nullable=False),
    sa.Column("dedupe_key", sa.String(255), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("read_at", UTCDateTime(), nullable=True),
    sa.Index("ix_notifications_user", "tenant_id", "user_id", "created_at"),
)

email_messages = sa.Table(
    "email_messages",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("recipients", sa.JSON, nullable=False),
    sa.Column("subject", sa.String(300), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("source", sa.String(140), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("sent_at", UTCDateTime(), nullable=True),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
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
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("delivered_at", UTCDateTime(), nullable=True),
    sa.Column("duration_ms", sa.Integer, nullable=True),
    sa.Index("ix_webhook_deliveries_workflow", "tenant_id", "workflow_id", "created_at"),
)

# --- reports and dashboards -------------------------------------------------------------------------

reports = sa.Table(
    "reports",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(63), nullable=False),
    sa.Column("labels", sa.JSON, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("object_name", sa.String(63), nullable=False),
    sa.Column("definition", sa.JSON, nullable=False),
    sa.Column("origin", sa.String(63), nullable=False),
    sa.Column("snapshot_cron", sa.String(100), nullable=True),
    sa.Column("snapshot_fired_at", UTCDateTime(), nullable=True),
    sa.Column("created_by", sa.String(36), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("tenant_id", "name", name="uq_reports_tenant_name"),
)

dashboards = sa.Table(
    "dashboards",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(63), nullable=False),
    sa.Column("labels", sa.JSON, nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    sa.Column("filters", sa.JSON, nullable=False),
    sa.Column("widgets", sa.JSON, nullable=False),
    sa.Column("origin", sa.String(63), nullable=False),
    sa.Column("created_by", sa.String(36), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("tenant_id", "name", name="uq_dashboards_tenant_name"),
)

dashboard_roles = sa.Table(
    "dashboard_roles",
    metadata,
    sa.Column("dashboard_id", sa.String(36), sa.ForeignKey("dashboards.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("role_id", sa.String(36), sa.ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
)

report_snapshots = sa.Table(
    "report_snapshots",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("report_id", sa.String(36), sa.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
    sa.Column("taken_at", UTCDateTime(), nullable=False),
    sa.Column("columns", sa.JSON, nullable=False),
    sa.Column("rows", sa.JSON, nullable=False),
    sa.Column("totals", sa.JSON, nullable=False),
    sa.Column("row_count", sa.Integer, nullable=False),
    sa.UniqueConstraint("report_id", "taken_at", name="uq_report_snapshots_report_time"),
)

# --- connectors (issue 8) ---------------------------------------------------------------------------

connectors = sa.Table(
    "connectors",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(63), nullable=False),
    sa.Column("plugin", sa.String(63), nullable=False),
    sa.Column("provider", sa.String(63), nullable=False),
    sa.Column("config", sa.JSON, nullable=False),
    sa.Column("secrets", sa.Text, nullable=True),
    sa.Column("target_object", sa.String(63), nullable=False),
    sa.Column("match_key", sa.String(63), nullable=False),
    sa.Column("mapping", sa.JSON, nullable=True),
    sa.Column("schedule", sa.String(100), nullable=True),
    sa.Column("schedule_fired_at", UTCDateTime(), nullable=True),
    sa.Column("run_as", sa.String(36), sa.ForeignKey("users.id", ondelete="SET NULL", name="fk_connectors_run_as"),
              nullable=True),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("cursor", sa.Text, nullable=True),
    sa.Column("created_by", sa.String(36), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.UniqueConstraint("tenant_id", "name", name="uq_connectors_tenant_name"),
)

connector_runs = sa.Table(
    "connector_runs",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("connector_id", sa.String(36), sa.ForeignKey("connectors.id", ondelete="CASCADE"), nullable=False),
    sa.Column("trigger", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    sa.Column("pages", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated", sa.Integer, nullable=False, server_default="0"),
    sa.Column("unchanged", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("error_samples", sa.JSON, nullable=False),
    sa.Column("counts", sa.JSON, nullable=False),
    sa.Column("started_by", sa.String(36), nullable=True),
    sa.Column("job_key", sa.String(255), nullable=True),
    sa.Index("ix_connector_runs_connector", "connector_id", "started_at"),
)

connector_records = sa.Table(
    "connector_records",
    metadata,
    sa.Column("connector_id", sa.String(36), sa.ForeignKey("connectors.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("object_name", sa.String(63), primary_key=True),
    sa.Column("external_key", sa.String(255), primary_key=True),
    sa.Column("record_id", sa.String(36), nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("synced_at", UTCDateTime(), nullable=False),
)
