"""whether a client has blocked the desk's account (unfollow) and since when

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
    op.add_column(
        "clients",
        sa.Column("blocked", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        schema="console",
    )
    op.add_column(
        "clients",
        sa.Column(
            "follow_changed_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="LINE time of the latest follow/unfollow: an older one never wins",
        ),
        schema="console",
    )


def downgrade() -> None:
    op.drop_column("clients", "follow_changed_at", schema="console")
    op.drop_column("clients", "blocked", schema="console")
