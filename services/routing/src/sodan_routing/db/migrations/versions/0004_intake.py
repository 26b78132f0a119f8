"""cases: the intake questionnaire (status 'intake', the question asked, the answers)

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

S = "routing"

# The questionnaire's texts, seeded once, then edited by the desk. Copied here (not
# imported) so this migration keeps meaning what it meant when it ran.
SEED_TEXTS = {
    "intake_consent": "メッセージありがとうございます。お話を聞く前に、いくつか質問させてください（どれも答えなくてかまいません）。\nまず、利用規約に同意いただけますか？\n{terms_url}",
    "intake_age_group": "年代を教えてください。",
    "intake_region": "お住まいの地域を教えてください。",
    "intake_gender_identity": "ご自身のことを、どのように表していますか？ あなたの言葉で自由に書いてください。答えたくないときは「スキップ」を押してください。",
    "intake_retry": "ごめんなさい、うまく受け取れませんでした。下のボタンから選んでください。",
    "intake_declined": "お返事ありがとうございます。ここでのご相談は、利用規約への同意をいただいてからお受けしています。\n{terms_url}\n気持ちが変わったときは「同意する」を押すか、もう一度メッセージを送ってください。\nお電話でもお話を聞いています。\n{phone}\n急いで誰かと話したいときは、こちらへ。\n{emergency}",
    "intake_done": "ありがとうございました。相談員におつなぎします。",
}


def upgrade() -> None:
    op.add_column("cases", sa.Column("intake_step", sa.String(16)), schema=S)
    op.add_column(
        "cases",
        sa.Column("intake_retried", sa.Boolean(), nullable=False, server_default=sa.false()),
        schema=S,
    )
    op.add_column("cases", sa.Column("intake_asked_at", sa.DateTime(timezone=True)), schema=S)
    op.add_column("cases", sa.Column("intake_outcome", sa.String(16)), schema=S)
    op.add_column("cases", sa.Column("intake_consent", sa.String(16)), schema=S)
    op.add_column("cases", sa.Column("intake_age_group", sa.String(16)), schema=S)
    op.add_column("cases", sa.Column("intake_region", sa.String(16)), schema=S)
    op.add_column("cases", sa.Column("intake_gender_identity", sa.Text()), schema=S)
    op.add_column("cases", sa.Column("intake_gender_report", sa.String(40)), schema=S)
    op.drop_constraint("status_known", "cases", schema=S, type_="check")
    op.create_check_constraint(
        "status_known",
        "cases",
        "status IN ('intake', 'queued', 'assigned', 'on_hold', 'closed')",
        schema=S,
    )
    texts = sa.table(
        "auto_texts", sa.column("key", sa.String), sa.column("body", sa.Text), schema=S
    )
    op.bulk_insert(texts, [{"key": k, "body": v} for k, v in SEED_TEXTS.items()])


def downgrade() -> None:
    op.execute("DELETE FROM routing.auto_texts WHERE key LIKE 'intake\\_%'")
    # a case still in intake is queued: nobody is left behind by a downgrade
    op.execute("UPDATE routing.cases SET status = 'queued' WHERE status = 'intake'")
    op.drop_constraint("status_known", "cases", schema=S, type_="check")
    op.create_check_constraint(
        "status_known",
        "cases",
        "status IN ('queued', 'assigned', 'on_hold', 'closed')",
        schema=S,
    )
    for column in (
        "intake_gender_report",
        "intake_gender_identity",
        "intake_region",
        "intake_age_group",
        "intake_consent",
        "intake_outcome",
        "intake_asked_at",
        "intake_retried",
        "intake_step",
    ):
        op.drop_column("cases", column, schema=S)
