"""Users, roles, permission sets, sharing and record shares; scoped tokens; sessions and login
throttling; field history and the audit log; per-field history tracking; recycle bin retention.

Revision ID: 0003_access
Revises: 0002_validation_rules
"""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0003_access"
down_revision = "0002_validation_rules"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "roles",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("parent_id", sa.String(36), sa.ForeignKey("roles.id", ondelete="CASCADE"), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("tenant_id", "name", name="uq_roles_tenant_name"),
    )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("password_hash", sa.Text, nullable=True))
        batch.add_column(sa.Column("role_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("manager_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("last_login_at", TS, nullable=True))
        batch.create_foreign_key("fk_users_role", "roles", ["role_id"], ["id"], ondelete="SET NULL")
        batch.create_foreign_key("fk_users_manager", "users", ["manager_id"], ["id"], ondelete="SET NULL")
    # Until this revision every user was an administrator; they stay so until an admin says otherwise.
    existing = sa.table("users", sa.column("is_admin", sa.Boolean))
    op.execute(existing.update().values(is_admin=True))
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("scope", sa.String(16), nullable=False, server_default="READ_WRITE"))
        batch.add_column(sa.Column("last_used_at", TS, nullable=True))
    with op.batch_alter_table("object_defs") as batch:
        batch.add_column(sa.Column("sharing", sa.String(24), nullable=False, server_default="PUBLIC_READ_WRITE"))
    op.create_table(
        "permission_sets",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("description", sa.JSON, nullable=True),
        sa.Column("origin", sa.String(63), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("tenant_id", "name", name="uq_permission_sets_tenant_name"),
    )
    op.create_table(
        "object_permissions",
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
    op.create_table(
        "field_permissions",
        sa.Column("permission_set_id", sa.String(36), sa.ForeignKey("permission_sets.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("field_id", sa.String(36), sa.ForeignKey("field_defs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("can_read", sa.Boolean, nullable=False),
        sa.Column("can_edit", sa.Boolean, nullable=False),
    )
    _standard_user_sets()
    op.create_table(
        "user_permission_sets",
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("permission_set_id", sa.String(36), sa.ForeignKey("permission_sets.id", ondelete="CASCADE"),
                  primary_key=True),
    )
    op.create_table(
        "record_shares",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("object_id", sa.String(36), sa.ForeignKey("object_defs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
        sa.Column("role_id", sa.String(36), sa.ForeignKey("roles.id", ondelete="CASCADE"), nullable=True),
        sa.Column("access", sa.String(8), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("object_id", "record_id", "user_id", "role_id", name="uq_record_shares_grantee"),
    )
    op.create_index("ix_record_shares_user", "record_shares", ["user_id", "object_id"])
    op.create_index("ix_record_shares_role", "record_shares", ["role_id", "object_id"])
    op.create_index("ix_record_shares_record", "record_shares", ["object_id", "record_id"])
    with op.batch_alter_table("field_defs") as batch:
        batch.add_column(sa.Column("track_history", sa.Boolean, nullable=False, server_default=sa.true()))
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("recycle_retention_days", sa.Integer, nullable=False, server_default="30"))
    op.create_table(
        "record_history",
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
        sa.Column("at", TS, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
    )
    op.create_index("ix_record_history_record", "record_history", ["object_id", "record_id", "at"])
    op.create_index("ix_record_history_change", "record_history", ["change_id"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("target", sa.String(200), nullable=True),
        sa.Column("user_id", sa.String(36), nullable=True),
        sa.Column("address", sa.String(64), nullable=True),
        sa.Column("details", sa.JSON, nullable=True),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_audit_events_tenant_at", "audit_events", ["tenant_id", "at"])
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
    )
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(300), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("window_started_at", TS, nullable=False),
        sa.Column("locked_until", TS, nullable=True),
    )


def _standard_user_sets() -> None:
    """Give every existing tenant the ``standardUser`` set new tenants start with."""
    conn = op.get_bind()
    tenants = sa.table("tenants", sa.column("id", sa.String))
    objects = sa.table("object_defs", sa.column("id", sa.String), sa.column("tenant_id", sa.String),
                       sa.column("origin", sa.String))
    sets = sa.table("permission_sets", sa.column("id", sa.String), sa.column("tenant_id", sa.String),
                    sa.column("name", sa.String), sa.column("labels", sa.JSON), sa.column("description", sa.JSON),
                    sa.column("origin", sa.String), sa.column("created_at", TS), sa.column("updated_at", TS))
    grants = sa.table("object_permissions", *[sa.column(c) for c in (
        "permission_set_id", "object_id", "can_read", "can_create", "can_edit", "can_delete", "view_all", "modify_all")])
    now = datetime.now(UTC)
    for (tenant_id,) in conn.execute(sa.select(tenants.c.id)).all():
        set_id = str(uuid.uuid4())
        conn.execute(sets.insert().values(
            id=set_id, tenant_id=tenant_id, name="standardUser", labels={"en": "Standard user", "zh": "标准用户"},
            description=None, origin="standard", created_at=now, updated_at=now,
        ))
        standard = conn.execute(sa.select(objects.c.id).where(
            objects.c.tenant_id == tenant_id, objects.c.origin == "standard")).scalars().all()
        if standard:
            conn.execute(grants.insert(), [
                {"permission_set_id": set_id, "object_id": object_id, "can_read": True, "can_create": True,
                 "can_edit": True, "can_delete": True, "view_all": False, "modify_all": False}
                for object_id in standard
            ])


def downgrade() -> None:
    for table in ("login_throttle", "sessions", "audit_events", "record_history", "record_shares", "user_permission_sets", "field_permissions",
                  "object_permissions", "permission_sets"):
        op.drop_table(table)
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("recycle_retention_days")
    with op.batch_alter_table("field_defs") as batch:
        batch.drop_column("track_history")
    with op.batch_alter_table("object_defs") as batch:
        batch.drop_column("sharing")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("scope")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("fk_users_manager", type_="foreignkey")
        batch.drop_constraint("fk_users_role", type_="foreignkey")
        for column in ("last_login_at", "is_admin", "manager_id", "role_id", "password_hash"):
            batch.drop_column(column)
    op.drop_table("roles")
