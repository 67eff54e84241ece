"""Deliveries keep the bot's replies until they are confirmed sent.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("replies", sa.JSON(), nullable=True))
    op.add_column("deliveries", sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("deliveries", sa.Column("generation", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("generation")
        batch.drop_column("sent_at")
        batch.drop_column("replies")
