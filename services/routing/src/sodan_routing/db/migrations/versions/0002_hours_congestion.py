"""hours_rules, auto_texts, case_notices, desk_state; cases.first_response_at, last_staff_message_at

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence
from datetime import time

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

S = "routing"

# Seeded once, then edited by the desk. Copied here (not imported) so this
# migration keeps meaning what it meant when it ran.
SEED_TEXTS = {
    "out_of_hours": (
        "メッセージありがとうございます。いまは受付時間外のため、すぐにはお返事できません。"
        "いただいたメッセージは届いていて、次の受付時間に順番にお返事します。\n"
        "次の相談日は {next_opening} です。\n"
        "急いで誰かと話したいときは、こちらへ。\n{emergency}"
    ),
    "queued": (
        "メッセージありがとうございます。順番にお返事しています。"
        "{estimated_wait}お待ちいただく見込みです。このままお待ちください。"
    ),
    "wait_reminder": (
        "お待たせしていてごめんなさい。メッセージは届いています。"
        "いまは{estimated_wait}お待ちいただく見込みです。もう少しお待ちください。"
    ),
    "suspended": (
        "メッセージありがとうございます。いま大変混み合っていて、"
        "お返事までかなりお待たせしてしまいそうです。メッセージは届いています。\n"
        "お電話でもお話を聞いています。\n{phone}\n"
        "急いで誰かと話したいときは、こちらへ。\n{emergency}"
    ),
    "closing_soon": (
        "本日の受付は {closes_at} までです。時間内にお返事できないときは、"
        "次の相談日 {next_opening} に順番にお返事します。"
    ),
    "closed": (
        "本日の受付時間が終わりました。お返事できず、ごめんなさい。"
        "メッセージは届いていますので、次の相談日 {next_opening} に順番にお返事します。\n"
        "急いで誰かと話したいときは、こちらへ。\n{emergency}"
    ),
}


def upgrade() -> None:
    op.add_column("cases", sa.Column("first_response_at", sa.DateTime(timezone=True)), schema=S)
    op.add_column("cases", sa.Column("last_staff_message_at", sa.DateTime(timezone=True)), schema=S)
    rules = op.create_table(
        "hours_rules",
        sa.Column(
            "rule_id", sa.Uuid(), primary_key=True, server_default=sa.text("gen_random_uuid()")
        ),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("weekday", sa.SmallInteger()),
        sa.Column("day", sa.Date()),
        sa.Column("starts", sa.Time()),
        sa.Column("ends", sa.Time()),
        sa.Column("holidays", sa.String(8), nullable=False, server_default="any"),
        sa.Column("note", sa.Text()),
        sa.CheckConstraint("kind IN ('weekly', 'dated', 'closed')", name="kind_known"),
        sa.CheckConstraint("holidays IN ('any', 'skip', 'only')", name="holidays_known"),
        sa.CheckConstraint(
            "(kind = 'weekly' AND weekday BETWEEN 0 AND 6 AND starts IS NOT NULL "
            "AND ends IS NOT NULL AND starts <> ends) "
            "OR (kind = 'dated' AND day IS NOT NULL AND starts IS NOT NULL AND ends IS NOT NULL "
            "AND starts <> ends) "
            "OR (kind = 'closed' AND day IS NOT NULL)",
            name="rule_complete",
        ),
        schema=S,
    )
    texts = op.create_table(
        "auto_texts",
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("updated_by", sa.Uuid()),
        schema=S,
    )
    op.create_table(
        "case_notices",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "kind", "key"),
        schema=S,
    )
    op.create_table(
        "desk_state",
        sa.Column("id", sa.SmallInteger(), primary_key=True),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("desk_open", sa.Boolean(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name="single_row"),
        schema=S,
    )
    # A starting calendar the desk replaces with its own: every evening 17:00-22:00.
    op.bulk_insert(
        rules,
        [
            {
                "kind": "weekly",
                "weekday": d,
                "starts": time(17),
                "ends": time(22),
                "holidays": "any",
                "note": "初期値 default",
            }
            for d in range(7)
        ],
    )
    op.bulk_insert(texts, [{"key": k, "body": v} for k, v in SEED_TEXTS.items()])


def downgrade() -> None:
    for table in ("desk_state", "case_notices", "auto_texts", "hours_rules"):
        op.drop_table(table, schema=S)
    op.drop_column("cases", "last_staff_message_at", schema=S)
    op.drop_column("cases", "first_response_at", schema=S)
