"""Every LINE event type through the webhook: one event each, sealed, flagged."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
from line_simulator.client import SimulatorClient
from line_simulator.webhook import (
    as_redelivery,
    make_follow_event,
    make_postback_event,
    make_text_event,
    make_unfollow_event,
    make_unsend_event,
    new_user_id,
    now_ms,
)
from nats.js import JetStreamContext
from sodan_ingress.main import create_app
from sodan_ingress.webhook import event_id_for
from sodan_shared.crypto import Keyring
from sodan_shared.subjects import (
    CLIENT_FOLLOWED,
    CLIENT_UNFOLLOWED,
    LINE_IN,
    MESSAGE_RECEIVED,
    MESSAGE_UNSENT,
    POSTBACK_RECEIVED,
    UNKNOWN_EVENT_RECEIVED,
)

from .conftest import ingress_settings, serving, signed_webhook, stream_messages, wait_for_messages

WEBHOOK = "/line/webhook/demo"
TWO_HOURS_MS = 2 * 3600 * 1000


def _with_id(event_id: object) -> Any:
    return lambda data: data["id"] == str(event_id)


async def _one(js: JetStreamContext, subject: str, webhook_event_id: str) -> tuple[bytes, Any]:
    event_id = event_id_for("demo", webhook_event_id)
    found = await wait_for_messages(js, subject, where=_with_id(event_id))
    assert len(found) == 1, (subject, found)
    return found[0]


async def test_a_simulated_clients_whole_life_is_one_event_per_action(
    sim: SimulatorClient, js: JetStreamContext, keyring: Keyring
) -> None:
    user = await sim.create_user("テスト")
    followed = await sim.follow(user.user_id)
    sent = await sim.send_text(user.user_id, "やっぱり取り消します")
    answer = await sim.postback(user.user_id, "q=contact&answer=090-1234-5678")
    assert sent.message_id is not None
    unsent = await sim.unsend(user.user_id, sent.message_id)
    unfollowed = await sim.unfollow(user.user_id)
    for record in (followed, sent, answer, unsent, unfollowed):
        assert record.outcome == "delivered", record

    _, follow = await _one(js, CLIENT_FOLLOWED.name, followed.webhook_event_id)
    _, message = await _one(js, MESSAGE_RECEIVED.name, sent.webhook_event_id)
    raw_postback, postback = await _one(js, POSTBACK_RECEIVED.name, answer.webhook_event_id)
    _, unsend = await _one(js, MESSAGE_UNSENT.name, unsent.webhook_event_id)
    _, unfollow = await _one(js, CLIENT_UNFOLLOWED.name, unfollowed.webhook_event_id)

    client_ids = {e["payload"]["client_id"] for e in (follow, message, postback, unsend, unfollow)}
    assert len(client_ids) == 1
    assert {e["payload"]["client_no"] for e in (follow, postback, unsend, unfollow)} == {
        message["payload"]["client_no"]
    }
    assert unsend["payload"]["line_message_id"] == sent.message_id
    assert follow["payload"]["late"] is False
    # Quick-reply answers can be personal: never in clear on the stream.
    assert b"090-1234-5678" not in raw_postback
    assert user.user_id.encode() not in raw_postback
    cipher = await keyring.cipher(UUID(postback["payload"]["client_id"]))
    assert cipher.open("postback.data", postback["payload"]["data"]) == (
        "q=contact&answer=090-1234-5678"
    )


async def test_redelivered_non_message_events_are_published_once(
    http: httpx.AsyncClient, ingress_url: str, js: JetStreamContext
) -> None:
    user_id = new_user_id()
    events = [
        make_follow_event(user_id=user_id),
        make_postback_event(user_id=user_id, data="mood=3"),
        make_unsend_event(user_id=user_id, message_id="482371234567890123"),
        make_unfollow_event(user_id=user_id),
        {**make_unfollow_event(user_id=user_id), "type": "membership", "membership": {"x": 1}},
    ]
    first = signed_webhook(events)
    again = signed_webhook([as_redelivery(e) for e in events])

    for hook in (first, again):
        response = await http.post(ingress_url + WEBHOOK, content=hook.body, headers=hook.headers)
        assert response.status_code == 200
        assert response.json() == {"accepted": 5}

    for event, subject in zip(
        events,
        (CLIENT_FOLLOWED, POSTBACK_RECEIVED, MESSAGE_UNSENT, CLIENT_UNFOLLOWED),
        strict=False,
    ):
        event_id = event_id_for("demo", event["webhookEventId"])
        assert len(await stream_messages(js, subject.name, where=_with_id(event_id))) == 1
    _, unknown = await _one(js, UNKNOWN_EVENT_RECEIVED.name, events[4]["webhookEventId"])
    assert unknown["payload"]["line_type"] == "membership"
    assert unknown["payload"]["client_id"] is not None


async def test_an_unknown_event_keeps_its_type_name_and_nothing_of_its_body(
    http: httpx.AsyncClient, ingress_url: str, js: JetStreamContext
) -> None:
    strange = {
        **make_text_event(text="秘密の本文"),
        "type": "somethingNew",
        "source": {"type": "user"},
    }
    hook = signed_webhook([strange])

    response = await http.post(ingress_url + WEBHOOK, content=hook.body, headers=hook.headers)

    assert response.status_code == 200
    raw, data = await _one(js, UNKNOWN_EVENT_RECEIVED.name, strange["webhookEventId"])
    assert data["payload"]["line_type"] == "somethingNew"
    assert data["payload"]["client_id"] is None
    assert "秘密".encode() not in raw
    assert strange["replyToken"].encode() not in raw


async def test_group_and_room_events_are_skipped(
    http: httpx.AsyncClient, ingress_url: str, js: JetStreamContext
) -> None:
    in_group = {**make_text_event(), "source": {"type": "group", "groupId": "C1", "userId": "U1"}}
    joined = {**make_follow_event(), "type": "join", "source": {"type": "room", "roomId": "R1"}}
    before = (await js.stream_info(LINE_IN.name)).state.messages
    hook = signed_webhook([in_group, joined])

    response = await http.post(ingress_url + WEBHOOK, content=hook.body, headers=hook.headers)

    assert response.status_code == 200
    assert response.json() == {"accepted": 0}
    assert (await js.stream_info(LINE_IN.name)).state.messages == before


async def test_an_event_hours_old_is_flagged_late_and_still_published(
    http: httpx.AsyncClient, ingress_url: str, js: JetStreamContext
) -> None:
    old = now_ms() - TWO_HOURS_MS
    late_text = make_text_event(text="昨日送ったはず", timestamp=old, is_redelivery=True)
    late_follow = make_follow_event(timestamp=old)
    fresh = make_text_event(text="今送った")
    hook = signed_webhook([late_text, late_follow, fresh])

    response = await http.post(ingress_url + WEBHOOK, content=hook.body, headers=hook.headers)

    assert response.json() == {"accepted": 3}
    _, text = await _one(js, MESSAGE_RECEIVED.name, late_text["webhookEventId"])
    _, follow = await _one(js, CLIENT_FOLLOWED.name, late_follow["webhookEventId"])
    _, now = await _one(js, MESSAGE_RECEIVED.name, fresh["webhookEventId"])
    assert (text["payload"]["late"], follow["payload"]["late"], now["payload"]["late"]) == (
        True,
        True,
        False,
    )


async def test_personal_data_is_flagged_on_the_published_message(
    sim: SimulatorClient, js: JetStreamContext, keyring: Keyring
) -> None:
    user = await sim.create_user()
    text = "私の携帯は０９０－１２３４－５６７８、メールは me@example.jp です"
    record = await sim.send_text(user.user_id, text)
    plain = await sim.send_text(user.user_id, "2026-11-26に予約したい")

    raw, flagged = await _one(js, MESSAGE_RECEIVED.name, record.webhook_event_id)
    _, ordinary = await _one(js, MESSAGE_RECEIVED.name, plain.webhook_event_id)

    assert flagged["payload"]["personal_data"] == ["phone", "email"]
    assert ordinary["payload"]["personal_data"] == []
    assert b"me@example.jp" not in raw
    # Masking is off by default: the counsellor reads what was written.
    cipher = await keyring.cipher(UUID(flagged["payload"]["client_id"]))
    assert cipher.open("message.text", flagged["payload"]["text"]) == text


async def test_masking_replaces_personal_data_in_the_stored_text(
    http: httpx.AsyncClient,
    nats_url: str,
    migrated_database_url: str,
    js: JetStreamContext,
    keyring: Keyring,
) -> None:
    settings = ingress_settings(nats_url, migrated_database_url, ingress_mask_personal_data=True)
    event = make_text_event(text="〒100-0005 東京都千代田区丸の内1丁目に住んでます")
    hook = signed_webhook([event])
    async with serving(create_app(settings)) as url:
        response = await http.post(url + WEBHOOK, content=hook.body, headers=hook.headers)
    assert response.status_code == 200

    _, data = await _one(js, MESSAGE_RECEIVED.name, event["webhookEventId"])

    assert data["payload"]["personal_data"] == ["postal_address"]
    cipher = await keyring.cipher(UUID(data["payload"]["client_id"]))
    assert cipher.open("message.text", data["payload"]["text"]) == "＊＊＊に住んでます"
