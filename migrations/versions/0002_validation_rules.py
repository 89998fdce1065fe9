"""Validation rules per object; default values given as expressions.

Revision ID: 0002_validation_rules
Revises: 0001_system_tables
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_validation_rules"
down_revision = "0001_system_tables"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("field_defs") as batch:
        batch.add_column(sa.Column("default_expression", sa.Text, nullable=True))
    op.create_table(
        "validation_rules",
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
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("object_id", "name", name="uq_validation_rules_object_name"),
    )


def downgrade() -> None:
    op.drop_table("validation_rules")
    with op.batch_alter_table("field_defs") as batch:
        batch.drop_column("default_expression")
