"""``sodan-console seed-demo``: the demo desk (two counsellors, a supervisor and an admin,
and a handful of 定型文)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from sodan_shared.db import transaction
from sodan_shared.runtime import Database

from sodan_console.auth import hash_password
from sodan_console.db import queries
from sodan_console.db import reply_templates as templates
from sodan_console.settings import ConsoleSettings


@dataclass(frozen=True)
class DemoStaff:
    login: str
    display_name: str
    role: str
    password: str

    @property
    def staff_id(self) -> UUID:
        # Stable ids: re-seeding a fresh database gives the same staff the same id.
        return uuid5(NAMESPACE_URL, f"https://sodan.invalid/demo-staff/{self.login}")


# Public demo passwords: only ever created outside production (checked by the CLI).
DEMO_STAFF = (
    DemoStaff("counsellor1", "相談員 一郎", "counsellor", "demo-pass-1"),
    DemoStaff("counsellor2", "相談員 二葉", "counsellor", "demo-pass-2"),
    DemoStaff("supervisor", "スーパーバイザー 三咲", "supervisor", "demo-pass-sv"),
    DemoStaff("admin", "管理者 四季", "admin", "demo-pass-admin"),
)


@dataclass(frozen=True)
class DemoTemplate:
    title: str
    category: str
    body: str
    sort_order: int

    @property
    def template_id(self) -> UUID:
        return uuid5(NAMESPACE_URL, f"https://sodan.invalid/demo-template/{self.title}")


# 定型文 for the demo desk. No phone number in them: a number in a reply always
# asks the counsellor to confirm (the desk's own number too), so it is given by hand.
DEMO_TEMPLATES = (
    DemoTemplate(
        "はじめのあいさつ",
        "あいさつ",
        "こんにちは。担当の{相談員名}です。メッセージを送ってくれてありがとうございます。"
        "ここでは、話したいことを、話したいペースで書いてもらって大丈夫です。",
        10,
    ),
    DemoTemplate(
        "少し待ってもらう",
        "待ってもらう",
        "ありがとうございます。お返事を考えているので、少しだけお待ちください。",
        20,
    ),
    DemoTemplate(
        "確認に時間がかかる",
        "待ってもらう",
        "大切なことなので、確認のため少しお時間をください。"
        "メッセージはちゃんと届いています。このままお待ちいただけますか。",
        30,
    ),
    DemoTemplate(
        "電話相談の案内",
        "案内",
        "文字で伝えるのが難しいときは、電話でお話しすることもできます。"
        "電話相談の番号と受付時間をお知らせしましょうか？",
        40,
    ),
    DemoTemplate(
        "終わりのあいさつ",
        "終わり",
        "今日はお話ししてくれてありがとうございました。"
        "また話したくなったら、いつでもメッセージを送ってください。"
        "次の相談日は {次回の相談日} です。",
        50,
    ),
)


async def seed_demo(settings: ConsoleSettings) -> None:
    if settings.environment == "production":
        raise RuntimeError("seed-demo refuses to run in production")
    db = Database.from_settings(settings)
    try:
        async with transaction(db.sessions) as session:
            for person in DEMO_STAFF:
                await queries.upsert_staff(
                    session,
                    staff_id=person.staff_id,
                    login=person.login,
                    display_name=person.display_name,
                    role=person.role,
                    password_hash=hash_password(person.password),
                )
            for template in DEMO_TEMPLATES:
                await templates.create(
                    session,
                    template_id=template.template_id,
                    title=template.title,
                    category=template.category,
                    body=template.body,
                    sort_order=template.sort_order,
                    staff_id=None,
                    at=datetime.now(UTC),
                    if_absent=True,
                )
    finally:
        await db.dispose()
    print("デモ用の相談窓口を用意しました（開発環境専用のパスワードです）")
    for person in DEMO_STAFF:
        print(f"  {person.login:<12} {person.password:<14} {person.display_name}（{person.role}）")
    print(f"コンソール: {settings.console_url}")
