"""closing_categories: the closing form's lists as routing last announced them

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

S = "console"


def upgrade() -> None:
    op.create_table(
        "closing_categories",
        sa.Column("id", sa.SmallInteger(), primary_key=True),
        sa.Column("outcomes", ARRAY(sa.Text()), nullable=True, comment="NULL: never edited"),
        sa.Column("topics", ARRAY(sa.Text()), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("last_outcome", sa.String(8), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_command_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("id = 1", name="closing_categories_single_row"),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("closing_categories", schema=S)
