"""cases, case_messages, counsellors, processed_events, outbox

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

S = "routing"


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("case_id", sa.Uuid(), primary_key=True),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("client_no", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("urgency", sa.String(16), nullable=False, server_default="normal"),
        sa.Column("urgency_score", sa.Float(), nullable=False, server_default="0"),
        sa.Column("assigned_to", sa.Uuid(), nullable=True),
        sa.Column(
            "opened_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_message_event_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'assigned', 'closed')", name="status_known"),
        sa.CheckConstraint(
            "urgency IN ('critical', 'high', 'medium', 'normal')", name="urgency_known"
        ),
        sa.CheckConstraint(
            "status <> 'assigned' OR assigned_to IS NOT NULL", name="assigned_has_staff"
        ),
        schema=S,
    )
    op.create_index(
        "one_open_case_per_client",
        "cases",
        ["client_id"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("status <> 'closed'"),
    )
    op.create_index(
        "queued_cases",
        "cases",
        ["queued_at"],
        schema=S,
        postgresql_where=sa.text("status = 'queued'"),
    )
    op.create_index(
        "assigned_cases",
        "cases",
        ["assigned_to"],
        schema=S,
        postgresql_where=sa.text("status = 'assigned'"),
    )
    op.create_table(
        "case_messages",
        sa.Column("message_event_id", sa.Uuid(), primary_key=True),
        sa.Column("case_id", sa.Uuid(), sa.ForeignKey(f"{S}.cases.case_id"), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        schema=S,
    )
    op.create_index("ix_routing_case_messages_case_id", "case_messages", ["case_id"], schema=S)
    op.create_table(
        "counsellors",
        sa.Column("staff_id", sa.Uuid(), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("presence", sa.String(16), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        schema=S,
    )
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(80), primary_key=True),
        sa.Column("event_id", sa.Uuid(), primary_key=True),
        sa.Column(
            "processed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        schema=S,
    )
    op.create_table(
        "outbox",
        sa.Column("seq", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("event_id", sa.Uuid(), nullable=False, unique=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("headers", postgresql.JSONB(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        schema=S,
    )
    op.create_index("ix_routing_outbox_published_at", "outbox", ["published_at"], schema=S)


def downgrade() -> None:
    for table in ("outbox", "processed_events", "counsellors", "case_messages", "cases"):
        op.drop_table(table, schema=S)
