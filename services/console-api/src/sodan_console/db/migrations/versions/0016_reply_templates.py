"""定型文: reply_templates and their kept versions (reply_template_versions)

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

S = "console"


def upgrade() -> None:
    op.create_table(
        "reply_templates",
        sa.Column("template_id", sa.Uuid(), primary_key=True),
        sa.Column("title", sa.String(40), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False, server_default="0"),
        sa.Column(
            "version", sa.Integer(), nullable=False, comment="Bumped by every save; edits name it"
        ),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True, comment="NULL: seeded"),
        schema=S,
    )
    op.create_table(
        "reply_template_versions",
        sa.Column(
            "template_id",
            sa.Uuid(),
            sa.ForeignKey(f"{S}.reply_templates.template_id"),
            primary_key=True,
        ),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(40), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("saved_by", sa.Uuid(), nullable=True),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("reply_template_versions", schema=S)
    op.drop_table("reply_templates", schema=S)
