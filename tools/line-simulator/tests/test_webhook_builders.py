"""The pure builders: ids, bodies and signatures as LINE makes them."""

from __future__ import annotations

import json
import re

import pytest
from line_simulator import webhook
from line_simulator.settings import DEMO_BOT_USER_ID, SimulatorSettings
from linebot.v3 import SignatureValidator, WebhookParser
from linebot.v3.webhooks import (
    FollowEvent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UnfollowEvent,
    UnsendEvent,
)

SECRET = "unit-secret"


def test_webhook_event_id_is_a_ulid() -> None:
    event_id = webhook.new_webhook_event_id(1_700_000_000_000)
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", event_id)
    # ULIDs sort by time: the first ten characters encode the millisecond.
    assert event_id[:10] < webhook.new_webhook_event_id(1_700_000_000_001)[:10]


def test_ids_have_line_shapes() -> None:
    assert re.fullmatch(r"U[0-9a-f]{32}", webhook.new_user_id())
    assert re.fullmatch(r"[0-9a-f]{32}", webhook.new_reply_token())
    assert re.fullmatch(r"\d{18}", webhook.new_message_id())


def test_signature_verifies_with_the_sdk_validator() -> None:
    body = webhook.make_webhook_body(DEMO_BOT_USER_ID, [webhook.make_text_event(text="相談")])
    assert SignatureValidator(SECRET).validate(body.decode(), webhook.sign(body, SECRET))
    assert webhook.signature_is_valid(body, SECRET, webhook.sign(body, SECRET))
    assert not webhook.signature_is_valid(body + b" ", SECRET, webhook.sign(body, SECRET))
    assert not webhook.signature_is_valid(body, SECRET, "署名")


def test_built_events_parse_with_the_sdk() -> None:
    user = webhook.new_user_id()
    events = [
        webhook.make_text_event(user_id=user, text="こんにちは"),
        webhook.make_follow_event(user_id=user),
        webhook.make_unfollow_event(user_id=user),
        webhook.make_postback_event(user_id=user, data="a=1"),
        webhook.make_unsend_event(user_id=user, message_id="1"),
    ]
    body = webhook.make_webhook_body(DEMO_BOT_USER_ID, events)
    parsed = WebhookParser(SECRET).parse(body.decode(), webhook.sign(body, SECRET))
    kinds = [MessageEvent, FollowEvent, UnfollowEvent, PostbackEvent, UnsendEvent]
    assert [type(e) for e in parsed] == kinds
    assert isinstance(parsed[0].message, TextMessageContent)
    assert parsed[0].message.text == "こんにちは"
    assert all(e.source.user_id == user for e in parsed)


def test_body_keeps_japanese_as_utf8() -> None:
    body = webhook.make_webhook_body(DEMO_BOT_USER_ID, [webhook.make_text_event(text="相談")])
    assert "相談".encode() in body
    assert json.loads(body)["destination"] == DEMO_BOT_USER_ID


def test_redelivery_keeps_the_event_id() -> None:
    event = webhook.make_text_event()
    again = webhook.as_redelivery(event)
    assert again["webhookEventId"] == event["webhookEventId"]
    assert again["deliveryContext"] == {"isRedelivery": True}
    assert event["deliveryContext"] == {"isRedelivery": False}


def test_unknown_media_type_is_rejected() -> None:
    with pytest.raises(ValueError, match="media"):
        webhook.make_media_event("text")


def test_settings_fall_back_to_the_services_channel_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SODAN_LINE_CHANNEL_SECRET", "from-services")
    monkeypatch.setenv("SODAN_LINE_CHANNEL_ACCESS_TOKEN", "token-from-services")
    monkeypatch.setenv("SODAN_SIM_PORT", "9999")
    settings = SimulatorSettings()
    assert settings.channel_secret == "from-services"
    assert settings.channel_access_token == "token-from-services"
    assert settings.port == 9999
    monkeypatch.setenv("SODAN_SIM_CHANNEL_SECRET", "sim-own")
    assert SimulatorSettings().channel_secret == "sim-own"
