"""automatic messages (the refused-media notice), push results kept on their own, why a push failed

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "messages",
        sa.Column(
            "push_id",
            sa.Uuid(),
            nullable=True,
            comment="The push/reply command that carries this outbound text",
        ),
        schema="console",
    )
    op.add_column(
        "messages",
        sa.Column("automatic", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        schema="console",
    )
    op.add_column(
        "messages",
        sa.Column(
            "delivery_error",
            sa.String(length=200),
            nullable=True,
            comment="Why a push failed: HTTP status and LINE's message, or our reason code",
        ),
        schema="console",
    )
    op.create_index(
        op.f("ix_console_messages_push_id"), "messages", ["push_id"], unique=False, schema="console"
    )
    op.create_table(
        "push_results",
        sa.Column("push_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("push_id"),
        schema="console",
    )


def downgrade() -> None:
    op.drop_table("push_results", schema="console")
    op.drop_index(op.f("ix_console_messages_push_id"), table_name="messages", schema="console")
    op.drop_column("messages", "delivery_error", schema="console")
    op.drop_column("messages", "automatic", schema="console")
    op.drop_column("messages", "push_id", schema="console")
