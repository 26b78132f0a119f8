"""supervisors' settings and controls: auto_texts, hours_calendar, desk_controls, handbacks

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

S = "console"


def _outcome_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("last_outcome", sa.String(8), nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_command_id", sa.Uuid(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "auto_texts",
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("body", sa.Text(), comment="NULL: never edited, the default applies"),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
        sa.Column("updated_by", sa.Uuid()),
        *_outcome_columns(),
        schema=S,
    )
    op.create_table(
        "hours_calendar",
        sa.Column("id", sa.SmallInteger(), primary_key=True),
        sa.Column("rules", JSONB(), comment="NULL: never edited here"),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
        sa.Column("updated_by", sa.Uuid()),
        *_outcome_columns(),
        sa.CheckConstraint("id = 1", name="single_row"),
        schema=S,
    )
    op.create_table(
        "desk_controls",
        sa.Column("id", sa.SmallInteger(), primary_key=True),
        sa.Column("assignment_mode", sa.String(8), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.Uuid()),
        sa.CheckConstraint("id = 1", name="single_row"),
        schema=S,
    )
    op.create_table(
        "handbacks",
        sa.Column("cause_id", sa.Uuid(), primary_key=True),
        sa.Column("counsellor_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        schema=S,
    )
    op.create_index(op.f("ix_console_handbacks_at"), "handbacks", ["at"], schema=S)


def downgrade() -> None:
    for table in ("handbacks", "desk_controls", "hours_calendar", "auto_texts"):
        op.drop_table(table, schema=S)
