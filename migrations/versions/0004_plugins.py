"""Plugins installed per tenant.

Revision ID: 0004_plugins
Revises: 0003_access
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_plugins"
down_revision = "0003_access"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "plugin_installs",
        sa.Column("tenant_id", sa.String(36), sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("plugin", sa.String(63), primary_key=True),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("installed_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("plugin_installs")
