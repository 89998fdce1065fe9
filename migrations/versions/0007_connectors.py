"""Connectors: instances per tenant (configuration with encrypted credentials, schedule, mapping,
cursor), their run log, and the ledger of synced external records (key → record, content hash).

Revision ID: 0007_connectors
Revises: 0006_reports
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_connectors"
down_revision = "0006_reports"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)

TABLES = ["connector_records", "connector_runs", "connectors"]


def upgrade() -> None:
    op.create_table(
        "connectors",
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
        sa.Column("schedule_fired_at", TS, nullable=True),
        sa.Column("run_as", sa.String(36), sa.ForeignKey("users.id", ondelete="SET NULL", name="fk_connectors_run_as"),
                  nullable=True),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("cursor", sa.Text, nullable=True),
        sa.Column("created_by", sa.String(36), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("tenant_id", "name", name="uq_connectors_tenant_name"),
    )
    op.create_table(
        "connector_runs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), nullable=False),
        sa.Column("connector_id", sa.String(36), sa.ForeignKey("connectors.id", ondelete="CASCADE"), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
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
    op.create_table(
        "connector_records",
        sa.Column("connector_id", sa.String(36), sa.ForeignKey("connectors.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("object_name", sa.String(63), primary_key=True),
        sa.Column("external_key", sa.String(255), primary_key=True),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("synced_at", TS, nullable=False),
    )


def downgrade() -> None:
    for name in TABLES:
        op.drop_table(name)
