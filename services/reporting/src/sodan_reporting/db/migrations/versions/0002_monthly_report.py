"""monthly report: more case facts, staff workload, report notes, produced reports, outbox

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

S = "reporting"


def upgrade() -> None:
    op.add_column("case_facts", sa.Column("client_id", sa.Uuid(), nullable=True), schema=S)
    op.add_column(
        "case_facts",
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        schema=S,
    )
    op.add_column(
        "case_facts",
        sa.Column("counsellor_messages", sa.Integer(), nullable=False, server_default="0"),
        schema=S,
    )
    op.add_column("case_facts", sa.Column("outcome", sa.String(200), nullable=True), schema=S)
    op.add_column(
        "case_facts",
        sa.Column("topics", sa.ARRAY(sa.String(100)), nullable=False, server_default="{}"),
        schema=S,
    )
    op.add_column("case_facts", sa.Column("age_group", sa.String(40), nullable=True), schema=S)
    op.add_column("case_facts", sa.Column("region", sa.String(60), nullable=True), schema=S)
    op.add_column(
        "case_facts", sa.Column("gender_identity", sa.String(60), nullable=True), schema=S
    )
    op.add_column("case_facts", sa.Column("refused", sa.String(40), nullable=True), schema=S)
    op.create_index(
        "ix_case_facts_channel_opened_at", "case_facts", ["channel", "opened_at"], schema=S
    )
    op.create_table(
        "staff_counts",
        sa.Column(
            "day", sa.Date(), primary_key=True, comment="Japan-time (Asia/Tokyo) calendar day"
        ),
        sa.Column("channel", sa.String(64), primary_key=True),
        sa.Column("staff_id", sa.Uuid(), primary_key=True),
        sa.Column("metric", sa.String(40), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
        schema=S,
    )
    op.create_table(
        "report_notes",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("channel", sa.String(64), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("edited_by", sa.Uuid(), nullable=True),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=False),
        schema=S,
    )
    op.create_table(
        "outbox",
        sa.Column("seq", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("event_id", sa.Uuid(), nullable=False, unique=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("headers", JSONB(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        schema=S,
    )
    op.create_index("ix_outbox_published_at", "outbox", ["published_at"], schema=S)
    op.create_table(
        "monthly_reports",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("channel", sa.String(64), primary_key=True),
        sa.Column("generated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("report", JSONB(), nullable=False),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("monthly_reports", schema=S)
    op.drop_table("outbox", schema=S)
    op.drop_table("report_notes", schema=S)
    op.drop_table("staff_counts", schema=S)
    op.drop_index("ix_case_facts_channel_opened_at", table_name="case_facts", schema=S)
    for column in (
        "refused",
        "gender_identity",
        "region",
        "age_group",
        "topics",
        "outcome",
        "counsellor_messages",
        "first_response_at",
        "client_id",
    ):
        op.drop_column("case_facts", column, schema=S)
