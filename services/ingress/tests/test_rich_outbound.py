"""Stickers, quick replies with the client's end button, the loading animation and
既読: pure assembly and decisions, then through NATS, PostgreSQL and the simulator."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from line_simulator.client import SimulatorClient
from nats.js import JetStreamContext
from pydantic import ValidationError
from sodan_ingress.chat_actions import loading_skip_reason
from sodan_ingress.messages import (
    BadQuickRepliesError,
    Button,
    assemble_buttons,
    build_messages,
    end_button,
    parse_buttons,
)
from sodan_ingress.webhook import event_id_for
from sodan_shared.crypto import Keyring
from sodan_shared.events.line import (
    LoadingRequested,
    LoadingRequestedV1,
    MarkReadRequested,
    MarkReadRequestedV1,
    PushRequested,
    PushRequestedV1,
    ReplyRequested,
    ReplyRequestedV1,
    StickerRef,
)
from sodan_shared.nats import publish_event

from .test_push import _client_of_new_user, _result_of

END = Button(label="相談を終わる", text="終了")
STICKER = StickerRef(package_id="11537", sticker_id="52002734")


# ---- pure -----------------------------------------------------------------------


def test_the_end_button_sends_the_first_end_word_and_an_empty_label_switches_it_off() -> None:
    assert end_button("相談を終わる", ["終了", "おわり"]) == END
    assert end_button("", ["終了"]) is None
    assert end_button("相談を終わる", []) is None


def test_the_end_button_is_always_last_and_the_total_stays_within_13() -> None:
    own = [Button(label=f"b{i}", text=f"t{i}") for i in range(13)]
    assembled = assemble_buttons(own, END)
    assert len(assembled) == 13 and assembled[-1] == END and assembled[:12] == own[:12]
    assert assemble_buttons([Button("はい", "はい")], END) == [Button("はい", "はい"), END]
    assert assemble_buttons(own, None) == own
    assert assemble_buttons([END], END) == [END]  # never twice


def test_messages_are_texts_then_the_sticker_with_the_buttons_on_the_last() -> None:
    messages = build_messages(["a", "b"], sticker=STICKER, buttons=[END])
    dicts = [m.to_dict() for m in messages]
    assert [d["type"] for d in dicts] == ["text", "text", "sticker"]
    assert "quickReply" not in dicts[0] and "quickReply" not in dicts[1]
    assert dicts[2]["packageId"] == "11537" and dicts[2]["stickerId"] == "52002734"
    assert dicts[2]["quickReply"]["items"] == [
        {"type": "action", "action": {"type": "message", "label": "相談を終わる", "text": "終了"}}
    ]
    assert "quickReply" not in build_messages(["a"], buttons=[])[0].to_dict()


def test_sealed_quick_replies_must_hold_label_and_text_within_lines_limits() -> None:
    assert parse_buttons('[{"label": "はい", "text": "はい"}]') == [Button("はい", "はい")]
    for bad in ("{}", "nope", '[{"label": ""}]', json.dumps([{"label": "あ" * 21, "text": "x"}])):
        with pytest.raises(BadQuickRepliesError):
            parse_buttons(bad)


def test_a_push_needs_a_text_or_a_sticker_and_at_most_five_messages() -> None:
    base = {"push_id": uuid4(), "client_id": uuid4(), "origin": "counsellor"}
    PushRequestedV1(**base, texts=["v1.x"])  # existing producers stay valid
    PushRequestedV1(**base, sticker=STICKER)
    with pytest.raises(ValidationError, match="at least one text or a sticker"):
        PushRequestedV1(**base)
    with pytest.raises(ValidationError, match="at most 5"):
        PushRequestedV1(**base, texts=["v1.x"] * 5, sticker=STICKER)
    with pytest.raises(ValidationError):
        StickerRef(package_id="11537", sticker_id="../x")


def test_loading_is_skipped_when_stale_unknown_or_ended() -> None:
    now = datetime.now(UTC)
    fresh: dict[str, Any] = {
        "requested_at": now - timedelta(seconds=1),
        "now": now,
        "max_age_s": 15.0,
    }
    assert loading_skip_reason(**fresh, known=True, ended=False) is None
    assert loading_skip_reason(**fresh, known=False, ended=False) == "client_unknown"
    assert loading_skip_reason(**fresh, known=True, ended=True) == "client_ended_conversation"
    stale = fresh | {"requested_at": now - timedelta(seconds=16)}
    assert loading_skip_reason(**stale, known=True, ended=False) == "stale"
    with pytest.raises(ValidationError):
        LoadingRequestedV1(client_id=uuid4(), seconds=7)


# ---- through the simulator --------------------------------------------------------


async def _push(
    js: JetStreamContext,
    keyring: Keyring,
    client_id: UUID,
    *texts: str,
    sticker: StickerRef | None = None,
    buttons: list[dict[str, str]] | None = None,
) -> PushRequested:
    cipher = await keyring.cipher(client_id)
    push = PushRequested.new(
        channel="demo",
        payload=PushRequestedV1(
            push_id=uuid4(),
            client_id=client_id,
            texts=[cipher.seal("message.text", t) for t in texts],
            origin="counsellor",
            sticker=sticker,
            quick_replies=cipher.seal("quick_replies", json.dumps(buttons)) if buttons else None,
        ),
    )
    await publish_event(js, push)
    return push


def _labels(message: dict[str, Any]) -> list[tuple[str, str]]:
    items = message["quickReply"]["items"]
    return [(i["action"]["label"], i["action"]["text"]) for i in items]


async def test_a_sticker_push_arrives_with_the_end_button(
    sim: SimulatorClient, js: JetStreamContext, keyring: Keyring
) -> None:
    user_id, client_id = await _client_of_new_user(sim, js)
    push = await _push(js, keyring, client_id, sticker=STICKER)
    assert (await _result_of(js, push))["payload"]["status"] == "sent"
    [entry] = await sim.wait_for_inbox(user_id, 1)
    assert entry.message["type"] == "sticker"
    assert (entry.message["packageId"], entry.message["stickerId"]) == ("11537", "52002734")
    assert _labels(entry.message) == [("相談を終わる", "終了")]


async def test_counsellor_quick_replies_arrive_with_the_end_button_last_and_tapping_it_ends(
    sim: SimulatorClient, js: JetStreamContext, keyring: Keyring
) -> None:
    user_id, client_id = await _client_of_new_user(sim, js)
    buttons = [{"label": "はい", "text": "はい"}, {"label": "いいえ", "text": "いいえ"}]
    push = await _push(
        js, keyring, client_id, "今、話せますか？", "ゆっくりで大丈夫です", buttons=buttons
    )
    assert (await _result_of(js, push))["payload"]["status"] == "sent"
    first, last = await sim.wait_for_inbox(user_id, 2)
    assert "quickReply" not in first.message
    assert _labels(last.message) == [
        ("はい", "はい"),
        ("いいえ", "いいえ"),
        ("相談を終わる", "終了"),
    ]

    # Tapping the end button makes the client's LINE send its text: the end word.
    tapped = await sim.send_text(user_id, _labels(last.message)[-1][1])
    assert tapped.outcome == "delivered"
    blocked = await _push(js, keyring, client_id, "まだいらっしゃいますか？")
    result = await _result_of(js, blocked)
    assert result["payload"]["error"] == "client_ended_conversation"


async def test_an_automatic_reply_carries_its_quick_replies_before_the_end_button(
    sim: SimulatorClient, js: JetStreamContext, keyring: Keyring
) -> None:
    user_id, client_id = await _client_of_new_user(sim, js)
    cipher = await keyring.cipher(client_id)
    buttons = [{"label": "同意する", "text": "同意する"}, {"label": "スキップ", "text": "スキップ"}]
    reply = ReplyRequested.new(
        channel="demo",
        payload=ReplyRequestedV1(
            reply_id=uuid4(),
            client_id=client_id,
            texts=[cipher.seal("message.text", "ご相談の前に確認させてください")],
            quick_replies=cipher.seal("quick_replies", json.dumps(buttons)),
        ),
    )
    await publish_event(js, reply)
    [entry] = await sim.wait_for_inbox(user_id, 1)
    assert _labels(entry.message) == [
        ("同意する", "同意する"),
        ("スキップ", "スキップ"),
        ("相談を終わる", "終了"),
    ]


async def test_loading_reaches_the_simulator_once_and_never_for_an_ended_client(
    sim: SimulatorClient, js: JetStreamContext
) -> None:
    user_id, client_id = await _client_of_new_user(sim, js)
    await publish_event(
        js,
        LoadingRequested.new(
            channel="demo", payload=LoadingRequestedV1(client_id=client_id, seconds=20)
        ),
    )

    async def shown() -> int:
        return (await sim.get_user(user_id)).loading_calls

    for _ in range(100):
        if await shown():
            break
        await asyncio.sleep(0.1)
    assert await shown() == 1

    await sim.send_text(user_id, "終了")
    await asyncio.sleep(0.5)  # the webhook is settled before send_text returns
    await sim.add_fault("loading", status=500, count=1)  # a retry would show as a second call
    await publish_event(
        js,
        LoadingRequested.new(channel="demo", payload=LoadingRequestedV1(client_id=client_id)),
    )
    await asyncio.sleep(1.5)
    assert await shown() == 1
    await sim.clear_faults()


async def _mark_read(js: JetStreamContext, client_id: UUID, message_event_id: UUID) -> None:
    await publish_event(
        js,
        MarkReadRequested.new(
            channel="demo",
            payload=MarkReadRequestedV1(
                client_id=client_id, up_to_message_event_id=message_event_id
            ),
        ),
    )


async def test_mark_read_marks_up_to_the_message_once(
    sim: SimulatorClient, js: JetStreamContext
) -> None:
    user_id, client_id = await _client_of_new_user(sim, js)
    second = await sim.send_text(user_id, "二通目")
    second_id = event_id_for("demo", second.webhook_event_id)

    await _mark_read(js, client_id, second_id)
    for _ in range(100):
        if (await sim.get_user(user_id)).read_marks:
            break
        await asyncio.sleep(0.1)
    user = await sim.get_user(user_id)
    assert user.read_marks == 1 and user.read_up_to_message_id == second.message_id
    timeline = await sim.timeline(user_id)
    assert all(e.read for e in timeline if e.direction == "sent")

    await _mark_read(js, client_id, second_id)  # a repeat: the token is spent
    await asyncio.sleep(1.0)
    assert (await sim.get_user(user_id)).read_marks == 1


async def test_with_mark_as_read_off_no_token_is_kept_and_line_is_never_called(
    sim: SimulatorClient, nats_url: str, migrated_database_url: str, simulator_url: str
) -> None:
    from faststream.nats import NatsBroker
    from line_simulator.webhook import make_text_event
    from sodan_ingress.channels import ChannelRegistry
    from sodan_ingress.chat_actions import mark_read
    from sodan_ingress.content_api import LineContent
    from sodan_ingress.db.queries import find_read_token
    from sodan_ingress.intake import message_received_for
    from sodan_ingress.line_api import LinePusher
    from sodan_ingress.service import Ingress
    from sodan_ingress.webhook import WebhookEvent
    from sodan_shared.runtime import Database, keyring_for

    from .conftest import ingress_settings

    settings = ingress_settings(
        nats_url, migrated_database_url, line_api_base=simulator_url, ingress_mark_as_read=False
    )
    # Not a second running ingress: it would compete for the same consumers.
    db = Database.from_settings(settings)
    ingress = Ingress(
        settings=settings,
        channels=ChannelRegistry.from_settings(settings),
        db=db,
        keyring=keyring_for(settings, db),
        broker=NatsBroker(),
        pusher=LinePusher(api_base=simulator_url, timeout_s=5.0),
        content=LineContent(data_api_base=simulator_url, timeout_s=5.0, max_bytes=1024),
    )
    user = await sim.create_user()
    raw = make_text_event(user_id=user.user_id, text="こんにちは")
    assert raw["message"]["markAsReadToken"]
    try:
        received = await message_received_for(
            ingress, channel="demo", event=WebhookEvent.model_validate(raw)
        )
        async with ingress.db.sessions() as session:
            assert await find_read_token(session, message_event_id=received.id) is None
        command = MarkReadRequested.new(
            channel="demo",
            payload=MarkReadRequestedV1(
                client_id=received.payload.client_id, up_to_message_event_id=received.id
            ),
        )
        outcome = await mark_read(ingress, command, now=datetime.now(UTC))
    finally:
        await ingress.pusher.close()
        await ingress.db.dispose()
    assert outcome.reason == "disabled"
    assert (await sim.get_user(user.user_id)).read_marks == 0
