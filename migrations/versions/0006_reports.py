"""Reports (with an optional snapshot schedule) and their stored snapshots, dashboards (shared per
role), and the tenant's calendar for reports: time zone and fiscal-year start month.

Revision ID: 0006_reports
Revises: 0005_automation
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_reports"
down_revision = "0005_automation"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)

TABLES = ["report_snapshots", "dashboard_roles", "dashboards", "reports"]


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"))
        batch.add_column(sa.Column("fiscal_year_start_month", sa.Integer, nullable=False, server_default="1"))

    op.create_table(
        "reports",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("object_name", sa.String(63), nullable=False),
        sa.Column("definition", sa.JSON, nullable=False),
        sa.Column("origin", sa.String(63), nullable=False),
        sa.Column("snapshot_cron", sa.String(100), nullable=True),
        sa.Column("snapshot_fired_at", TS, nullable=True),
        sa.Column("created_by", sa.String(36), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("tenant_id", "name", name="uq_reports_tenant_name"),
    )

    op.create_table(
        "dashboards",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("filters", sa.JSON, nullable=False),
        sa.Column("widgets", sa.JSON, nullable=False),
        sa.Column("origin", sa.String(63), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("tenant_id", "name", name="uq_dashboards_tenant_name"),
    )

    op.create_table(
        "dashboard_roles",
        sa.Column("dashboard_id", sa.String(36), sa.ForeignKey("dashboards.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("role_id", sa.String(36), sa.ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
    )

    op.create_table(
        "report_snapshots",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("report_id", sa.String(36), sa.ForeignKey("reports.id", ondelete="CASCADE"), nullable=False),
        sa.Column("taken_at", TS, nullable=False),
        sa.Column("columns", sa.JSON, nullable=False),
        sa.Column("rows", sa.JSON, nullable=False),
        sa.Column("totals", sa.JSON, nullable=False),
        sa.Column("row_count", sa.Integer, nullable=False),
        sa.UniqueConstraint("report_id", "taken_at", name="uq_report_snapshots_report_time"),
    )


def downgrade() -> None:
    for name in TABLES:
        op.drop_table(name)
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("fiscal_year_start_month")
        batch.drop_column("timezone")
