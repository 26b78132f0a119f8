"""スタッフ管理 and アカウント設定 over HTTP: creating accounts, the forced password
change, roles and names, password resets, guard rails, role refusals, bad input,
TOTP re-enrolment and one's own logins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pyotp
import pytest
from console_support import CSRF, client_for, logged_in
from fastapi import FastAPI
from sodan_console.main import create_app
from sodan_console.settings import ConsoleSettings
from sodan_console.staff_rules import (
    LOGIN_FORMAT,
    LOGIN_TAKEN,
    NAME_EMPTY,
    NAME_TOO_LONG,
    PASSWORD_CHANGE_REQUIRED,
    PASSWORD_HAS_LOGIN,
    PASSWORD_TOO_SHORT,
    PASSWORD_TOO_SIMPLE,
    PASSWORD_UNCHANGED,
    SELF_DEMOTE,
    SELF_DISABLE,
    SELF_RESET,
)
from sodan_console.state import ConsoleState
from sqlalchemy import text
from totp_support import make_staff

ADMIN_ONLY = "この操作は管理者だけができます"


@pytest.fixture
async def admin(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    client = await logged_in(app, "admin")
    yield client
    await client.aclose()


def _new_login() -> str:
    return f"staff-{uuid4().hex[:10]}"


async def _create(admin: httpx.AsyncClient, **body: Any) -> httpx.Response:
    payload = {"login": _new_login(), "display_name": "新人 相談員", "role": "counsellor"}
    return await admin.post("/api/admin/staff", json=payload | body, headers=CSRF)


async def _login(client: httpx.AsyncClient, login: str, password: str) -> httpx.Response:
    return await client.post(
        "/api/login", json={"login": login, "password": password}, headers=CSRF
    )


async def _row(admin: httpx.AsyncClient, staff_id: str) -> dict[str, Any]:
    rows = (await admin.get("/api/admin/staff")).json()
    return next(r for r in rows if r["staff_id"] == staff_id)


async def _log_entries(state: ConsoleState, path: str, target: str | None) -> list[Any]:
    async with state.db.sessions() as session:
        rows = await session.execute(
            text(
                "SELECT action, method, status, target_kind, target_id FROM console.access_log"
                " WHERE path = :path AND (CAST(:target AS text) IS NULL OR target_id = :target)"
            ),
            {"path": path, "target": target},
        )
        return list(rows.all())


async def test_admin_creates_a_counsellor_who_must_change_the_password(
    app: FastAPI, admin: httpx.AsyncClient, state: ConsoleState
) -> None:
    login = _new_login()
    created = await _create(admin, login=login, display_name="  新人 相談員  ")
    assert created.status_code == 201, created.text
    body = created.json()
    temporary = body["temporary_password"]
    assert temporary and len(temporary) == 19
    staff_id = body["staff"]["staff_id"]
    assert body["staff"]["display_name"] == "新人 相談員"
    row = await _row(admin, staff_id)
    assert row["role"] == "counsellor" and row["password_change_required"] is True
    assert row["last_login_at"] is None and row["sessions"] == 0
    # recorded with the new account as its target
    entries = await _log_entries(state, "/api/admin/staff", staff_id)
    assert [(e.action, e.method, e.status, e.target_kind) for e in entries] == [
        ("change", "POST", 201, "staff")
    ]

    async with client_for(app) as person, client_for(app) as elsewhere:
        first = await _login(person, login, temporary)
        assert first.status_code == 200, first.text
        assert first.json()["password_change_required"] is True
        assert (await _login(elsewhere, login, temporary)).status_code == 200
        # nothing else until the password is changed
        refused = await person.get("/api/me")
        assert (refused.status_code, refused.json()["detail"]) == (403, PASSWORD_CHANGE_REQUIRED)
        assert (await person.get("/api/cases")).status_code == 403

        def change(current: str, new: str) -> Any:
            return person.post(
                "/api/me/password",
                json={"current_password": current, "new_password": new},
                headers=CSRF,
            )

        weak = await change(temporary, "short")
        assert (weak.status_code, weak.json()["detail"]) == (422, PASSWORD_TOO_SHORT)
        same = await change(temporary, temporary)
        assert (same.status_code, same.json()["detail"]) == (422, PASSWORD_UNCHANGED)
        wrong = await change("not-the-password", "a new passphrase 1")
        assert (wrong.status_code, wrong.json()["detail"]) == (
            400,
            "現在のパスワードが正しくありません",
        )
        ok = await change(temporary, "a new passphrase 1")
        assert ok.status_code == 200, ok.text
        assert ok.json()["password_change_required"] is False
        assert (await person.get("/api/me")).status_code == 200
        # the other session ended; the old password is gone
        assert (await elsewhere.get("/api/me")).status_code == 401
        assert (await _login(elsewhere, login, temporary)).status_code == 401
        assert (await _login(elsewhere, login, "a new passphrase 1")).status_code == 200

    row = await _row(admin, staff_id)
    assert row["password_change_required"] is False
    assert row["last_login_at"] is not None and row["sessions"] == 2
    changes = await _log_entries(state, "/api/me/password", None)
    assert {e.status for e in changes} >= {200, 400, 422}


async def test_a_typed_initial_password_is_not_echoed(
    app: FastAPI, admin: httpx.AsyncClient
) -> None:
    login = _new_login()
    created = await _create(admin, login=login, password="typed initial 2026", role="supervisor")
    assert created.status_code == 201
    assert created.json()["temporary_password"] is None
    async with client_for(app) as person:
        response = await _login(person, login, "typed initial 2026")
        assert response.json()["password_change_required"] is True


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"login": "Bad Login"}, LOGIN_FORMAT),
        ({"login": "ab"}, LOGIN_FORMAT),
        ({"display_name": "   "}, NAME_EMPTY),
        ({"display_name": "名" * 101}, NAME_TOO_LONG),
        ({"password": "short"}, PASSWORD_TOO_SHORT),
        ({"password": "aaaaaaaaaaaa"}, PASSWORD_TOO_SIMPLE),
        ({"login": "yamada-t", "password": "yamada-t-2026!"}, PASSWORD_HAS_LOGIN),
        ({"role": "owner"}, "役割: 選択肢の中から指定してください"),
        ({"extra": 1}, "extra: 不明な項目です"),
    ],
)
async def test_bad_input_is_refused_with_a_clear_message(
    admin: httpx.AsyncClient, body: dict[str, Any], detail: str
) -> None:
    before = len((await admin.get("/api/admin/staff")).json())
    response = await _create(admin, **body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == detail
    assert len((await admin.get("/api/admin/staff")).json()) == before


async def test_a_taken_login_is_a_conflict(admin: httpx.AsyncClient) -> None:
    taken = await _create(admin, login="counsellor1")
    assert (taken.status_code, taken.json()["detail"]) == (409, LOGIN_TAKEN)
    rows = (await admin.get("/api/admin/staff")).json()
    assert [r["display_name"] for r in rows if r["login"] == "counsellor1"] == ["相談員 一郎"]


async def test_role_and_name_changes_and_the_guard_rails(
    app: FastAPI, admin: httpx.AsyncClient, state: ConsoleState
) -> None:
    created = (await _create(admin, password="first password 1")).json()
    staff_id = created["staff"]["staff_id"]
    login = created["staff"]["login"]
    async with client_for(app) as person:
        assert (await _login(person, login, "first password 1")).status_code == 200
        r = await admin.patch(
            f"/api/admin/staff/{staff_id}", json={"display_name": "改名 太郎"}, headers=CSRF
        )
        assert r.status_code == 204
        row = await _row(admin, staff_id)
        assert row["display_name"] == "改名 太郎" and row["sessions"] == 1
        # a new role ends the sessions (the console reloads with the new screens)
        r = await admin.patch(
            f"/api/admin/staff/{staff_id}", json={"role": "supervisor"}, headers=CSRF
        )
        assert r.status_code == 204
        assert (await _row(admin, staff_id))["role"] == "supervisor"
        assert (await person.get("/api/me")).status_code == 401
    # both changes are in the access log, with the person as their target
    entries = await _log_entries(state, "/api/admin/staff/{staff_id}", staff_id)
    assert [(e.method, e.status, e.target_kind) for e in entries] == [("PATCH", 204, "staff")] * 2

    nothing = await admin.patch(f"/api/admin/staff/{staff_id}", json={}, headers=CSRF)
    assert nothing.status_code == 422 and "指定してください" in nothing.json()["detail"]
    blank = await admin.patch(
        f"/api/admin/staff/{staff_id}", json={"display_name": " "}, headers=CSRF
    )
    assert (blank.status_code, blank.json()["detail"]) == (422, NAME_EMPTY)
    assert (await _row(admin, staff_id))["display_name"] == "改名 太郎"
    missing = await admin.patch(f"/api/admin/staff/{uuid4()}", json={"role": "admin"}, headers=CSRF)
    assert missing.status_code == 404

    me = (await admin.get("/api/me")).json()["staff_id"]
    for path, body in (
        (f"/api/admin/staff/{me}", {"role": "supervisor"}),
        (f"/api/admin/staff/{me}/disable", None),
        (f"/api/admin/staff/{me}/password/reset", None),
        (f"/api/admin/staff/{me}/totp/reset", None),
    ):
        method = admin.patch if body is not None else admin.post
        r = await method(path, json=body, headers=CSRF)
        assert r.status_code == 409, path
        assert r.json()["detail"] in (SELF_DEMOTE, SELF_DISABLE, SELF_RESET)
    # keeping one's own role (and renaming oneself) is fine
    r = await admin.patch(
        f"/api/admin/staff/{me}",
        json={"role": "admin", "display_name": "管理者 四季"},
        headers=CSRF,
    )
    assert r.status_code == 204
    assert (await admin.get("/api/me")).status_code == 200


async def test_admin_promotes_and_another_admin_may_be_disabled(
    admin: httpx.AsyncClient,
) -> None:
    created = (await _create(admin, role="admin")).json()
    other = created["staff"]["staff_id"]
    r = await admin.patch(f"/api/admin/staff/{other}", json={"role": "counsellor"}, headers=CSRF)
    assert r.status_code == 204
    r = await admin.patch(f"/api/admin/staff/{other}", json={"role": "admin"}, headers=CSRF)
    assert r.status_code == 204
    r = await admin.post(f"/api/admin/staff/{other}/disable", headers=CSRF)
    assert r.status_code == 204
    assert (await _row(admin, other))["disabled"] is True


async def test_admin_resets_a_forgotten_password(
    app: FastAPI, admin: httpx.AsyncClient, seeded: ConsoleSettings
) -> None:
    created = (await _create(admin, password="first password 1")).json()
    staff_id, login = created["staff"]["staff_id"], created["staff"]["login"]
    async with client_for(app) as person:
        assert (await _login(person, login, "first password 1")).status_code == 200
        for _ in range(2):
            assert (await _login(person, login, "wrong password 9")).status_code == 401
        reset = await admin.post(f"/api/admin/staff/{staff_id}/password/reset", headers=CSRF)
        assert reset.status_code == 200
        temporary = reset.json()["temporary_password"]
        assert (await person.get("/api/me")).status_code == 401
        assert (await _login(person, login, "first password 1")).status_code == 401
        again = await _login(person, login, temporary)
        assert again.status_code == 200
        assert again.json()["password_change_required"] is True
    assert (await _row(admin, staff_id))["locked"] is False


async def test_only_admins_manage_staff(
    counsellor1: httpx.AsyncClient, supervisor: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    target = (await _create(admin)).json()["staff"]["staff_id"]
    for client in (counsellor1, supervisor):
        assert (await client.get("/api/admin/staff")).status_code == 403
        r = await client.post(
            "/api/admin/staff",
            json={"login": _new_login(), "display_name": "x", "role": "admin"},
            headers=CSRF,
        )
        assert (r.status_code, r.json()["detail"]) == (403, ADMIN_ONLY)
        r = await client.patch(f"/api/admin/staff/{target}", json={"role": "admin"}, headers=CSRF)
        assert (r.status_code, r.json()["detail"]) == (403, ADMIN_ONLY)
        r = await client.post(f"/api/admin/staff/{target}/password/reset", headers=CSRF)
        assert (r.status_code, r.json()["detail"]) == (403, ADMIN_ONLY)
    row = await _row(admin, target)
    assert row["role"] == "counsellor" and row["password_change_required"] is True
    # and without the CSRF header even an admin is refused
    r = await admin.post(f"/api/admin/staff/{target}/password/reset")
    assert r.status_code == 403


async def test_own_account_and_own_logins_only(
    counsellor2: httpx.AsyncClient, app: FastAPI
) -> None:
    account = (await counsellor2.get("/api/me/account")).json()
    assert account["login"] == "counsellor2"
    assert account["totp_enrolled"] is False and account["totp_required"] is False
    # someone else fails a login meanwhile: not in counsellor2's list
    async with client_for(app) as other:
        await _login(other, "counsellor1", "wrong password 1")
    logins = (await counsellor2.get("/api/me/logins")).json()
    assert logins and logins[0]["action"] == "login.succeeded"
    me = account["staff_id"]
    async with app.state.console.db.sessions() as session:
        own = await session.execute(
            text(
                "SELECT count(*) FROM console.access_log WHERE staff_id = :me"
                " AND action IN ('login.succeeded', 'login.failed', 'logout')"
            ),
            {"me": UUID(me)},
        )
    assert len(logins) == min(own.scalar_one(), 20)
    assert (await counsellor2.get("/api/me/logins?limit=0")).status_code == 422


async def test_re_enrolling_totp_from_account_settings(app: FastAPI, state: ConsoleState) -> None:
    person = await make_staff(state, "counsellor", enrolled=True)
    async with client_for(app) as client:
        login = {"login": person.login, "password": person.password, "totp": person.code()}
        assert (await client.post("/api/login", json=login, headers=CSRF)).status_code == 200
        assert (await client.get("/api/me/account")).json()["totp_enrolled"] is True
        wrong = await client.post(
            "/api/me/totp/renew", json={"password": "not it at all"}, headers=CSRF
        )
        assert wrong.status_code == 400
        early = await client.post(
            "/api/me/totp/renew/confirm", json={"code": "123456"}, headers=CSRF
        )
        assert early.status_code == 409
        setup = await client.post(
            "/api/me/totp/renew", json={"password": person.password}, headers=CSRF
        )
        assert setup.status_code == 200, setup.text
        new = setup.json()
        assert new["secret"] != person.secret and new["qr_svg"].startswith("<svg")
        # the old phone's code does not confirm the new secret
        old_code = person.code(steps_ahead=1)
        bad = await client.post("/api/me/totp/renew/confirm", json={"code": old_code}, headers=CSRF)
        if not pyotp.TOTP(new["secret"]).verify(old_code, valid_window=1):
            assert bad.status_code == 400
        code = pyotp.TOTP(new["secret"]).now()
        ok = await client.post("/api/me/totp/renew/confirm", json={"code": code}, headers=CSRF)
        assert ok.status_code == 200, ok.text
    async with client_for(app) as client:
        later = pyotp.TOTP(new["secret"]).at(datetime.now(UTC) + timedelta(seconds=30))
        body = {"login": person.login, "password": person.password, "totp": later}
        assert (await client.post("/api/login", json=body, headers=CSRF)).status_code == 200
    async with client_for(app) as client:
        body["totp"] = person.code(steps_ahead=-1)
        assert (await client.post("/api/login", json=body, headers=CSRF)).status_code == 401


async def test_renewing_needs_an_enrolment_and_setup_draws_a_qr_code(
    counsellor1: httpx.AsyncClient,
) -> None:
    r = await counsellor1.post("/api/me/totp/renew", json={"password": "demo-pass-1"}, headers=CSRF)
    assert r.status_code == 409 and "登録" in r.json()["detail"]
    setup = (await counsellor1.post("/api/me/totp/setup", headers=CSRF)).json()
    assert setup["qr_svg"].startswith("<svg") and setup["uri"].startswith("otpauth://totp/")


async def test_wrong_current_passwords_lock_like_failed_logins(seeded: ConsoleSettings) -> None:
    application = create_app(seeded.model_copy(update={"console_login_max_failures": 2}))
    async with application.router.lifespan_context(application):
        person = await make_staff(application.state.console, "counsellor")
        async with client_for(application) as client:
            ok = await _login(client, person.login, person.password)
            assert ok.status_code == 200
            statuses = []
            for _ in range(3):
                r = await client.post(
                    "/api/me/password",
                    json={"current_password": "guess guess 1", "new_password": "a fine new one"},
                    headers=CSRF,
                )
                statuses.append(r.status_code)
            assert statuses == [400, 429, 429]
            assert "ロック" in r.json()["detail"]


async def test_the_first_admin_is_created_from_the_command_line(
    app: FastAPI, console_settings: ConsoleSettings
) -> None:
    from sodan_console.accounts_cli import create_admin

    login = _new_login()
    password = await create_admin(console_settings, login=login, display_name=" 最初の 管理者 ")
    with pytest.raises(ValueError, match=LOGIN_TAKEN):
        await create_admin(console_settings, login=login, display_name="二人目")
    with pytest.raises(ValueError, match="ログインID"):
        await create_admin(console_settings, login="Bad Login", display_name="x")
    async with client_for(app) as client:
        first = await _login(client, login, password)
        assert first.status_code == 200
        assert (first.json()["role"], first.json()["password_change_required"]) == ("admin", True)
        assert (await client.get("/api/admin/staff")).status_code == 403
