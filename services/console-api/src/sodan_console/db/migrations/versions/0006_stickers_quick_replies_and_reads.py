"""stickers and quick replies on outbound messages; what each case marked read

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "messages",
        sa.Column(
            "sticker", sa.String(32), nullable=True, comment="packageId/stickerId a counsellor sent"
        ),
        schema="console",
    )
    op.add_column(
        "messages",
        sa.Column(
            "quick_replies",
            sa.Text(),
            nullable=True,
            comment="Sealed JSON of the quick-reply buttons, 'quick_replies'",
        ),
        schema="console",
    )
    op.create_table(
        "case_reads",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("up_to_message_id", sa.Uuid(), nullable=False),
        sa.Column("up_to_sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
        schema="console",
    )


def downgrade() -> None:
    op.drop_table("case_reads", schema="console")
    op.drop_column("messages", "quick_replies", schema="console")
    op.drop_column("messages", "sticker", schema="console")
