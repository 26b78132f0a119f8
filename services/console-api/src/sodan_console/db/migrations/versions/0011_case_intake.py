"""cases: the intake questionnaire routing ran (アンケート中, the answers)

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

S = "console"


def upgrade() -> None:
    op.add_column(
        "cases",
        sa.Column(
            "intake",
            sa.String(16),
            nullable=True,
            comment="running while the client answers; then how it ended (routing's outcome)",
        ),
        schema=S,
    )
    op.add_column("cases", sa.Column("intake_consent", sa.String(16)), schema=S)
    op.add_column("cases", sa.Column("intake_age_group", sa.String(16)), schema=S)
    op.add_column("cases", sa.Column("intake_region", sa.String(16)), schema=S)
    op.add_column(
        "cases",
        sa.Column(
            "intake_gender_identity",
            sa.Text(),
            comment="Sealed under the client's key, 'intake.gender_identity'",
        ),
        schema=S,
    )


def downgrade() -> None:
    for column in (
        "intake_gender_identity",
        "intake_region",
        "intake_age_group",
        "intake_consent",
        "intake",
    ):
        op.drop_column("cases", column, schema=S)
