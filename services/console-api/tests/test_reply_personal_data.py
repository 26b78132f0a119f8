"""A reply that looks like personal data waits for the counsellor's confirmation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from console_support import (
    CSRF,
    eventually,
    logged_in,
    make_case_assigned,
    make_case_opened,
    new_client,
)
from fastapi import FastAPI
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from sodan_console.reply_guard import check_reply
from sodan_shared.crypto import Keyring
from sodan_shared.events.line import PushRequested
from sodan_shared.nats import publish_event
from sodan_shared.subjects import PUSH_REQUESTED
from sodan_shared.testing.factories import make_message_received

PHONE_TEXT = "😊 折り返しは 090-1234-5678 までどうぞ"


def test_a_plain_reply_needs_no_confirmation() -> None:
    assert check_reply("お話ししてくれてありがとう。") is None
    assert check_reply(None) is None


def test_spans_count_utf16_units_like_the_browser() -> None:
    warning = check_reply(PHONE_TEXT)
    assert warning is not None and warning.kinds == ["phone"]
    [span] = warning.spans
    # The emoji is two UTF-16 units: JavaScript's slice must give the number back.
    utf16 = PHONE_TEXT.encode("utf-16-le")
    assert utf16[span.start * 2 : span.end * 2].decode("utf-16-le") == "090-1234-5678"
    assert "電話番号" in warning.message


def test_every_kind_is_named_once_in_a_fixed_order() -> None:
    warning = check_reply("a@example.com と 090-1234-5678、b@example.jp")
    assert warning is not None
    assert warning.kinds == ["phone", "email"]
    assert [s.kind for s in warning.spans] == ["email", "phone", "email"]
    assert "電話番号、メールアドレス" in warning.message


@pytest.fixture
async def admin(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    client = await logged_in(app, "admin")
    yield client
    await client.aclose()


async def _assigned_case(
    keyring: Keyring, js: JetStreamContext, counsellor: httpx.AsyncClient
) -> str:
    identity, cipher = await new_client(keyring)
    received = make_message_received(cipher=cipher, client_no=identity.client_no, text="相談です")
    opened = make_case_opened(identity=identity, first_message_id=received.id)
    me = (await counsellor.get("/api/me")).json()
    for event in (received, opened, make_case_assigned(opened, counsellor_id=me["staff_id"])):
        await publish_event(js, event)
    case_id = str(opened.payload.case_id)

    async def ready() -> bool:
        response = await counsellor.get(f"/api/cases/{case_id}")
        return response.status_code == 200 and response.json()["case"]["status"] == "assigned"

    await eventually(ready, what="the assigned case")
    return case_id


async def test_a_phone_number_is_held_until_confirmed_then_sent_and_recorded(
    counsellor1: httpx.AsyncClient,
    admin: httpx.AsyncClient,
    keyring: Keyring,
    js: JetStreamContext,
) -> None:
    case_id = await _assigned_case(keyring, js, counsellor1)
    pushes = await js.subscribe(
        PUSH_REQUESTED.name, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
    )
    url = f"/api/cases/{case_id}/replies"

    held = await counsellor1.post(url, json={"text": PHONE_TEXT}, headers=CSRF)
    assert held.status_code == 409, held.text
    body = held.json()
    assert body["personal_data"] == ["phone"]
    assert body["spans"] == [{"kind": "phone", "start": 9, "end": 22}]
    assert "電話番号" in body["detail"]
    assert "090" not in held.text  # the text is not echoed back
    detail = (await counsellor1.get(f"/api/cases/{case_id}")).json()
    assert all(m["direction"] == "in" for m in detail["messages"])  # nothing stored

    sent = await counsellor1.post(
        url, json={"text": PHONE_TEXT, "confirm_personal_data": True}, headers=CSRF
    )
    assert sent.status_code == 202, sent.text
    message_id = sent.json()["message"]["message_id"]

    async def pushed() -> PushRequested | None:
        push = PushRequested.model_validate_json((await pushes.next_msg(timeout=10)).data)
        return push if str(push.payload.push_id) == message_id else None

    push = await eventually(pushed, what="the confirmed reply's push")
    cipher = await keyring.cipher(push.payload.client_id)
    assert cipher.open("message.text", push.payload.texts[0]) == PHONE_TEXT
    await pushes.unsubscribe()

    me = (await counsellor1.get("/api/me")).json()
    entries = (
        await admin.get(
            "/api/admin/access-log",
            params={"action": "reply.personal_data_confirmed", "staff_id": me["staff_id"]},
        )
    ).json()["entries"]
    mine = [e for e in entries if e["target_id"] == case_id]
    assert [(e["reason"], e["status"], e["target_kind"]) for e in mine] == [("phone", 202, "case")]
    assert "090" not in str(mine)
    changes = (
        await admin.get(
            "/api/admin/access-log", params={"action": "change", "staff_id": me["staff_id"]}
        )
    ).json()["entries"]
    statuses = [e["status"] for e in changes if e["target_id"] == case_id]
    assert statuses[:2] == [202, 409]  # the held attempt is in the log too


async def test_a_confirmed_flag_without_personal_data_sends_without_a_record(
    counsellor1: httpx.AsyncClient, admin: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext
) -> None:
    case_id = await _assigned_case(keyring, js, counsellor1)
    sent = await counsellor1.post(
        f"/api/cases/{case_id}/replies",
        json={"text": "ありがとう", "confirm_personal_data": True},
        headers=CSRF,
    )
    assert sent.status_code == 202
    entries: list[dict[str, Any]] = (
        await admin.get("/api/admin/access-log", params={"action": "reply.personal_data_confirmed"})
    ).json()["entries"]
    assert all(e["target_id"] != case_id for e in entries)


async def test_the_confirmation_flag_must_be_a_boolean(
    counsellor1: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext
) -> None:
    case_id = await _assigned_case(keyring, js, counsellor1)
    bad = await counsellor1.post(
        f"/api/cases/{case_id}/replies",
        json={"text": "はい", "confirm_personal_data": "maybe"},
        headers=CSRF,
    )
    assert bad.status_code == 422
    assert "true か false" in bad.json()["detail"]
