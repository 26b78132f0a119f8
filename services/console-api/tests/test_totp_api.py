"""Login with TOTP, enrolment, lockout and the admins' staff actions over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from console_support import CSRF, client_for
from fastapi import FastAPI
from sodan_console.main import create_app
from sodan_console.settings import ConsoleSettings
from sodan_console.state import ConsoleState
from sqlalchemy import text
from totp_support import Person, make_staff

GENERIC = "ログインID・パスワード・確認コードのいずれかが正しくありません"


def _wrong_code(secret: str) -> str:
    """A code no step in the accepted window has (so the test never depends on luck)."""
    import pyotp

    totp = pyotp.TOTP(secret)
    return next(
        code
        for code in ("000000", "111111", "222222", "333333")
        if not totp.verify(code, valid_window=1)
    )


@pytest.fixture
async def strict_app(seeded: ConsoleSettings) -> AsyncIterator[FastAPI]:
    """As in production: supervisors and admins must use TOTP; 3 failures lock."""
    settings = seeded.model_copy(
        update={
            "console_totp_required_for": ["supervisor", "admin"],
            "console_login_max_failures": 3,
        }
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
def strict_state(strict_app: FastAPI) -> ConsoleState:
    console: ConsoleState = strict_app.state.console
    return console


async def _login(
    client: httpx.AsyncClient,
    person: Person,
    *,
    password: str | None = None,
    totp: str | None = None,
) -> httpx.Response:
    body = {"login": person.login, "password": password or person.password}
    if totp is not None:
        body["totp"] = totp
    return await client.post("/api/login", json=body, headers=CSRF)


@asynccontextmanager
async def _admin(app: FastAPI, state: ConsoleState) -> AsyncIterator[httpx.AsyncClient]:
    admin = await make_staff(state, "admin", enrolled=True)
    async with client_for(app) as client:
        response = await _login(client, admin, totp=admin.code())
        assert response.status_code == 200, response.text
        yield client


async def test_a_supervisor_without_totp_may_only_enrol(
    strict_app: FastAPI, strict_state: ConsoleState
) -> None:
    import pyotp

    person = await make_staff(strict_state, "supervisor")
    async with client_for(strict_app) as client:
        response = await _login(client, person)
        assert response.status_code == 200
        assert response.json()["enrolment_required"] is True
        # Nothing but enrolment until a first code is confirmed.
        refused = await client.get("/api/me")
        assert refused.status_code == 403
        assert "登録" in refused.json()["detail"]
        assert (await client.get("/api/cases")).status_code == 403

        setup = (await client.post("/api/me/totp/setup", headers=CSRF)).json()
        assert setup["uri"].startswith("otpauth://totp/")
        assert setup["secret"] in setup["uri"]
        wrong = _wrong_code(setup["secret"])
        bad = await client.post("/api/me/totp/confirm", json={"code": wrong}, headers=CSRF)
        assert bad.status_code == 400
        assert "確認コード" in bad.json()["detail"]
        code = pyotp.TOTP(setup["secret"]).now()
        ok = await client.post("/api/me/totp/confirm", json={"code": code}, headers=CSRF)
        assert ok.status_code == 200, ok.text
        assert ok.json()["totp_enrolled"] is True
        assert (await client.get("/api/me")).status_code == 200
        # Enrolled: a new setup is refused (an admin resets it instead).
        assert (await client.post("/api/me/totp/setup", headers=CSRF)).status_code == 409

    # The secret is stored sealed, never in clear.
    async with strict_state.db.sessions() as session:
        stored = (
            await session.execute(
                text("SELECT totp_secret FROM console.staff WHERE staff_id = :id"),
                {"id": person.staff_id},
            )
        ).scalar_one()
    assert setup["secret"].encode() not in stored

    # Next login: password alone asks for the code; the code logs in once.
    async with client_for(strict_app) as client:
        asked = await _login(client, person)
        assert asked.status_code == 401
        assert asked.json()["totp_required"] is True
        # The next step's code: the current one was used to confirm.
        later = pyotp.TOTP(setup["secret"]).at(datetime.now(UTC) + timedelta(seconds=30))
        assert (await _login(client, person, totp=later)).status_code == 200
    async with client_for(strict_app) as client:
        replay = await _login(client, person, totp=later)
        assert replay.status_code == 401
        assert replay.json()["detail"] == GENERIC


async def test_login_with_totp_and_a_wrong_code(
    strict_app: FastAPI, strict_state: ConsoleState
) -> None:
    person = await make_staff(strict_state, "supervisor", enrolled=True)
    async with client_for(strict_app) as client:
        wrong = str((int(person.code()) + 1) % 1_000_000).zfill(6)
        failed = await _login(client, person, totp=wrong)
        assert failed.status_code == 401
        assert failed.json()["detail"] == GENERIC
        # A wrong password with the right code reads the same.
        failed = await _login(client, person, password="not-the-password", totp=person.code())
        assert failed.json()["detail"] == GENERIC
        ok = await _login(client, person, totp=person.code())
        assert ok.status_code == 200, ok.text
        assert (await client.get("/api/me")).json()["login"] == person.login


async def test_counsellors_are_optional_and_may_enrol(
    strict_app: FastAPI, strict_state: ConsoleState
) -> None:
    import pyotp

    person = await make_staff(strict_state, "counsellor")
    async with client_for(strict_app) as client:
        response = await _login(client, person)
        assert response.status_code == 200
        assert response.json()["enrolment_required"] is False
        setup = (await client.post("/api/me/totp/setup", headers=CSRF)).json()
        code = pyotp.TOTP(setup["secret"]).now()
        ok = await client.post("/api/me/totp/confirm", json={"code": code}, headers=CSRF)
        assert ok.status_code == 200
    async with client_for(strict_app) as client:
        assert (await _login(client, person)).json().get("totp_required") is True


async def test_lockout_looks_the_same_for_known_and_unknown_logins(
    strict_app: FastAPI, strict_state: ConsoleState
) -> None:
    person = await make_staff(strict_state, "counsellor")
    ghost = Person(person.staff_id, f"ghost-{person.login}", "whatever-pass", "counsellor")
    async with client_for(strict_app) as client:
        answers = {}
        for who in (person, ghost):
            seen = []
            for _ in range(4):
                r = await _login(client, who, password="wrong-password")
                seen.append((r.status_code, r.json()["detail"]))
            answers[who.login] = seen
        assert answers[person.login] == answers[ghost.login]
        statuses = [s for s, _ in answers[person.login]]
        assert statuses == [401, 401, 429, 429]
        assert answers[person.login][0][1] == GENERIC
        assert "ロック" in answers[person.login][2][1]
        # Locked: even the right password is refused, with Retry-After.
        locked = await _login(client, person)
        assert locked.status_code == 429
        assert int(locked.headers["Retry-After"]) == 15 * 60

    # An admin ends the lockout early.
    async with _admin(strict_app, strict_state) as admin:
        listed = (await admin.get("/api/admin/staff")).json()
        assert next(r for r in listed if r["login"] == person.login)["locked"] is True
        r = await admin.post(f"/api/admin/staff/{person.staff_id}/unlock", headers=CSRF)
        assert r.status_code == 204
    async with client_for(strict_app) as client:
        assert (await _login(client, person)).status_code == 200


async def test_a_successful_login_resets_the_count(
    strict_app: FastAPI, strict_state: ConsoleState
) -> None:
    person = await make_staff(strict_state, "counsellor")
    async with client_for(strict_app) as client:
        for _ in range(2):
            assert (await _login(client, person, password="wrong-password")).status_code == 401
        assert (await _login(client, person)).status_code == 200
        for _ in range(2):
            assert (await _login(client, person, password="wrong-password")).status_code == 401
        assert (await _login(client, person)).status_code == 200


async def test_only_admins_act_on_staff(strict_app: FastAPI, strict_state: ConsoleState) -> None:
    target = await make_staff(strict_state, "counsellor")
    sv = await make_staff(strict_state, "supervisor", enrolled=True)
    async with client_for(strict_app) as client:
        assert (await _login(client, sv, totp=sv.code())).status_code == 200
        assert (await client.get("/api/admin/staff")).status_code == 403
        for path in ("disable", "enable", "totp/reset", "unlock"):
            r = await client.post(f"/api/admin/staff/{target.staff_id}/{path}", headers=CSRF)
            assert r.status_code == 403, path
            assert r.json()["detail"] == "この操作は管理者だけができます"
        r = await client.delete(f"/api/admin/staff/{target.staff_id}/sessions", headers=CSRF)
        assert r.status_code == 403


async def test_admin_disables_enables_ends_sessions_and_resets_totp(
    strict_app: FastAPI, strict_state: ConsoleState
) -> None:
    target = await make_staff(strict_state, "supervisor", enrolled=True)
    async with _admin(strict_app, strict_state) as admin, client_for(strict_app) as victim:
        assert (await _login(victim, target, totp=target.code())).status_code == 200

        # End all sessions: the open console is logged out.
        r = await admin.delete(f"/api/admin/staff/{target.staff_id}/sessions", headers=CSRF)
        assert r.status_code == 204
        assert (await victim.get("/api/me")).status_code == 401

        # Disable: login refused with the generic message; enable again.
        r = await admin.post(f"/api/admin/staff/{target.staff_id}/disable", headers=CSRF)
        assert r.status_code == 204
        refused = await _login(victim, target, totp=target.code(steps_ahead=1))
        assert (refused.status_code, refused.json()["detail"]) == (401, GENERIC)
        listed = (await admin.get("/api/admin/staff")).json()
        assert next(r for r in listed if r["login"] == target.login)["disabled"] is True
        r = await admin.post(f"/api/admin/staff/{target.staff_id}/enable", headers=CSRF)
        assert r.status_code == 204
        ok = await _login(victim, target, totp=target.code(steps_ahead=1))
        assert ok.status_code == 200, ok.text

        # Reset TOTP (lost phone): sessions end, the next login must enrol again.
        r = await admin.post(f"/api/admin/staff/{target.staff_id}/totp/reset", headers=CSRF)
        assert r.status_code == 204
        assert (await victim.get("/api/me")).status_code == 401
        again = await _login(victim, target)
        assert again.status_code == 200
        assert again.json()["enrolment_required"] is True

        me = (await admin.get("/api/me")).json()
        r = await admin.post(f"/api/admin/staff/{me['staff_id']}/disable", headers=CSRF)
        assert r.status_code == 409
        r = await admin.post(
            "/api/admin/staff/00000000-0000-0000-0000-000000000000/disable", headers=CSRF
        )
        assert r.status_code == 404


async def test_bad_code_input_gets_a_clear_error(
    strict_app: FastAPI, strict_state: ConsoleState
) -> None:
    person = await make_staff(strict_state, "counsellor")
    async with client_for(strict_app) as client:
        r = await _login(client, person, totp="1" * 40)
        assert r.status_code == 422
        assert r.json()["detail"].startswith("確認コード")
