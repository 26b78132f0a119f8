"""recent_scores, lexicon_history, processed_events, outbox

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

S = "triage"


def upgrade() -> None:
    op.create_table(
        "recent_scores",
        sa.Column("message_event_id", sa.Uuid(), primary_key=True),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        schema=S,
    )
    op.create_index("recent_scores_by_client", "recent_scores", ["client_id", "sent_at"], schema=S)
    op.create_table(
        "lexicon_history",
        sa.Column("seq", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("version", sa.String(64), nullable=False, unique=True),
        sa.Column("content", postgresql.JSONB(), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("command_event_id", sa.Uuid(), nullable=False, unique=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S,
    )
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(80), primary_key=True),
        sa.Column("event_id", sa.Uuid(), primary_key=True),
        sa.Column(
            "processed_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        schema=S,
    )
    op.create_table(
        "outbox",
        sa.Column("seq", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("event_id", sa.Uuid(), nullable=False, unique=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("headers", postgresql.JSONB(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        schema=S,
    )
    op.create_index("ix_triage_outbox_published_at", "outbox", ["published_at"], schema=S)


def downgrade() -> None:
    op.drop_index("ix_triage_outbox_published_at", table_name="outbox", schema=S)
    op.drop_table("outbox", schema=S)
    op.drop_table("processed_events", schema=S)
    op.drop_table("lexicon_history", schema=S)
    op.drop_index("recent_scores_by_client", table_name="recent_scores", schema=S)
    op.drop_table("recent_scores", schema=S)
