"""reporting projections: case facts, daily counts, clients seen, processed events

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(80), primary_key=True),
        sa.Column("event_id", sa.Uuid(), primary_key=True),
        sa.Column(
            "processed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        schema="reporting",
    )
    op.create_table(
        "case_facts",
        sa.Column("case_id", sa.Uuid(), primary_key=True),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("max_urgency", sa.String(16), nullable=False),
        sa.Column("counsellor_ids", sa.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("urgent_counted", sa.Boolean(), nullable=False),
        schema="reporting",
    )
    op.create_index("ix_case_facts_opened_at", "case_facts", ["opened_at"], schema="reporting")
    op.create_table(
        "daily_counts",
        sa.Column(
            "day", sa.Date(), primary_key=True, comment="Japan-time (Asia/Tokyo) calendar day"
        ),
        sa.Column("channel", sa.String(64), primary_key=True),
        sa.Column("metric", sa.String(40), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
        schema="reporting",
    )
    op.create_table(
        "clients_seen",
        sa.Column("client_id", sa.Uuid(), primary_key=True),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        schema="reporting",
    )


def downgrade() -> None:
    op.drop_table("clients_seen", schema="reporting")
    op.drop_table("daily_counts", schema="reporting")
    op.drop_table("case_facts", schema="reporting")
    op.drop_table("processed_events", schema="reporting")
