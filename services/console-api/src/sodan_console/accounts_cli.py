"""``sodan-console create-admin LOGIN 表示名``: the first admin of a new desk (or one
more when every admin is locked out of their account). Everything else about staff
accounts is done on the スタッフ管理 screen."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import uuid4

from sodan_shared.db import transaction
from sodan_shared.runtime import Database

from sodan_console.auth import hash_password
from sodan_console.db import auth_queries
from sodan_console.settings import ConsoleSettings
from sodan_console.staff_rules import (
    LOGIN_TAKEN,
    clean_display_name,
    display_name_problem,
    generate_password,
    login_problem,
)

USAGE = "使い方: sodan-console create-admin ログインID 表示名"


async def create_admin(settings: ConsoleSettings, *, login: str, display_name: str) -> str:
    """Creates the admin and returns a generated temporary password (changed at the
    first login); raises ValueError with the Japanese reason when refused."""
    name = clean_display_name(display_name)
    problem = login_problem(login) or display_name_problem(name)
    if problem is not None:
        raise ValueError(problem)
    password = generate_password()
    db = Database.from_settings(settings)
    try:
        async with transaction(db.sessions) as session:
            created = await auth_queries.create_staff(
                session,
                staff_id=uuid4(),
                login=login,
                display_name=name,
                role="admin",
                password_hash=hash_password(password),
            )
    finally:
        await db.dispose()
    if not created:
        raise ValueError(LOGIN_TAKEN)
    return password


def create_admin_command(args: Sequence[str], settings: ConsoleSettings) -> int:
    import asyncio

    if len(args) != 2:
        print(USAGE)
        return 2
    login, display_name = args
    try:
        password = asyncio.run(create_admin(settings, login=login, display_name=display_name))
    except ValueError as refused:
        print(f"作成できません: {refused}")
        return 1
    print(f"管理者 {login} を作成しました。仮パスワード（この一度だけ表示します）: {password}")
    print("最初のログインでパスワードの変更が求められます。")
    return 0
