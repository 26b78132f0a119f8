"""closing_categories: the desk's 対応結果 and 相談内容 lists as supervisors edited them

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

S = "routing"


def upgrade() -> None:
    # No row until the first edit: routing then uses sodan_shared.closing's defaults.
    op.create_table(
        "closing_categories",
        sa.Column("id", sa.SmallInteger(), primary_key=True),
        sa.Column("outcomes", ARRAY(sa.Text()), nullable=False),
        sa.Column("topics", ARRAY(sa.Text()), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name="closing_categories_single_row"),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("closing_categories", schema=S)
