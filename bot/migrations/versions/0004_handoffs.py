"""Hand-off to a person: staff accounts and sessions, hand-offs and their messages.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("org", sa.String(40), nullable=False, index=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("staff_id", sa.Integer, nullable=False, index=True),
        sa.Column("expires_at", WHEN, nullable=False, index=True),
    )
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pseudonym", sa.String(64), nullable=False, index=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("org", sa.String(40), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("claimed_by", sa.Integer, nullable=True),
        sa.Column("address", sa.Text, nullable=True),
        sa.Column("topic", sa.String(120), nullable=True),
        sa.Column("city", sa.String(60), nullable=True),
        sa.Column("opened_at", WHEN, nullable=False),
        sa.Column("closed_at", WHEN, nullable=True, index=True),
        sa.Column("outcome", sa.String(24), nullable=True),
        sa.Column("last_inbound_at", WHEN, nullable=True),
        sa.Column("template_sent_at", WHEN, nullable=True),
    )
    op.create_table(
        "handoff_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("handoff_id", sa.Integer, nullable=False, index=True),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", WHEN, nullable=False, index=True),
        sa.Column("staff_id", sa.Integer, nullable=True),
        sa.Column("status", sa.String(16), nullable=True, index=True),
        sa.Column("provider_id", sa.String(64), nullable=True, index=True),
        sa.Column("error", sa.String(300), nullable=True),
        sa.Column("key", sa.String(80), nullable=True),
        sa.Column("sending_since", WHEN, nullable=True),
        sa.UniqueConstraint("handoff_id", "key", name="uq_handoff_message_key"),
    )


def downgrade() -> None:
    op.drop_table("handoff_messages")
    op.drop_table("handoffs")
    op.drop_table("staff_sessions")
    op.drop_table("staff")
