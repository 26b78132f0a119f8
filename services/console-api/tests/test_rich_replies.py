"""Stickers, quick replies, the typing signal and 既読 from the console's side."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from console_support import CSRF, eventually, make_case_assigned, make_case_opened, new_client
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from sodan_console.api.schemas import MEDIA_REFUSED
from sodan_console.chat_signals import (
    newest_client_message,
    reads_for_viewer,
    should_signal_typing,
)
from sodan_console.stickers import catalogue, load_catalogue
from sodan_shared.crypto import Keyring
from sodan_shared.events.line import LoadingRequested, MarkReadRequested, PushRequested
from sodan_shared.nats import publish_event
from sodan_shared.subjects import LOADING_REQUESTED, MARK_READ_REQUESTED, PUSH_REQUESTED
from sodan_shared.testing.factories import make_message_received

# ---- pure -------------------------------------------------------------------------


def test_typing_is_throttled_per_case_and_only_while_the_client_is_around() -> None:
    now = datetime.now(UTC)
    recent = now - timedelta(minutes=5)
    kw: dict[str, Any] = {"now": now, "throttle_s": 20.0, "window_s": 3600.0}
    assert should_signal_typing(last_signalled=None, last_client_message_at=recent, **kw)
    assert not should_signal_typing(
        last_signalled=now - timedelta(seconds=5), last_client_message_at=recent, **kw
    )
    assert should_signal_typing(
        last_signalled=now - timedelta(seconds=21), last_client_message_at=recent, **kw
    )
    assert not should_signal_typing(
        last_signalled=None, last_client_message_at=now - timedelta(hours=2), **kw
    )
    assert not should_signal_typing(last_signalled=None, last_client_message_at=None, **kw)


def test_only_the_assigned_counsellor_makes_messages_read() -> None:
    me, other = uuid4(), uuid4()
    assert reads_for_viewer(viewer_id=me, assigned_to=me, status="assigned")
    assert not reads_for_viewer(viewer_id=other, assigned_to=me, status="assigned")
    assert not reads_for_viewer(viewer_id=me, assigned_to=None, status="queued")
    assert not reads_for_viewer(viewer_id=me, assigned_to=me, status="closed")


def test_the_newest_client_message_is_the_last_inbound_one() -> None:
    class Row:
        def __init__(self, direction: str, kind: str = "text") -> None:
            self.direction, self.kind, self.message_id = direction, kind, uuid4()

    rows = [Row("in"), Row("in"), Row("out")]
    assert newest_client_message(rows) == rows[1].message_id
    assert newest_client_message([Row("out")]) is None
    # A line saying the client unsent or blocked is not something to mark read.
    lines = [Row("in"), Row("in", "unsent"), Row("in", "blocked")]
    assert newest_client_message(lines) == lines[0].message_id


def test_the_sticker_catalogue_is_valid_and_refuses_duplicates(tmp_path: Any) -> None:
    stickers = catalogue().stickers
    assert 8 <= len(stickers) <= 12
    assert all(s.package_id in {"11537", "11538", "11539"} for s in stickers)
    bad = tmp_path / "stickers.json"
    twice = {"key": "a", "label": "A", "package_id": "1", "sticker_id": "2"}
    bad.write_text(json.dumps({"stickers": [twice, twice]}), encoding="utf-8")
    with pytest.raises(ValueError, match="unique"):
        load_catalogue(bad)


# ---- through the API -----------------------------------------------------------------


async def _staff_id(client: httpx.AsyncClient) -> str:
    return str((await client.get("/api/me")).json()["staff_id"])


async def _assigned_case(
    keyring: Keyring, js: JetStreamContext, counsellor: httpx.AsyncClient
) -> tuple[str, Any, Any]:
    identity, cipher = await new_client(keyring)
    received = make_message_received(cipher=cipher, client_no=identity.client_no, text="相談です")
    opened = make_case_opened(identity=identity, first_message_id=received.id)
    assigned = make_case_assigned(opened, counsellor_id=await _staff_id(counsellor))  # type: ignore[arg-type]
    for event in (received, opened, assigned):
        await publish_event(js, event)
    case_id = str(opened.payload.case_id)

    async def ready() -> bool:
        response = await counsellor.get(f"/api/cases/{case_id}")
        body = response.json() if response.status_code == 200 else {}
        return bool(body) and body["case"]["status"] == "assigned" and bool(body["messages"])

    await eventually(ready, what="the assigned case with its message")
    return case_id, opened, received


async def _next(sub: Any, model: Any, where: Any, timeout: float = 10) -> Any:
    while True:
        event = model.model_validate_json((await sub.next_msg(timeout=timeout)).data)
        if where(event):
            return event


async def test_a_sticker_with_quick_replies_is_pushed_and_shown(
    counsellor1: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext
) -> None:
    case_id, opened, _ = await _assigned_case(keyring, js, counsellor1)
    stickers = (await counsellor1.get("/api/stickers")).json()
    assert {"key": "thumbs_up", "label": "👍 いいね"} in stickers
    sub = await js.subscribe(
        PUSH_REQUESTED.name, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
    )
    buttons = [{"label": "はい", "text": "はい"}, {"label": "いいえ", "text": "いいえ"}]
    response = await counsellor1.post(
        f"/api/cases/{case_id}/replies",
        json={"sticker": "thumbs_up", "quick_replies": buttons},
        headers=CSRF,
    )
    assert response.status_code == 202, response.text
    message = response.json()["message"]
    assert message["sticker_label"] == "［スタンプ］👍 いいね"
    assert message["quick_replies"] == ["はい", "いいえ"]
    push = await _next(
        sub, PushRequested, lambda p: str(p.payload.push_id) == message["message_id"]
    )
    await sub.unsubscribe()
    assert push.payload.texts == []
    assert (push.payload.sticker.package_id, push.payload.sticker.sticker_id) == (
        "11537",
        "52002734",
    )
    assert "はい" not in (push.payload.quick_replies or "")  # sealed
    cipher = await keyring.cipher(opened.payload.client_id)
    assert json.loads(cipher.open("quick_replies", push.payload.quick_replies)) == buttons

    detail = (await counsellor1.get(f"/api/cases/{case_id}")).json()
    [mine] = [m for m in detail["messages"] if m["message_id"] == message["message_id"]]
    assert mine["kind"] == "sticker" and mine["sticker_label"] == "［スタンプ］👍 いいね"
    assert mine["quick_replies"] == ["はい", "いいえ"] and mine["delivery"] == "pending"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"type": "image", "original_content_url": "https://x.example/a.jpg"}, MEDIA_REFUSED),
        ({"text": "ここです", "location": {"latitude": 35.6, "longitude": 139.7}}, MEDIA_REFUSED),
        ({"image": "data:image/png;base64,AAAA"}, MEDIA_REFUSED),
        ({"package_id": "446", "sticker_id": "1988"}, MEDIA_REFUSED),
        ({"sticker": "no_such_sticker"}, "スタンプ: 使えるスタンプの中から選んでください"),
        ({}, "本文またはスタンプを指定してください"),
        (
            {"text": "はい", "quick_replies": [{"label": "x", "text": "x"}] * 14},
            "クイックリプライ: 12個以内で指定してください",
        ),
        (
            {"text": "はい", "quick_replies": [{"label": "x", "text": "x"}] * 13},
            "クイックリプライ: 12個以内で指定してください",
        ),
        (
            {"text": "はい", "quick_replies": [{"label": "あ" * 21, "text": "x"}]},
            "クイックリプライ: 20文字以内で入力してください",
        ),
        (
            {"text": "はい", "quick_replies": [{"label": "x", "text": "あ" * 301}]},
            "クイックリプライ: 300文字以内で入力してください",
        ),
    ],
)
async def test_anything_but_text_or_an_allowed_sticker_is_refused_with_a_clear_422(
    counsellor1: httpx.AsyncClient, body: dict[str, Any], detail: str
) -> None:
    response = await counsellor1.post(f"/api/cases/{uuid4()}/replies", json=body, headers=CSRF)
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == detail


async def test_typing_publishes_one_loading_command_per_throttle_window(
    counsellor1: httpx.AsyncClient, keyring: Keyring, js: JetStreamContext
) -> None:
    case_id, opened, _ = await _assigned_case(keyring, js, counsellor1)
    sub = await js.subscribe(
        LOADING_REQUESTED.name, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
    )
    first = await counsellor1.post(f"/api/cases/{case_id}/typing", headers=CSRF)
    second = await counsellor1.post(f"/api/cases/{case_id}/typing", headers=CSRF)
    assert first.json() == {"signalled": True} and second.json() == {"signalled": False}
    command = await _next(sub, LoadingRequested, lambda c: str(c.payload.case_id) == case_id)
    assert command.payload.client_id == opened.payload.client_id
    assert command.payload.seconds == 20
    with pytest.raises(TimeoutError):
        await _next(sub, LoadingRequested, lambda c: str(c.payload.case_id) == case_id, 1.0)
    await sub.unsubscribe()
    no_csrf = await counsellor1.post(f"/api/cases/{case_id}/typing")
    assert no_csrf.status_code == 403


async def test_the_assigned_counsellor_opening_the_case_marks_read_once_a_supervisor_never(
    counsellor1: httpx.AsyncClient,
    supervisor: httpx.AsyncClient,
    keyring: Keyring,
    js: JetStreamContext,
) -> None:
    sub = await js.subscribe(
        MARK_READ_REQUESTED.name, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
    )
    case_id, opened, received = await _assigned_case(keyring, js, counsellor1)
    # _assigned_case opened it as the counsellor already; opening again changes nothing.
    assert (await supervisor.get(f"/api/cases/{case_id}")).status_code == 200
    await counsellor1.get(f"/api/cases/{case_id}")

    def mine(c: MarkReadRequested) -> bool:
        return str(c.payload.case_id) == case_id

    command = await _next(sub, MarkReadRequested, mine)
    assert command.payload.up_to_message_event_id == received.id
    assert command.payload.client_id == opened.payload.client_id
    with pytest.raises(TimeoutError):
        await _next(sub, MarkReadRequested, mine, 1.0)

    cipher = await keyring.cipher(opened.payload.client_id)
    later = make_message_received(
        cipher=cipher, client_no=opened.payload.client_no, text="もう一つ"
    )
    await publish_event(js, later)

    async def shown() -> bool:
        detail = (await supervisor.get(f"/api/cases/{case_id}")).json()
        return any(m["message_id"] == str(later.id) for m in detail["messages"])

    await eventually(shown, what="the later message")
    with pytest.raises(TimeoutError):  # the supervisor saw it: still no 既読
        await _next(sub, MarkReadRequested, mine, 1.0)
    await counsellor1.get(f"/api/cases/{case_id}")
    again = await _next(sub, MarkReadRequested, mine)
    assert again.payload.up_to_message_event_id == later.id
    await sub.unsubscribe()
    assert isinstance(later.id, UUID)
