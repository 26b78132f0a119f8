"""unsent messages, LINE message id and personal-data flags on messages

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "messages", sa.Column("line_message_id", sa.Text(), nullable=True), schema="console"
    )
    op.add_column(
        "messages",
        sa.Column(
            "personal_data",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="Kinds flagged by ingress, never values",
        ),
        schema="console",
    )
    op.add_column(
        "messages",
        sa.Column("late", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        schema="console",
    )
    op.create_index(
        op.f("ix_console_messages_line_message_id"),
        "messages",
        ["line_message_id"],
        unique=False,
        schema="console",
    )
    op.create_table(
        "unsent_messages",
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("line_message_id", sa.Text(), nullable=False),
        sa.Column("unsent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("client_id", "line_message_id"),
        schema="console",
    )


def downgrade() -> None:
    op.drop_table("unsent_messages", schema="console")
    op.drop_index(
        op.f("ix_console_messages_line_message_id"), table_name="messages", schema="console"
    )
    op.drop_column("messages", "late", schema="console")
    op.drop_column("messages", "personal_data", schema="console")
    op.drop_column("messages", "line_message_id", schema="console")
