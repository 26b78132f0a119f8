"""emergency mode on cases; stored-media and location columns on messages

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "cases",
        sa.Column("emergency_mode", sa.Boolean(), nullable=False, server_default=sa.false()),
        schema="console",
    )
    op.add_column(
        "cases",
        sa.Column("emergency_changed_at", sa.DateTime(timezone=True), nullable=True),
        schema="console",
    )
    for column in (
        sa.Column("media_status", sa.String(16), nullable=True),
        sa.Column("media_content_type", sa.Text(), nullable=True),
        sa.Column("media_size", sa.BigInteger(), nullable=True),
        sa.Column("media_object", sa.Text(), nullable=True),
        sa.Column("media_error", sa.String(32), nullable=True),
        sa.Column("location", sa.Text(), nullable=True, comment="Sealed 'message.location' (JSON)"),
    ):
        op.add_column("messages", column, schema="console")


def downgrade() -> None:
    for name in (
        "location",
        "media_error",
        "media_object",
        "media_size",
        "media_content_type",
        "media_status",
    ):
        op.drop_column("messages", name, schema="console")
    op.drop_column("cases", "emergency_changed_at", schema="console")
    op.drop_column("cases", "emergency_mode", schema="console")
