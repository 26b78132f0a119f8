"""The simulator behaves like LINE where sodan relies on it (real HTTP, real SDK)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from line_simulator.client import SimulatorClient
from line_simulator.settings import SimulatorSettings
from line_simulator.webhook import sign
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MarkMessagesAsReadByTokenRequest,
    MessageAction,
    MessagingApi,
    PushMessageRequest,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
    StickerMessage,
    TextMessage,
)
from linebot.v3.webhooks import (
    AudioMessageContent,
    FileMessageContent,
    FollowEvent,
    ImageMessageContent,
    LocationMessageContent,
    MessageEvent,
    PostbackEvent,
    StickerMessageContent,
    UnfollowEvent,
    UnsendEvent,
    VideoMessageContent,
)

if TYPE_CHECKING:
    from conftest import Receiver


@pytest.fixture
def token(sim_settings: SimulatorSettings) -> str:
    return sim_settings.channel_access_token


@pytest.fixture
def line_api(simulator_url: str, token: str) -> Iterator[MessagingApi]:
    with ApiClient(Configuration(host=simulator_url, access_token=token)) as api_client:
        yield MessagingApi(api_client)


def push(api: MessagingApi, to: str, text: str, retry_key: str | None = None) -> Any:
    request = PushMessageRequest(to=to, messages=[TextMessage(text=text)])
    return api.push_message_with_http_info(request, x_line_retry_key=retry_key)


def body_of(error: ApiException) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(error.body)
    return parsed


# ---- webhooks (users → our system) -------------------------------------------


async def test_text_webhook_is_signed_and_parses_with_the_sdk(
    sim: SimulatorClient, recv: Receiver, sim_settings: SimulatorSettings
) -> None:
    user = await sim.create_user("山田")
    record = await sim.send_text(user.user_id, "相談したいです")
    assert record.outcome == "delivered"
    assert [a.status for a in record.attempts] == [200]
    (event,) = recv.events
    assert isinstance(event, MessageEvent)
    assert event.message.text == "相談したいです"
    assert event.source.user_id == user.user_id
    assert event.webhook_event_id == record.webhook_event_id
    assert event.reply_token == record.reply_token
    assert event.delivery_context.is_redelivery is False
    headers = recv.headers[0]
    assert headers["user-agent"] == "LineBotWebhook/2.0"
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert headers["x-line-signature"] == sign(recv.bodies[0], sim_settings.channel_secret)


async def test_every_user_action_reaches_the_webhook_as_its_event(
    sim: SimulatorClient, recv: Receiver
) -> None:
    uid = (await sim.create_user()).user_id
    await sim.follow(uid)
    await sim.send_sticker(uid)
    for media in ("image", "video", "audio", "file"):
        await sim.send_media(uid, media)  # type: ignore[arg-type]
    await sim.send_location(uid)
    await sim.postback(uid, "action=consent")
    text = await sim.send_text(uid, "取り消す")
    await sim.unsend(uid, text.message_id or "")
    await sim.unfollow(uid)
    kinds = [type(e).__name__ for e in recv.events]
    assert kinds == [
        FollowEvent.__name__,
        *[MessageEvent.__name__] * 6,
        PostbackEvent.__name__,
        MessageEvent.__name__,
        UnsendEvent.__name__,
        UnfollowEvent.__name__,
    ]
    contents = [type(e.message) for e in recv.events[1:7]]
    assert contents == [
        StickerMessageContent,
        ImageMessageContent,
        VideoMessageContent,
        AudioMessageContent,
        FileMessageContent,
        LocationMessageContent,
    ]


async def test_failed_webhook_is_redelivered_with_the_same_event_id(
    sim: SimulatorClient, recv: Receiver
) -> None:
    recv.fail_with = [503]
    user = await sim.create_user()
    record = await sim.send_text(user.user_id, "もしもし")
    assert [a.status for a in record.attempts] == [503, 200]
    assert [a.is_redelivery for a in record.attempts] == [False, True]
    first, second = (json.loads(b)["events"][0] for b in recv.bodies)
    assert first["deliveryContext"] == {"isRedelivery": False}
    assert second["deliveryContext"] == {"isRedelivery": True}
    assert first["webhookEventId"] == second["webhookEventId"] == record.webhook_event_id
    assert record.outcome == "delivered"


async def test_an_event_can_be_redelivered_long_after_it_was_delivered(
    sim: SimulatorClient, recv: Receiver
) -> None:
    user = await sim.create_user()
    first = await sim.send_text(user.user_id, "届いたはずのメッセージ")
    assert first.outcome == "delivered"

    again = await sim.redeliver(first.webhook_event_id)

    assert again.outcome == "delivered"
    assert [a.is_redelivery for a in again.attempts] == [True]
    original, redelivered = (json.loads(b)["events"][0] for b in recv.bodies)
    assert redelivered["deliveryContext"] == {"isRedelivery": True}
    assert redelivered["webhookEventId"] == original["webhookEventId"]
    assert redelivered["message"] == original["message"]
    with pytest.raises(httpx.HTTPStatusError) as refused:
        await sim.redeliver("01NOSUCHEVENT0000000000000")
    assert refused.value.response.status_code == 404


async def test_webhook_gives_up_after_the_configured_redeliveries(
    sim: SimulatorClient, recv: Receiver
) -> None:
    recv.fail_with = [500] * 10
    user = await sim.create_user()
    record = await sim.send_text(user.user_id, "もしもし")
    assert record.outcome == "failed"
    assert len(record.attempts) == 4  # first try + 3 redeliveries
    assert (await sim.stats()).webhooks_failed == 1
    (logged,) = await sim.deliveries(user_id=user.user_id)
    assert logged.webhook_event_id == record.webhook_event_id


async def test_unreachable_webhook_counts_as_a_failed_attempt(sim: SimulatorClient) -> None:
    await sim.configure(webhook_url="http://127.0.0.1:9/nothing", redelivery_attempts=1)
    user = await sim.create_user()
    record = await sim.send_text(user.user_id, "もしもし")
    assert record.outcome == "failed"
    assert [a.status for a in record.attempts] == [None, None]
    assert all(a.error for a in record.attempts)


# ---- Messaging API (our system → users) --------------------------------------


async def test_sdk_push_reaches_the_users_inbox(
    sim: SimulatorClient, line_api: MessagingApi
) -> None:
    user = await sim.create_user()
    response = push(line_api, user.user_id, "ご相談ありがとうございます")
    assert response.status_code == 200
    assert response.headers["x-line-request-id"]
    assert response.data.sent_messages[0].id
    (entry,) = await sim.wait_for_inbox(user.user_id, 1)
    assert entry.via == "push"
    assert entry.message["text"] == "ご相談ありがとうございます"
    assert entry.request_id == response.headers["x-line-request-id"]


async def test_sdk_reply_works_once_per_reply_token(
    sim: SimulatorClient, line_api: MessagingApi
) -> None:
    user = await sim.create_user()
    record = await sim.send_text(user.user_id, "こんにちは")
    request = ReplyMessageRequest(
        reply_token=record.reply_token, messages=[TextMessage(text="担当者におつなぎします")]
    )
    line_api.reply_message(request)
    with pytest.raises(ApiException) as reused:
        line_api.reply_message(request)
    assert reused.value.status == 400
    assert body_of(reused.value) == {"message": "Invalid reply token"}
    (entry,) = await sim.inbox(user.user_id)
    assert entry.via == "reply"


async def test_expired_reply_token_is_refused(sim: SimulatorClient, line_api: MessagingApi) -> None:
    await sim.configure(reply_token_lifetime_s=0.05)
    user = await sim.create_user()
    record = await sim.send_text(user.user_id, "こんにちは")
    await asyncio.sleep(0.1)
    request = ReplyMessageRequest(reply_token=record.reply_token, messages=[TextMessage(text="x")])
    with pytest.raises(ApiException) as expired:
        line_api.reply_message(request)
    assert expired.value.status == 400
    assert await sim.inbox(user.user_id) == []


async def test_retry_key_delivers_once(sim: SimulatorClient, line_api: MessagingApi) -> None:
    user = await sim.create_user()
    key = str(uuid.uuid4())
    first = push(line_api, user.user_id, "一度だけ", retry_key=key)
    with pytest.raises(ApiException) as again:
        push(line_api, user.user_id, "一度だけ", retry_key=key)
    assert again.value.status == 409
    assert again.value.headers["x-line-accepted-request-id"] == first.headers["x-line-request-id"]
    assert body_of(again.value)["message"] == "The retry key is already accepted"
    assert len(await sim.inbox(user.user_id)) == 1


async def test_retry_key_covers_an_answer_lost_after_delivery(
    sim: SimulatorClient, line_api: MessagingApi
) -> None:
    user = await sim.create_user()
    await sim.add_fault("push", status=500, after_delivery=True)
    key = str(uuid.uuid4())
    with pytest.raises(ApiException) as lost:
        push(line_api, user.user_id, "届いたかな", retry_key=key)
    assert lost.value.status == 500
    with pytest.raises(ApiException) as retried:
        push(line_api, user.user_id, "届いたかな", retry_key=key)
    assert retried.value.status == 409
    assert len(await sim.inbox(user.user_id)) == 1


async def test_wrong_access_token_is_refused(simulator_url: str, sim: SimulatorClient) -> None:
    user = await sim.create_user()
    config = Configuration(host=simulator_url, access_token="not-the-token")
    with ApiClient(config) as client, pytest.raises(ApiException) as refused:
        push(MessagingApi(client), user.user_id, "x")
    assert refused.value.status == 401
    assert body_of(refused.value)["message"].startswith("Authentication failed.")
    assert await sim.inbox(user.user_id) == []


@pytest.mark.parametrize(
    ("messages", "problem"),
    [
        ([], "messages"),
        ([{"type": "text", "text": "x"}] * 6, "messages"),
        ([{"type": "text", "text": "あ" * 5001}], "messages[0].text"),
        ([{"type": "text"}], "messages[0].text"),
        ([{"type": "hologram"}], "messages[0].type"),
    ],
)
async def test_invalid_messages_are_refused(
    simulator_url: str, token: str, sim: SimulatorClient, messages: list[Any], problem: str
) -> None:
    user = await sim.create_user()
    async with httpx.AsyncClient(base_url=simulator_url) as http:
        response = await http.post(
            "/v2/bot/message/push",
            json={"to": user.user_id, "messages": messages},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 400
    assert response.json()["details"][0]["property"] == problem
    assert await sim.inbox(user.user_id) == []


async def test_push_to_an_unknown_user_is_refused(line_api: MessagingApi) -> None:
    with pytest.raises(ApiException) as refused:
        push(line_api, "U" + "0" * 32, "x")
    assert refused.value.status == 400
    assert body_of(refused.value)["message"].startswith("The property, 'to', in the request body")


async def test_injected_429_fails_then_the_next_push_succeeds(
    sim: SimulatorClient, line_api: MessagingApi
) -> None:
    user = await sim.create_user()
    await sim.add_fault("push", status=429, count=1)
    with pytest.raises(ApiException) as limited:
        push(line_api, user.user_id, "x")
    assert limited.value.status == 429
    assert body_of(limited.value) == {"message": "Too Many Requests"}
    assert push(line_api, user.user_id, "x").status_code == 200
    assert await sim.add_fault("reply", delay_ms=1, count=None)  # listed until cleared
    await sim.clear_faults()
    assert len(await sim.inbox(user.user_id)) == 1


async def test_delay_fault_slows_the_answer(sim: SimulatorClient, line_api: MessagingApi) -> None:
    user = await sim.create_user()
    await sim.add_fault("push", delay_ms=200)
    started = time.monotonic()
    push(line_api, user.user_id, "x")
    assert time.monotonic() - started >= 0.2


async def test_blocked_user_is_accepted_but_receives_nothing(
    sim: SimulatorClient, line_api: MessagingApi
) -> None:
    user = await sim.create_user()
    await sim.unfollow(user.user_id)
    assert push(line_api, user.user_id, "x").status_code == 200
    assert await sim.inbox(user.user_id) == []


async def test_media_the_user_sent_is_served_as_content(
    simulator_url: str, token: str, sim: SimulatorClient
) -> None:
    # MessagingApiBlob always targets api-data.line.me, so fetch like ingress would.
    user = await sim.create_user()
    record = await sim.send_media(user.user_id, "image")
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=simulator_url, headers=headers) as http:
        first = await http.get(f"/v2/bot/message/{record.message_id}/content")
        second = await http.get(f"/v2/bot/message/{record.message_id}/content")
        missing = await http.get("/v2/bot/message/123/content")
    assert first.status_code == 200
    assert first.headers["content-type"] == "image/jpeg"
    assert first.content.startswith(b"\xff\xd8") and first.content == second.content
    assert missing.status_code == 404


async def test_expired_content_is_404(simulator_url: str, token: str, sim: SimulatorClient) -> None:
    user = await sim.create_user()
    record = await sim.send_media(user.user_id, "file", file_name="a.pdf", file_size=5000)
    assert record.message_id is not None
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=simulator_url, headers=headers) as http:
        before = await http.get(f"/v2/bot/message/{record.message_id}/content")
        await sim.expire_content(record.message_id)
        after = await http.get(f"/v2/bot/message/{record.message_id}/content")
    assert before.status_code == 200 and len(before.content) == 5000
    assert before.headers["content-type"] == "application/pdf"
    assert after.status_code == 404


async def test_loading_animation_and_profile_work_through_the_sdk(
    sim: SimulatorClient, line_api: MessagingApi
) -> None:
    user = await sim.create_user("佐藤")
    line_api.show_loading_animation(
        ShowLoadingAnimationRequest(chat_id=user.user_id, loading_seconds=10)
    )
    after = await sim.get_user(user.user_id)
    assert after.loading_until is not None and after.loading_calls == 1
    profile = line_api.get_profile(user.user_id)
    assert profile.display_name == "佐藤"


async def test_mark_as_read_by_token_marks_that_message_and_all_before_it(
    sim: SimulatorClient, recv: Receiver, line_api: MessagingApi
) -> None:
    user = await sim.create_user("既読テスト")
    await sim.send_text(user.user_id, "一通目")
    second = await sim.send_text(user.user_id, "二通目")
    await sim.send_text(user.user_id, "三通目")
    tokens = [e.message.mark_as_read_token for e in recv.events]
    assert all(tokens) and len(set(tokens)) == 3  # the SDK reads markAsReadToken

    line_api.mark_messages_as_read_by_token(
        MarkMessagesAsReadByTokenRequest(mark_as_read_token=tokens[1])
    )

    after = await sim.get_user(user.user_id)
    assert after.read_marks == 1 and after.read_up_to_message_id == second.message_id
    timeline = await sim.timeline(user.user_id)
    assert [e.read for e in timeline if e.direction == "sent"] == [True, True, False]
    with pytest.raises(ApiException) as bad:
        line_api.mark_messages_as_read_by_token(
            MarkMessagesAsReadByTokenRequest(mark_as_read_token="not-a-token")
        )
    assert bad.value.status == 400


async def test_sticker_and_quick_replies_arrive_as_sent(
    sim: SimulatorClient, line_api: MessagingApi
) -> None:
    user = await sim.create_user()
    buttons = QuickReply(items=[QuickReplyItem(action=MessageAction(label="終わる", text="終了"))])
    line_api.push_message(
        PushMessageRequest(
            to=user.user_id,
            messages=[StickerMessage(packageId="11537", stickerId="52002734", quickReply=buttons)],
        )
    )
    [entry] = await sim.inbox(user.user_id)
    assert entry.message["packageId"] == "11537" and entry.message["stickerId"] == "52002734"
    assert entry.message["quickReply"]["items"][0]["action"] == {
        "type": "message",
        "label": "終わる",
        "text": "終了",
    }


# ---- control API and page ------------------------------------------------------


async def test_wait_for_inbox_gives_up_at_the_deadline(sim: SimulatorClient) -> None:
    user = await sim.create_user()
    with pytest.raises(TimeoutError):
        await sim.wait_for_inbox(user.user_id, 1, timeout=0.1)


async def test_timeline_shows_both_sides_in_order(
    sim: SimulatorClient, line_api: MessagingApi
) -> None:
    user = await sim.create_user()
    await sim.send_text(user.user_id, "質問です")
    push(line_api, user.user_id, "回答です")
    timeline = await sim.timeline(user.user_id)
    assert [(e.direction, e.message and e.message["text"]) for e in timeline] == [
        ("sent", "質問です"),
        ("received", "回答です"),
    ]
    assert timeline[0].delivery is not None and timeline[0].delivery.outcome == "delivered"


async def test_chat_page_is_served_self_contained(simulator_url: str) -> None:
    async with httpx.AsyncClient(base_url=simulator_url) as http:
        response = await http.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "LINE シミュレーター" in response.text
    assert "ユーザーを追加" in response.text
    assert "<script src" not in response.text and "https://" not in response.text


async def test_concurrent_pushes_with_one_retry_key_deliver_once(
    simulator_url: str, token: str, sim: SimulatorClient
) -> None:
    user = await sim.create_user()
    headers = {"Authorization": f"Bearer {token}", "X-Line-Retry-Key": str(uuid.uuid4())}
    body = {"to": user.user_id, "messages": [{"type": "text", "text": "一度だけ"}]}
    async with httpx.AsyncClient(base_url=simulator_url, headers=headers) as http:
        answers = await asyncio.gather(
            *(http.post("/v2/bot/message/push", json=body) for _ in range(10))
        )
    assert sorted(a.status_code for a in answers) == [200] + [409] * 9
    assert len(await sim.inbox(user.user_id)) == 1


async def test_bad_reply_body_leaves_the_reply_token_usable(
    simulator_url: str, token: str, sim: SimulatorClient
) -> None:
    user = await sim.create_user()
    record = await sim.send_text(user.user_id, "こんにちは")
    async with httpx.AsyncClient(
        base_url=simulator_url, headers={"Authorization": f"Bearer {token}"}
    ) as http:
        bad = {"replyToken": record.reply_token, "messages": [{"type": "text"}]}
        good = {"replyToken": record.reply_token, "messages": [{"type": "text", "text": "はい"}]}
        assert (await http.post("/v2/bot/message/reply", json=bad)).status_code == 400
        assert (await http.post("/v2/bot/message/reply", json=good)).status_code == 200


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Authorization header required"),
        ({"Authorization": "Bearer wrong"}, "Authentication failed"),
    ],
)
async def test_requests_without_the_access_token_are_refused(
    simulator_url: str, headers: dict[str, str], message: str
) -> None:
    async with httpx.AsyncClient(base_url=simulator_url, headers=headers) as http:
        response = await http.get("/v2/bot/profile/U" + "0" * 32)
    assert response.status_code == 401
    assert response.json()["message"].startswith(message)
    assert response.headers["x-line-request-id"]


def test_quick_reply_buttons_are_checked_like_line_does() -> None:
    from line_simulator.validation import validate_messages

    def text_with(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"type": "text", "text": "x", "quickReply": {"items": items}}]

    def button(label: str, text: str) -> dict[str, Any]:
        return {"type": "action", "action": {"type": "message", "label": label, "text": text}}

    assert validate_messages(text_with([button("はい", "はい")])) == []
    assert validate_messages(text_with([button("はい", "はい")] * 14)) == [
        ("messages[0].quickReply.items", "size must be between 1 and 13")
    ]
    [(where, _)] = validate_messages(text_with([button("あ" * 21, "x")]))
    assert where == "messages[0].quickReply.items[0].action.label"
    [(where, _)] = validate_messages(text_with([button("x", "あ" * 301)]))
    assert where == "messages[0].quickReply.items[0].action.text"
