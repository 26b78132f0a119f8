"""client record (相談者カルテ), case notes (ケースメモ) and the assignment history

Revision ID: 0015
Revises: 0014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

S = "console"

# Notes and record versions are never changed or removed by the application: a
# correction is a new row. (Crypto-shredding the client makes them unreadable.)
_REFUSE = """
CREATE FUNCTION console.karte_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%.% is append-only (% refused)', TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""
_APPEND_ONLY = ("client_record_versions", "case_notes")

# Who was assigned what before this history existed: the current assignee (closed
# cases keep their last one) and both sides of every 転送.
_BACKFILL = """
INSERT INTO console.case_assignments (case_id, staff_id, first_at)
SELECT case_id, staff_id, min(at) FROM (
    SELECT case_id, assigned_to AS staff_id, coalesce(assigned_at, opened_at) AS at
      FROM console.cases WHERE assigned_to IS NOT NULL
    UNION ALL
    SELECT case_id, staff_id, at FROM console.case_log
     WHERE kind = 'handed_over' AND staff_id IS NOT NULL
    UNION ALL
    SELECT case_id, other_staff_id, at FROM console.case_log
     WHERE kind = 'handed_over' AND other_staff_id IS NOT NULL
) AS seen
GROUP BY case_id, staff_id
ON CONFLICT DO NOTHING
"""


def upgrade() -> None:
    op.create_table(
        "case_assignments",
        sa.Column("case_id", sa.Uuid(), primary_key=True),
        sa.Column("staff_id", sa.Uuid(), primary_key=True),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        schema=S,
    )
    op.create_index(
        op.f("ix_console_case_assignments_staff_id"), "case_assignments", ["staff_id"], schema=S
    )
    op.create_table(
        "client_record_versions",
        sa.Column("client_id", sa.Uuid(), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column(
            "characteristics",
            sa.Text(),
            nullable=True,
            comment="Sealed 'client_record.characteristics'",
        ),
        sa.Column("cautions", sa.Text(), nullable=True, comment="Sealed 'client_record.cautions'"),
        sa.Column(
            "flags", sa.Text(), nullable=True, comment="Sealed 'client_record.flags' (JSON list)"
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=False),
        schema=S,
    )
    op.create_table(
        "case_notes",
        sa.Column("note_id", sa.Uuid(), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("staff_id", sa.Uuid(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False, comment="Sealed 'case.note'"),
        schema=S,
    )
    op.create_index(op.f("ix_console_case_notes_case_id"), "case_notes", ["case_id"], schema=S)
    op.create_index(op.f("ix_console_case_notes_client_id"), "case_notes", ["client_id"], schema=S)
    op.execute(_REFUSE)
    for table in _APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON console.{table} "
            "FOR EACH ROW EXECUTE FUNCTION console.karte_refuse_change()"
        )
    op.execute(_BACKFILL)


def downgrade() -> None:
    op.drop_table("case_notes", schema=S)
    op.drop_table("client_record_versions", schema=S)
    op.drop_table("case_assignments", schema=S)
    op.execute("DROP FUNCTION console.karte_refuse_change()")
