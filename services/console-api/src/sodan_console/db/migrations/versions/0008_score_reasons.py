"""why triage scored a message: categories, about someone else, put at a distance

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "messages",
        sa.Column(
            "score_reasons",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=True,
            comment="Lexicon categories that matched, with subject/hedged; never the words",
        ),
        schema="console",
    )


def downgrade() -> None:
    op.drop_column("messages", "score_reasons", schema="console")
