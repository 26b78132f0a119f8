"""Staff accounts: must-change-password, last login, a pending TOTP re-enrolment

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

S = "console"


def upgrade() -> None:
    op.add_column(
        "staff",
        sa.Column(
            "password_change_required", sa.Boolean(), nullable=False, server_default=sa.false()
        ),
        schema=S,
    )
    op.add_column(
        "staff", sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True), schema=S
    )
    op.add_column(
        "staff", sa.Column("totp_pending_secret", sa.LargeBinary(), nullable=True), schema=S
    )
    op.add_column("staff", sa.Column("totp_pending_key_id", sa.String(64), nullable=True), schema=S)


def downgrade() -> None:
    for column in (
        "totp_pending_key_id",
        "totp_pending_secret",
        "last_login_at",
        "password_change_required",
    ):
        op.drop_column("staff", column, schema=S)
