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
