"""The access log (spec 4(1)(イ)): what is recorded, who may read it, append-only."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import httpx
import pytest
from console_support import CSRF, STAFF, client_for, eventually, logged_in, make_case_opened
from console_support import new_client as new_line_client
from fastapi import FastAPI
from nats.js import JetStreamContext
from sodan_console.access_log import action_for, login_digest, target_of
from sodan_console.state import ConsoleState
from sodan_shared.crypto import Keyring
from sodan_shared.db import transaction
from sodan_shared.nats import publish_event
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

LOG = "/api/admin/access-log"


@pytest.fixture
async def admin(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    client = await logged_in(app, "admin")
    yield client
    await client.aclose()


async def _staff_id(client: httpx.AsyncClient) -> str:
    return str((await client.get("/api/me")).json()["staff_id"])


async def _entries(admin: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await admin.get(LOG, params=params)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


def test_what_is_recorded_as_what() -> None:
    assert action_for("GET", "/api/cases") == "case.list"
    assert action_for("GET", "/api/cases/{case_id}") == "case.read"
    assert action_for("GET", "/api/me") is None
    assert action_for("POST", "/api/cases/{case_id}/replies") == "change"
    assert action_for("DELETE", "/api/lexicon/{entry_id}") == "change"
    assert action_for("POST", "/api/login") is None  # recorded by the endpoint itself
    assert target_of({"case_id": "c1", "message_id": "m"}) == ("case", "c1")
    assert target_of({}) == (None, None)
    digest = login_digest("someone@example")
    assert digest.startswith("sha256:") and "someone" not in digest and len(digest) == 19


async def test_only_admins_read_or_export_the_log(
    admin: httpx.AsyncClient,
    counsellor1: httpx.AsyncClient,
    supervisor: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
) -> None:
    for client in (counsellor1, supervisor):
        assert (await client.get(LOG)).status_code == 403
        assert (await client.get(LOG + ".csv")).status_code == 403
    assert (await admin.get(LOG)).status_code == 200
    assert (await anonymous.get(LOG)).status_code == 401


async def test_login_failures_are_recorded_with_reason_but_answered_alike(
    app: FastAPI, admin: httpx.AsyncClient
) -> None:
    unknown = "nobody-" + uuid4().hex[:8]
    async with client_for(app) as client:
        client.headers["User-Agent"] = "TestAgent/1.0 " + "x" * 500
        wrong = await client.post(
            "/api/login", json={"login": "counsellor2", "password": "not-it-123"}, headers=CSRF
        )
        nobody = await client.post(
            "/api/login", json={"login": unknown, "password": "whatever-1"}, headers=CSRF
        )
    assert wrong.status_code == nobody.status_code == 401
    assert wrong.json() == nobody.json()

    failed = await _entries(admin, action="login.failed", limit=50)
    by_login = {e["login"]: e for e in failed}
    assert by_login["counsellor2"]["reason"] == "wrong_password"
    assert by_login["counsellor2"]["staff_id"] is not None
    unknown_entry = by_login[login_digest(unknown)]
    assert unknown_entry["reason"] == "unknown_login" and unknown_entry["staff_id"] is None
    assert all(unknown not in str(e) for e in failed)
    assert unknown_entry["client_addr"] == "127.0.0.1"
    assert unknown_entry["user_agent"].startswith("TestAgent/1.0")
    assert len(unknown_entry["user_agent"]) == 200

    succeeded = await _entries(admin, action="login.succeeded", staff_id=await _staff_id(admin))
    assert succeeded and succeeded[0]["login"] == "admin"


async def test_logout_is_recorded(app: FastAPI, admin: httpx.AsyncClient) -> None:
    client = await logged_in(app, "counsellor2")
    staff_id = await _staff_id(client)
    assert (await client.post("/api/logout", headers=CSRF)).status_code == 204
    await client.aclose()
    [latest, *_] = await _entries(admin, action="logout", staff_id=staff_id)
    assert (
        latest["login"] == "counsellor2"
        and latest["staff_name"] == STAFF["counsellor2"].display_name
    )


async def test_case_reads_and_lists_are_recorded(
    supervisor: httpx.AsyncClient, admin: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext
) -> None:
    identity, _ = await new_line_client(keyring)
    opened = make_case_opened(identity=identity, first_message_id=uuid4())
    await publish_event(js, opened)
    case_id = str(opened.payload.case_id)

    async def readable() -> bool:
        return (await supervisor.get(f"/api/cases/{case_id}")).status_code == 200

    await eventually(readable, what="the case projected")
    assert (await supervisor.get("/api/cases")).status_code == 200
    sv = await _staff_id(supervisor)
    reads = await _entries(admin, action="case.read", staff_id=sv)
    read = next(e for e in reads if e["target_id"] == case_id and e["status"] == 200)
    assert read["target_kind"] == "case" and read["path"] == "/api/cases/{case_id}"
    assert read["method"] == "GET"
    lists = await _entries(admin, action="case.list", staff_id=sv)
    assert lists[0]["path"] == "/api/cases" and lists[0]["status"] == 200


async def test_changes_are_recorded_with_path_template_and_status(
    counsellor1: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    put = await counsellor1.put("/api/me/presence", json={"presence": "away"}, headers=CSRF)
    assert put.status_code == 200
    refused = await counsellor1.put("/api/lexicon", json={}, headers=CSRF)
    assert refused.status_code >= 400
    mine = await _entries(admin, action="change", staff_id=await _staff_id(counsellor1))
    assert mine[0]["status"] == refused.status_code and mine[0]["path"] == "/api/lexicon"
    assert mine[1]["path"] == "/api/me/presence" and mine[1]["method"] == "PUT"
    assert mine[1]["status"] == 200


async def test_filters_pagination_and_csv(
    admin: httpx.AsyncClient, counsellor1: httpx.AsyncClient
) -> None:
    for _ in range(3):
        await counsellor1.get("/api/cases")
    c1 = await _staff_id(counsellor1)
    first = await admin.get(LOG, params={"staff_id": c1, "action": "case.list", "limit": 2})
    body = first.json()
    assert len(body["entries"]) == 2 and body["next_before_id"] is not None
    second = await _entries(
        admin, staff_id=c1, action="case.list", limit=2, before_id=body["next_before_id"]
    )
    assert second and second[0]["id"] < body["entries"][-1]["id"]
    assert {e["staff_id"] for e in body["entries"] + second} == {c1}

    assert await _entries(admin, **{"from": "2000-01-01", "to": "2000-01-02"}) == []
    bad = await admin.get(LOG, params={"from": "2026-02-02", "to": "2026-02-01"})
    assert bad.status_code == 422 and "終了日" in bad.json()["detail"]
    assert (await admin.get(LOG, params={"action": "nope"})).status_code == 422

    csv_response = await admin.get(LOG + ".csv", params={"staff_id": c1, "action": "case.list"})
    assert csv_response.status_code == 200
    assert csv_response.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv_response.headers["content-disposition"]
    raw = csv_response.content
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) >= 3 and {r["action"] for r in rows} == {"case.list"}
    assert rows[0]["login"] == "counsellor1"
    # reading and exporting the log are themselves recorded
    exports = await _entries(admin, action="access_log.export")
    assert exports and exports[0]["status"] == 200


async def test_the_log_is_append_only_in_the_database(state: ConsoleState) -> None:
    async with transaction(state.db.sessions) as session:
        await session.execute(
            text("INSERT INTO console.access_log (action, reason) VALUES ('change', 'probe')")
        )
    for statement in (
        "UPDATE console.access_log SET reason = 'forged' WHERE reason = 'probe'",
        "DELETE FROM console.access_log WHERE reason = 'probe'",
        "TRUNCATE console.access_log",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            async with transaction(state.db.sessions) as session:
                await session.execute(text(statement))
    async with transaction(state.db.sessions) as session:
        count = (
            await session.execute(
                text("SELECT count(*) FROM console.access_log WHERE reason = 'probe'")
            )
        ).scalar_one()
    assert count >= 1
