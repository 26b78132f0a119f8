"""cases: 保留 (on_hold), reopening, the closing request of a 緊急 case, the after-survey

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

S = "routing"

# Seeded once, then edited by the desk (copied, not imported: see 0002).
SEED_TEXTS = {
    "survey": (
        "今日はお話ししてくれてありがとうございました。"
        "今日の相談はいかがでしたか。下のボタンから選んでください（答えなくても大丈夫です）。"
    ),
}


def upgrade() -> None:
    for key, body in SEED_TEXTS.items():
        op.execute(
            sa.text(
                "INSERT INTO routing.auto_texts (key, body) VALUES (:key, :body) "
                "ON CONFLICT (key) DO NOTHING"
            ).bindparams(key=key, body=body)
        )
    op.drop_constraint("status_known", "cases", schema=S, type_="check")
    op.create_check_constraint(
        "status_known", "cases", "status IN ('queued', 'assigned', 'on_hold', 'closed')", schema=S
    )
    op.drop_constraint("assigned_has_staff", "cases", schema=S, type_="check")
    op.create_check_constraint(
        "assigned_has_staff",
        "cases",
        "status NOT IN ('assigned', 'on_hold') OR assigned_to IS NOT NULL",
        schema=S,
    )
    op.add_column("cases", sa.Column("previous_case_id", sa.Uuid, nullable=True), schema=S)
    op.add_column(
        "cases", sa.Column("held_at", sa.DateTime(timezone=True), nullable=True), schema=S
    )
    op.add_column("cases", sa.Column("close_request", JSONB, nullable=True), schema=S)
    op.add_column(
        "cases", sa.Column("survey_sent_at", sa.DateTime(timezone=True), nullable=True), schema=S
    )
    op.add_column("cases", sa.Column("survey_answer", sa.String(32), nullable=True), schema=S)
    op.create_index(
        "closed_cases_of_client",
        "cases",
        ["client_id", "closed_at"],
        schema=S,
        postgresql_where=sa.text("status = 'closed'"),
    )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM routing.auto_texts WHERE key = 'survey'"))
    op.drop_index("closed_cases_of_client", "cases", schema=S)
    for column in (
        "survey_answer",
        "survey_sent_at",
        "close_request",
        "held_at",
        "previous_case_id",
    ):
        op.drop_column("cases", column, schema=S)
    op.execute("UPDATE routing.cases SET status = 'assigned' WHERE status = 'on_hold'")
    op.drop_constraint("assigned_has_staff", "cases", schema=S, type_="check")
    op.create_check_constraint(
        "assigned_has_staff", "cases", "status <> 'assigned' OR assigned_to IS NOT NULL", schema=S
    )
    op.drop_constraint("status_known", "cases", schema=S, type_="check")
    op.create_check_constraint(
        "status_known", "cases", "status IN ('queued', 'assigned', 'closed')", schema=S
    )
