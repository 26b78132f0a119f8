"""LINE's mark-as-read tokens of client messages (sealed), until used

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "read_tokens",
        sa.Column("message_event_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("token", sa.Text(), nullable=True),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("message_event_id"),
        schema="ingress",
    )
    op.create_index(
        "read_tokens_by_client",
        "read_tokens",
        ["client_id", "sent_at"],
        unique=False,
        schema="ingress",
    )


def downgrade() -> None:
    op.drop_index("read_tokens_by_client", table_name="read_tokens", schema="ingress")
    op.drop_table("read_tokens", schema="ingress")
