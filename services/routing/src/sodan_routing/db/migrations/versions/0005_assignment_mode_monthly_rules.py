"""desk_settings (automatic assignment or manual pick-up); hours_rules.nth (monthly rules)

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

S = "routing"


def upgrade() -> None:
    op.create_table(
        "desk_settings",
        sa.Column("id", sa.SmallInteger(), primary_key=True),
        sa.Column("assignment_mode", sa.String(8), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.Uuid()),
        sa.CheckConstraint("id = 1", name="single_row"),
        sa.CheckConstraint("assignment_mode IN ('auto', 'manual')", name="mode_known"),
        schema=S,
    )
    op.add_column("hours_rules", sa.Column("nth", sa.SmallInteger()), schema=S)
    op.create_check_constraint(
        "nth_weekly",
        "hours_rules",
        "nth IS NULL OR (kind = 'weekly' AND nth IN (-1, 1, 2, 3, 4, 5))",
        schema=S,
    )


def downgrade() -> None:
    op.drop_constraint("nth_weekly", "hours_rules", schema=S)
    op.drop_column("hours_rules", "nth", schema=S)
    op.drop_table("desk_settings", schema=S)
