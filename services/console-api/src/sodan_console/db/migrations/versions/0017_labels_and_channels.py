"""Case labels (ラベル), channel display names (チャネル) and the case list's indexes

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

S = "console"
# The list's order: most urgent first, then longest waiting, then the id.
ORDER: list[str | sa.TextClause] = [sa.text("urgency_rank DESC"), "opened_at", "case_id"]


def upgrade() -> None:
    op.create_table(
        "labels",
        sa.Column("label_id", sa.Integer(), sa.Identity(always=False), primary_key=True),
        sa.Column("name", sa.String(40), nullable=False, unique=True),
        sa.Column("colour", sa.String(16), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "colour IN ('gray', 'red', 'orange', 'yellow', 'green', 'teal', 'blue', "
            "'purple', 'pink')",
            name="label_colour",
        ),
        schema=S,
    )
    op.create_table(
        "case_labels",
        sa.Column("case_id", sa.Uuid(), primary_key=True),
        sa.Column(
            "label_id",
            sa.Integer(),
            sa.ForeignKey("console.labels.label_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.Uuid(), nullable=True),
        schema=S,
    )
    op.create_index("case_labels_by_label", "case_labels", ["label_id", "case_id"], schema=S)
    op.create_table(
        "channels",
        sa.Column("channel", sa.String(64), primary_key=True),
        sa.Column("display_name", sa.String(60), nullable=True),
        sa.Column("note", sa.String(400), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        schema=S,
    )
    op.create_index("cases_list_order", "cases", ORDER, schema=S)
    op.create_index(
        "cases_open_order",
        "cases",
        ORDER,
        schema=S,
        postgresql_where=sa.text("status <> 'closed'"),
    )
    op.create_index("cases_by_assignee_order", "cases", ["assigned_to", *ORDER], schema=S)
    op.create_index("cases_by_channel_order", "cases", ["channel", *ORDER], schema=S)
    op.create_index("cases_by_opened_at", "cases", ["opened_at"], schema=S)
    # (urgency_rank, opened_at, case_id) ascending can serve neither direction of the
    # list's mixed order; cases_list_order replaces it.
    op.drop_index("cases_queue_order", table_name="cases", schema=S)


def downgrade() -> None:
    op.create_index(
        "cases_queue_order", "cases", ["urgency_rank", "opened_at", "case_id"], schema=S
    )
    for name in (
        "cases_by_opened_at",
        "cases_by_channel_order",
        "cases_by_assignee_order",
        "cases_open_order",
        "cases_list_order",
    ):
        op.drop_index(name, table_name="cases", schema=S)
    op.drop_table("channels", schema=S)
    op.drop_index("case_labels_by_label", table_name="case_labels", schema=S)
    op.drop_table("case_labels", schema=S)
    op.drop_table("labels", schema=S)
