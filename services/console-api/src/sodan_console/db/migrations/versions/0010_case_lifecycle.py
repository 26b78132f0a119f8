"""cases: 保留 (on_hold), reopening, the closing form, a 緊急 case's close request,
what needs its counsellor's attention; case_log: the staff-only timeline of a case

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

S = "console"


def upgrade() -> None:
    op.drop_constraint("case_status", "cases", schema=S, type_="check")
    op.create_check_constraint(
        "case_status", "cases", "status IN ('queued', 'assigned', 'on_hold', 'closed')", schema=S
    )
    op.add_column("cases", sa.Column("previous_case_id", sa.Uuid, nullable=True), schema=S)
    op.add_column(
        "cases", sa.Column("reopened_at", sa.DateTime(timezone=True), nullable=True), schema=S
    )
    op.add_column("cases", sa.Column("outcome", sa.String(200), nullable=True), schema=S)
    op.add_column(
        "cases", sa.Column("topics", JSONB, nullable=False, server_default="[]"), schema=S
    )
    op.add_column("cases", sa.Column("close_request", JSONB, nullable=True), schema=S)
    op.add_column("cases", sa.Column("attention", sa.String(32), nullable=True), schema=S)
    op.add_column("cases", sa.Column("survey_answer", sa.String(32), nullable=True), schema=S)
    op.create_table(
        "case_log",
        sa.Column("entry_id", sa.Uuid, primary_key=True),
        sa.Column("case_id", sa.Uuid, nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.Uuid, nullable=True),
        sa.Column("other_staff_id", sa.Uuid, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("data", JSONB, nullable=False, server_default="{}"),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("case_log", schema=S)
    for column in (
        "survey_answer",
        "attention",
        "close_request",
        "topics",
        "outcome",
        "reopened_at",
        "previous_case_id",
    ):
        op.drop_column("cases", column, schema=S)
    op.execute("UPDATE console.cases SET status = 'assigned' WHERE status = 'on_hold'")
    op.drop_constraint("case_status", "cases", schema=S, type_="check")
    op.create_check_constraint(
        "case_status", "cases", "status IN ('queued', 'assigned', 'closed')", schema=S
    )
