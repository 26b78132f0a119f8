"""after-survey: whether a closed case's survey went out and its answer

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

S = "reporting"


def upgrade() -> None:
    op.add_column(
        "case_facts",
        sa.Column("survey_sent", sa.Boolean(), nullable=False, server_default="false"),
        schema=S,
    )
    op.add_column("case_facts", sa.Column("survey_answer", sa.String(40), nullable=True), schema=S)


def downgrade() -> None:
    op.drop_column("case_facts", "survey_answer", schema=S)
    op.drop_column("case_facts", "survey_sent", schema=S)
