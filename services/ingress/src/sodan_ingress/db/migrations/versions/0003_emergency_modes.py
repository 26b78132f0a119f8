"""clients whose case is in emergency mode (media fetched and stored sealed), and
unsends that must delete a download finishing late

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
    op.create_table(
        "emergency_modes",
        sa.Column("client_id", sa.Uuid(), primary_key=True),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("enabled_by", sa.Uuid(), nullable=False),
        sa.Column("enabled_at", sa.DateTime(timezone=True), nullable=False),
        schema="ingress",
    )
    op.create_table(
        "unsent_media",
        sa.Column("client_id", sa.Uuid(), primary_key=True),
        sa.Column("line_message_id", sa.String(64), primary_key=True),
        sa.Column(
            "unsent_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        schema="ingress",
    )


def downgrade() -> None:
    op.drop_table("unsent_media", schema="ingress")
    op.drop_table("emergency_modes", schema="ingress")
