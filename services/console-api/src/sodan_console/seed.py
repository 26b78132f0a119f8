"""``sodan-console seed-demo``: the demo desk (two counsellors, a supervisor and an admin)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import NAMESPACE_URL, UUID, uuid5

from sodan_shared.db import transaction
from sodan_shared.runtime import Database

from sodan_console.auth import hash_password
from sodan_console.db import queries
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
    finally:
        await db.dispose()
    print("デモ用の相談窓口を用意しました（開発環境専用のパスワードです）")
    for person in DEMO_STAFF:
        print(f"  {person.login:<12} {person.password:<14} {person.display_name}（{person.role}）")
    print(f"コンソール: {settings.console_url}")
