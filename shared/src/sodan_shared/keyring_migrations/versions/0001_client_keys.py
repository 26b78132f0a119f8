"""client data keys and keyring secrets

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "client_keys",
        sa.Column("client_id", sa.Uuid(), primary_key=True),
        sa.Column("client_no", sa.BigInteger(), sa.Identity(start=1), nullable=False, unique=True),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("line_user_digest", sa.LargeBinary(), nullable=False, unique=True),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("master_key_id", sa.String(64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        schema="keyring",
    )
    op.create_table(
        "secrets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("master_key_id", sa.String(64), nullable=False),
        schema="keyring",
    )


def downgrade() -> None:
    op.drop_table("secrets", schema="keyring")
    op.drop_table("client_keys", schema="keyring")
