"""routing's alert that an assigned case has had no counsellor message for too long

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "cases",
        sa.Column(
            "unanswered_assignment_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="The assignment routing reported unanswered; cleared by a counsellor message",
        ),
        schema="console",
    )


def downgrade() -> None:
    op.drop_column("cases", "unanswered_assignment_at", schema="console")
