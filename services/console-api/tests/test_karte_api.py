"""The 相談者カルテ and ケースメモ in the API: who reads and edits, a stale save is
refused, bad input is refused with a Japanese message and loses nothing, every
read and change is in the access log, an erased client's record reads as erased."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from console_support import (
    CSRF,
    STAFF,
    eventually,
    logged_in,
    make_case_assigned,
    make_case_closed,
    make_case_opened,
    new_client,
)
from fastapi import FastAPI
from nats.js import JetStreamContext
from sodan_console.karte import FLAGS, STALE_RECORD
from sodan_console.state import ConsoleState
from sodan_shared.crypto import Keyring
from sodan_shared.db import transaction
from sodan_shared.events.routing import CaseHandedOver, CaseHandedOverV1, CaseOpened
from sodan_shared.nats import publish_event
from sodan_shared.testing.factories import make_message_received
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

EDIT = {
    "characteristics": "高校生。家族にはカミングアウトしていない",
    "cautions": "夜間は返信が遅い",
}


@pytest.fixture
async def admin(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    client = await logged_in(app, "admin")
    yield client
    await client.aclose()


async def _staff_id(client: httpx.AsyncClient) -> UUID:
    return UUID((await client.get("/api/me")).json()["staff_id"])


async def _case(
    keyring: Keyring, js: JetStreamContext, counsellor: httpx.AsyncClient
) -> tuple[str, str, CaseOpened]:
    """An assigned case of a new client: (case id, client id, its case.opened)."""
    identity, cipher = await new_client(keyring)
    received = make_message_received(cipher=cipher, client_no=identity.client_no, text="相談です")
    opened = make_case_opened(identity=identity, first_message_id=received.id)
    assigned = make_case_assigned(opened, counsellor_id=await _staff_id(counsellor))
    for event in (received, opened, assigned):
        await publish_event(js, event)
    case_id = str(opened.payload.case_id)

    async def ready() -> dict[str, Any] | None:
        response = await counsellor.get(f"/api/cases/{case_id}")
        ok = response.status_code == 200 and response.json()["case"]["status"] == "assigned"
        return response.json() if ok else None

    detail = await eventually(ready, what="the assigned case")
    return case_id, detail["client_id"], opened


def _url(client_id: str) -> str:
    return f"/api/clients/{client_id}/record"


async def _entries(admin: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await admin.get("/api/admin/access-log", params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


async def test_the_case_detail_names_its_client_and_an_empty_record_can_be_edited(
    counsellor1: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext
) -> None:
    case_id, client_id, _ = await _case(keyring, js, counsellor1)
    record = (await counsellor1.get(_url(client_id))).json()
    assert record["version"] == 0 and record["can_edit"] is True
    assert record["characteristics"] == "" and record["flags"] == []
    assert record["flag_options"] == list(FLAGS)
    assert record["client_label"].startswith("C-")
    (past,) = record["cases"]
    assert past["case_id"] == case_id and past["status"] == "assigned"
    assert past["counsellors"] == [STAFF["counsellor1"].display_name]

    saved = await counsellor1.put(
        _url(client_id), json={**EDIT, "flags": [FLAGS[3], FLAGS[0]], "version": 0}, headers=CSRF
    )
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert body["version"] == 1 and body["cautions"] == EDIT["cautions"]
    assert body["flags"] == [FLAGS[0], FLAGS[3]]  # in the list's order
    assert body["updated_by_name"]
    again = (await counsellor1.get(_url(client_id))).json()
    assert again["characteristics"] == EDIT["characteristics"] and again["version"] == 1


async def test_a_stale_save_is_refused_and_the_first_save_stays(
    counsellor1: httpx.AsyncClient,
    supervisor: httpx.AsyncClient,
    keyring: Keyring,
    js: JetStreamContext,
) -> None:
    _, client_id, _ = await _case(keyring, js, counsellor1)
    first = await counsellor1.put(_url(client_id), json={**EDIT, "version": 0}, headers=CSRF)
    assert first.status_code == 200
    # the supervisor started editing the same version 0 before that save
    stale = await supervisor.put(
        _url(client_id), json={"cautions": "上書き", "version": 0}, headers=CSRF
    )
    assert stale.status_code == 409
    assert stale.json()["detail"] == STALE_RECORD
    record = (await supervisor.get(_url(client_id))).json()
    assert record["cautions"] == EDIT["cautions"] and record["version"] == 1
    fresh = await supervisor.put(
        _url(client_id), json={**EDIT, "cautions": "確認済み", "version": 1}, headers=CSRF
    )
    assert fresh.status_code == 200 and fresh.json()["version"] == 2


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"characteristics": "あ" * 4001}, "特徴: 4000文字以内で入力してください"),
        ({"cautions": "あ" * 2001}, "注意事項: 2000文字以内で入力してください"),
        ({"flags": ["宇宙人"]}, "フラグ: 不明なフラグです: 宇宙人"),
        ({"flags": [FLAGS[1], FLAGS[1]]}, "フラグ: フラグが重複しています"),
        ({"version": -1}, "版: 数値の範囲が正しくありません"),
        ({"nickname": "x"}, "nickname: 不明な項目です"),
    ],
)
async def test_bad_input_is_refused_with_a_japanese_message_and_loses_nothing(
    counsellor1: httpx.AsyncClient,
    keyring: Keyring,
    js: JetStreamContext,
    body: dict[str, Any],
    detail: str,
) -> None:
    _, client_id, _ = await _case(keyring, js, counsellor1)
    await counsellor1.put(_url(client_id), json={**EDIT, "version": 0}, headers=CSRF)
    refused = await counsellor1.put(
        _url(client_id), json={**EDIT, "version": 1, **body}, headers=CSRF
    )
    assert refused.status_code == 422
    assert refused.json()["detail"] == detail
    record = (await counsellor1.get(_url(client_id))).json()
    assert (record["version"], record["characteristics"]) == (1, EDIT["characteristics"])


async def test_a_counsellor_who_never_handled_the_client_gets_404_like_an_unknown_one(
    counsellor1: httpx.AsyncClient,
    counsellor2: httpx.AsyncClient,
    supervisor: httpx.AsyncClient,
    admin: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    keyring: Keyring,
    js: JetStreamContext,
) -> None:
    case_id, client_id, _ = await _case(keyring, js, counsellor1)
    other = await counsellor2.get(_url(client_id))
    unknown = await counsellor2.get(_url(str(uuid4())))
    assert other.status_code == unknown.status_code == 404
    assert other.json() == unknown.json() == {"detail": "相談者が見つかりません"}
    put = await counsellor2.put(_url(client_id), json={**EDIT, "version": 0}, headers=CSRF)
    assert put.status_code == 404
    assert (await anonymous.get(_url(client_id))).status_code == 401
    no_csrf = await counsellor1.put(_url(client_id), json={**EDIT, "version": 0})
    assert no_csrf.status_code == 403
    # supervisors and admins read every record
    assert (await supervisor.get(_url(client_id))).status_code == 200
    assert (await admin.get(_url(client_id))).status_code == 200
    assert (await supervisor.get(_url(str(uuid4())))).status_code == 404
    # notes: not another counsellor's case
    assert (await counsellor2.get(f"/api/cases/{case_id}/notes")).status_code == 403
    added = await counsellor2.post(
        f"/api/cases/{case_id}/notes", json={"text": "メモ"}, headers=CSRF
    )
    assert added.status_code == 403


async def test_once_handed_over_the_record_is_read_only_for_the_previous_counsellor(
    counsellor1: httpx.AsyncClient,
    counsellor2: httpx.AsyncClient,
    keyring: Keyring,
    js: JetStreamContext,
) -> None:
    case_id, client_id, opened = await _case(keyring, js, counsellor1)
    await counsellor1.post(f"/api/cases/{case_id}/notes", json={"text": "初回のメモ"}, headers=CSRF)
    handed = CaseHandedOver.new(
        channel="demo",
        payload=CaseHandedOverV1(
            case_id=opened.payload.case_id,
            client_id=opened.payload.client_id,
            from_counsellor_id=await _staff_id(counsellor1),
            to_counsellor_id=await _staff_id(counsellor2),
        ),
    )
    await publish_event(js, handed)

    async def moved() -> dict[str, Any] | None:
        response = await counsellor2.get(_url(client_id))
        return response.json() if response.status_code == 200 else None

    record = await eventually(moved, what="the hand-over projected")
    assert record["can_edit"] is True
    (past,) = record["cases"]
    assert len(past["counsellors"]) == 2
    assert [h["other_staff_name"] is not None for h in past["handovers"]] == [True]
    earlier = (await counsellor1.get(_url(client_id))).json()
    assert earlier["can_edit"] is False
    assert [n["text"] for n in earlier["cases"][0]["notes"]] == ["初回のメモ"]
    refused = await counsellor1.put(_url(client_id), json={**EDIT, "version": 0}, headers=CSRF)
    assert refused.status_code == 403
    # the case itself is no longer theirs, but its notes are read with the record
    assert (await counsellor1.get(f"/api/cases/{case_id}/notes")).status_code == 200


async def test_notes_are_appended_and_corrected_only_by_their_author_keeping_every_version(
    counsellor1: httpx.AsyncClient,
    supervisor: httpx.AsyncClient,
    admin: httpx.AsyncClient,
    keyring: Keyring,
    js: JetStreamContext,
) -> None:
    case_id, client_id, opened = await _case(keyring, js, counsellor1)
    url = f"/api/cases/{case_id}/notes"
    first = await counsellor1.post(url, json={"text": "学校の話が中心"}, headers=CSRF)
    assert first.status_code == 201, first.text
    (note,) = first.json()["items"]
    assert note["version"] == 1 and note["can_correct"] is True
    note_id = note["note_id"]
    sv_note = await supervisor.post(url, json={"text": "SV確認済み"}, headers=CSRF)
    assert sv_note.status_code == 201
    not_author = await supervisor.post(
        url, json={"text": "書き換え", "corrects": note_id}, headers=CSRF
    )
    assert not_author.status_code == 403
    assert not_author.json()["detail"] == "メモを訂正できるのは書いた本人だけです"
    by_admin = await admin.post(url, json={"text": "管理者のメモ"}, headers=CSRF)
    assert by_admin.status_code == 403  # notes are the case's counsellor's and SV's

    corrected = await counsellor1.post(
        url, json={"text": "学校と家族の話が中心", "corrects": note_id}, headers=CSRF
    )
    assert corrected.status_code == 201
    mine = next(n for n in corrected.json()["items"] if n["note_id"] == note_id)
    assert mine["version"] == 2 and mine["text"] == "学校と家族の話が中心"
    assert [v["text"] for v in mine["history"]] == ["学校の話が中心"]

    for bad, detail in (
        ({"text": "  "}, "本文: メモを入力してください"),
        ({"text": "あ" * 4001}, "本文: 4000文字以内で入力してください"),
        ({"text": "x", "corrects": str(uuid4())}, "訂正するメモが見つかりません"),
    ):
        refused = await counsellor1.post(url, json=bad, headers=CSRF)
        assert refused.status_code in (404, 422)
        assert refused.json()["detail"] == detail
    listed = (await counsellor1.get(url)).json()
    assert [n["text"] for n in listed["items"]] == ["学校と家族の話が中心", "SV確認済み"]
    assert listed["can_add"] is True

    # after closing: its counsellor can still write it up; the record lists it read-only
    await publish_event(js, make_case_closed(opened))

    async def closed() -> bool:
        record = (await counsellor1.get(_url(client_id))).json()
        return record["cases"][0]["status"] == "closed"

    await eventually(closed, what="the case closed")
    after = await counsellor1.post(url, json={"text": "終了後の記録"}, headers=CSRF)
    assert after.status_code == 201
    record = (await counsellor1.get(_url(client_id))).json()
    assert record["can_edit"] is False
    assert len(record["cases"][0]["notes"]) == 3


async def test_record_and_note_reads_and_changes_are_in_the_access_log(
    counsellor1: httpx.AsyncClient,
    admin: httpx.AsyncClient,
    keyring: Keyring,
    js: JetStreamContext,
) -> None:
    case_id, client_id, _ = await _case(keyring, js, counsellor1)
    me = str(await _staff_id(counsellor1))
    await counsellor1.get(_url(client_id))
    await counsellor1.put(_url(client_id), json={**EDIT, "version": 0}, headers=CSRF)
    await counsellor1.put(_url(client_id), json={**EDIT, "version": 0}, headers=CSRF)  # 409
    await counsellor1.post(f"/api/cases/{case_id}/notes", json={"text": "メモ"}, headers=CSRF)
    await counsellor1.get(f"/api/cases/{case_id}/notes")

    reads = await _entries(admin, action="client_record.read", staff_id=me)
    read = next(e for e in reads if e["target_id"] == client_id)
    assert read["target_kind"] == "client" and read["status"] == 200
    assert read["path"] == "/api/clients/{client_id}/record"
    changes = await _entries(admin, action="change", staff_id=me)
    saves = [e for e in changes if e["target_id"] == client_id]
    assert sorted(e["status"] for e in saves) == [200, 409]
    assert all(e["method"] == "PUT" and e["target_kind"] == "client" for e in saves)
    note_add = next(e for e in changes if e["path"] == "/api/cases/{case_id}/notes")
    assert note_add["target_id"] == case_id and note_add["status"] == 201
    note_reads = await _entries(admin, action="case_notes.read", staff_id=me)
    assert any(e["target_id"] == case_id for e in note_reads)
    assert "client_record.read" in (await admin.get("/api/admin/access-log")).json()["actions"]


async def test_an_erased_clients_record_reads_as_erased_and_cannot_be_edited(
    counsellor1: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext
) -> None:
    case_id, client_id, _ = await _case(keyring, js, counsellor1)
    await counsellor1.put(_url(client_id), json={**EDIT, "version": 0}, headers=CSRF)
    await counsellor1.post(f"/api/cases/{case_id}/notes", json={"text": "メモ"}, headers=CSRF)
    await keyring.destroy_client(UUID(client_id))
    record = await counsellor1.get(_url(client_id))
    assert record.status_code == 200
    body = record.json()
    assert body["unreadable"] is True and body["can_edit"] is False
    assert body["characteristics"] == "" and body["cautions"] == ""
    (note,) = body["cases"][0]["notes"]
    assert note["unreadable"] is True and note["text"] is None
    refused = await counsellor1.put(_url(client_id), json={**EDIT, "version": 1}, headers=CSRF)
    assert refused.status_code == 409 and "消去" in refused.json()["detail"]
    notes = (await counsellor1.get(f"/api/cases/{case_id}/notes")).json()
    assert notes["can_add"] is False


async def test_notes_and_record_versions_are_append_only_in_the_database(
    state: ConsoleState,
) -> None:
    probe = uuid4()
    async with transaction(state.db.sessions) as session:  # a row for the triggers to refuse
        await session.execute(
            text(
                "INSERT INTO console.case_notes (note_id, version, case_id, client_id, staff_id,"
                " written_at, body) VALUES (:id, 1, :id, :id, :id, now(), 'sealed')"
            ),
            {"id": probe},
        )
        await session.execute(
            text(
                "INSERT INTO console.client_record_versions (client_id, version, updated_at,"
                " updated_by) VALUES (:id, 1, now(), :id)"
            ),
            {"id": probe},
        )
    for table in ("case_notes", "client_record_versions"):
        with pytest.raises(DBAPIError):
            async with transaction(state.db.sessions) as session:
                await session.execute(text(f"DELETE FROM console.{table}"))
        with pytest.raises(DBAPIError):
            async with transaction(state.db.sessions) as session:
                await session.execute(text(f"UPDATE console.{table} SET version = version"))
