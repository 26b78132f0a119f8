"""the desk's congestion level and open state, as routing last announced it

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "desk_status",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("desk_open", sa.Boolean(), nullable=False),
        sa.Column("queue_length", sa.Integer(), nullable=False),
        sa.Column("active_counsellors", sa.Integer(), nullable=False),
        sa.Column("free_capacity", sa.Integer(), nullable=False),
        sa.Column("next_wait_s", sa.Float(), nullable=True),
        sa.Column("next_opening", sa.DateTime(timezone=True), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel"),
        schema="console",
    )


def downgrade() -> None:
    op.drop_table("desk_status", schema="console")
