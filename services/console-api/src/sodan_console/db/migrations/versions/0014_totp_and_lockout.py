"""TOTP second factor on staff, enrolment-only sessions, login_attempts (lockout)

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

S = "console"


def upgrade() -> None:
    op.add_column("staff", sa.Column("totp_secret", sa.LargeBinary(), nullable=True), schema=S)
    op.add_column("staff", sa.Column("totp_key_id", sa.String(64), nullable=True), schema=S)
    op.add_column(
        "staff",
        sa.Column("totp_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        schema=S,
    )
    op.add_column("staff", sa.Column("totp_last_step", sa.BigInteger(), nullable=True), schema=S)
    op.add_column(
        "sessions",
        sa.Column("enrol_only", sa.Boolean(), nullable=False, server_default=sa.false()),
        schema=S,
    )
    op.create_table(
        "login_attempts",
        sa.Column("login", sa.String(64), primary_key=True),
        sa.Column("failures", sa.SmallInteger(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("login_attempts", schema=S)
    op.drop_column("sessions", "enrol_only", schema=S)
    for column in ("totp_last_step", "totp_confirmed_at", "totp_key_id", "totp_secret"):
        op.drop_column("staff", column, schema=S)
