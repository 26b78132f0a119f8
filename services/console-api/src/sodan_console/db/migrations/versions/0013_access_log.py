"""access_log: the append-only access log of spec 4(1)(イ)

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

S = "console"

# Append-only in the database itself, not only by convention in the code: UPDATE,
# DELETE and TRUNCATE are refused by triggers. Pruning after the retention period is
# an operator's audited procedure (docs/operations.md), never an API.
_REFUSE = """
CREATE FUNCTION console.access_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'console.access_log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "access_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("staff_id", sa.Uuid()),
        sa.Column("login", sa.String(64)),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("method", sa.String(8)),
        sa.Column("path", sa.String(200)),
        sa.Column("target_kind", sa.String(16)),
        sa.Column("target_id", sa.String(64)),
        sa.Column("status", sa.SmallInteger()),
        sa.Column("reason", sa.String(32)),
        sa.Column("client_addr", sa.String(64)),
        sa.Column("user_agent", sa.String(200)),
        schema=S,
    )
    op.create_index(op.f("ix_console_access_log_at"), "access_log", ["at"], schema=S)
    op.create_index(op.f("ix_console_access_log_staff_id"), "access_log", ["staff_id"], schema=S)
    op.execute(_REFUSE)
    op.execute(
        "CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON console.access_log "
        "FOR EACH ROW EXECUTE FUNCTION console.access_log_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON console.access_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION console.access_log_refuse_change()"
    )


def downgrade() -> None:
    op.drop_table("access_log", schema=S)
    op.execute("DROP FUNCTION console.access_log_refuse_change()")
