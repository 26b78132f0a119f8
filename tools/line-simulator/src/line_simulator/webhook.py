"""Pure builders for LINE webhook bodies, ids and signatures.

No I/O here so other packages' tests and benchmarks can import these to post
webhooks straight at ingress. Shapes follow the Messaging API reference and
parse with ``linebot.v3.WebhookParser``; every builder takes keyword-only
overrides and fills the rest with realistic random values.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import secrets
import time
from typing import Any

Event = dict[str, Any]

CROCKFORD32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
USER_AGENT = "LineBotWebhook/2.0"
CONTENT_TYPE = "application/json; charset=utf-8"
SIGNATURE_HEADER = "X-Line-Signature"
MEDIA_TYPES = ("image", "video", "audio", "file")


# ---- ids -----------------------------------------------------------------


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def new_user_id() -> str:
    """A LINE user id: ``U`` followed by 32 lowercase hex digits."""
    return "U" + secrets.token_hex(16)


def new_reply_token() -> str:
    return secrets.token_hex(16)


def new_message_id() -> str:
    # LINE message ids are decimal strings of about 18 digits.
    return str(secrets.randbelow(9 * 10**17) + 10**17)


def new_quote_token() -> str:
    return secrets.token_urlsafe(48)


def new_mark_as_read_token() -> str:
    return secrets.token_urlsafe(32)


def new_webhook_event_id(timestamp_ms: int | None = None) -> str:
    """A ULID: 48-bit millisecond time then 80 random bits, Crockford base32."""
    ms = now_ms() if timestamp_ms is None else timestamp_ms
    value = (ms << 80) | secrets.randbits(80)
    return "".join(CROCKFORD32[(value >> shift) & 31] for shift in range(125, -1, -5))


# ---- events --------------------------------------------------------------


def _event(
    event_type: str,
    *,
    user_id: str | None,
    timestamp: int | None,
    webhook_event_id: str | None,
    is_redelivery: bool,
) -> Event:
    ts = now_ms() if timestamp is None else timestamp
    return {
        "type": event_type,
        "mode": "active",
        "timestamp": ts,
        "source": {"type": "user", "userId": user_id or new_user_id()},
        "webhookEventId": webhook_event_id or new_webhook_event_id(ts),
        "deliveryContext": {"isRedelivery": is_redelivery},
    }


def _message_event(
    message: dict[str, Any],
    *,
    user_id: str | None,
    reply_token: str | None,
    timestamp: int | None,
    webhook_event_id: str | None,
    is_redelivery: bool,
) -> Event:
    event = _event(
        "message",
        user_id=user_id,
        timestamp=timestamp,
        webhook_event_id=webhook_event_id,
        is_redelivery=is_redelivery,
    )
    event["replyToken"] = reply_token or new_reply_token()
    # Every message event carries one (LINE: for marking it and all before it read).
    message.setdefault("markAsReadToken", new_mark_as_read_token())
    event["message"] = message
    return event


def make_text_event(
    *,
    text: str = "こんにちは",
    user_id: str | None = None,
    message_id: str | None = None,
    quote_token: str | None = None,
    quoted_message_id: str | None = None,
    reply_token: str | None = None,
    timestamp: int | None = None,
    webhook_event_id: str | None = None,
    is_redelivery: bool = False,
) -> Event:
    message: dict[str, Any] = {
        "id": message_id or new_message_id(),
        "type": "text",
        "quoteToken": quote_token or new_quote_token(),
        "text": text,
    }
    if quoted_message_id:
        message["quotedMessageId"] = quoted_message_id
    return _message_event(
        message,
        user_id=user_id,
        reply_token=reply_token,
        timestamp=timestamp,
        webhook_event_id=webhook_event_id,
        is_redelivery=is_redelivery,
    )


def make_sticker_event(
    *,
    package_id: str = "446",
    sticker_id: str = "1988",
    sticker_resource_type: str = "STATIC",
    keywords: list[str] | None = None,
    user_id: str | None = None,
    message_id: str | None = None,
    reply_token: str | None = None,
    timestamp: int | None = None,
    webhook_event_id: str | None = None,
    is_redelivery: bool = False,
) -> Event:
    message: dict[str, Any] = {
        "id": message_id or new_message_id(),
        "type": "sticker",
        "quoteToken": new_quote_token(),
        "packageId": package_id,
        "stickerId": sticker_id,
        "stickerResourceType": sticker_resource_type,
    }
    if keywords:
        message["keywords"] = keywords[:15]
    return _message_event(
        message,
        user_id=user_id,
        reply_token=reply_token,
        timestamp=timestamp,
        webhook_event_id=webhook_event_id,
        is_redelivery=is_redelivery,
    )


def make_media_event(
    media_type: str,
    *,
    user_id: str | None = None,
    message_id: str | None = None,
    duration_ms: int | None = None,
    file_name: str = "document.pdf",
    file_size: int = 2048,
    reply_token: str | None = None,
    timestamp: int | None = None,
    webhook_event_id: str | None = None,
    is_redelivery: bool = False,
) -> Event:
    """An image, video, audio or file message whose bytes live on LINE's content host."""
    if media_type not in MEDIA_TYPES:
        raise ValueError(f"not a media message type: {media_type}")
    message: dict[str, Any] = {"id": message_id or new_message_id(), "type": media_type}
    if media_type == "file":
        # File messages carry no content provider: they are always LINE-hosted.
        message |= {"fileName": file_name, "fileSize": file_size}
    else:
        message["contentProvider"] = {"type": "line"}
    if media_type in ("video", "audio"):
        message["duration"] = duration_ms if duration_ms is not None else 6000
    if media_type in ("image", "video"):
        message["quoteToken"] = new_quote_token()
    return _message_event(
        message,
        user_id=user_id,
        reply_token=reply_token,
        timestamp=timestamp,
        webhook_event_id=webhook_event_id,
        is_redelivery=is_redelivery,
    )


def make_image_event(**overrides: Any) -> Event:
    return make_media_event("image", **overrides)


def make_location_event(
    *,
    latitude: float = 35.681236,
    longitude: float = 139.767125,
    title: str | None = "東京駅",
    address: str | None = "東京都千代田区丸の内1丁目",
    user_id: str | None = None,
    message_id: str | None = None,
    reply_token: str | None = None,
    timestamp: int | None = None,
    webhook_event_id: str | None = None,
    is_redelivery: bool = False,
) -> Event:
    message: dict[str, Any] = {
        "id": message_id or new_message_id(),
        "type": "location",
        "latitude": latitude,
        "longitude": longitude,
    }
    if title is not None:
        message["title"] = title
    if address is not None:
        message["address"] = address
    return _message_event(
        message,
        user_id=user_id,
        reply_token=reply_token,
        timestamp=timestamp,
        webhook_event_id=webhook_event_id,
        is_redelivery=is_redelivery,
    )


def make_follow_event(
    *,
    is_unblocked: bool = False,
    user_id: str | None = None,
    reply_token: str | None = None,
    timestamp: int | None = None,
    webhook_event_id: str | None = None,
    is_redelivery: bool = False,
) -> Event:
    event = _event(
        "follow",
        user_id=user_id,
        timestamp=timestamp,
        webhook_event_id=webhook_event_id,
        is_redelivery=is_redelivery,
    )
    event["replyToken"] = reply_token or new_reply_token()
    event["follow"] = {"isUnblocked": is_unblocked}
    return event


def make_unfollow_event(
    *,
    user_id: str | None = None,
    timestamp: int | None = None,
    webhook_event_id: str | None = None,
    is_redelivery: bool = False,
) -> Event:
    # LINE gives no reply token: the user can no longer receive messages.
    return _event(
        "unfollow",
        user_id=user_id,
        timestamp=timestamp,
        webhook_event_id=webhook_event_id,
        is_redelivery=is_redelivery,
    )


def make_postback_event(
    *,
    data: str = "action=consent&value=yes",
    params: dict[str, str] | None = None,
    user_id: str | None = None,
    reply_token: str | None = None,
    timestamp: int | None = None,
    webhook_event_id: str | None = None,
    is_redelivery: bool = False,
) -> Event:
    event = _event(
        "postback",
        user_id=user_id,
        timestamp=timestamp,
        webhook_event_id=webhook_event_id,
        is_redelivery=is_redelivery,
    )
    event["replyToken"] = reply_token or new_reply_token()
    event["postback"] = {"data": data, **({"params": params} if params else {})}
    return event


def make_unsend_event(
    *,
    message_id: str,
    user_id: str | None = None,
    timestamp: int | None = None,
    webhook_event_id: str | None = None,
    is_redelivery: bool = False,
) -> Event:
    event = _event(
        "unsend",
        user_id=user_id,
        timestamp=timestamp,
        webhook_event_id=webhook_event_id,
        is_redelivery=is_redelivery,
    )
    event["unsend"] = {"messageId": message_id}
    return event


def as_redelivery(event: Event) -> Event:
    """The same event as LINE redelivers it: same ids, ``isRedelivery`` set."""
    redelivered = copy.deepcopy(event)
    redelivered["deliveryContext"] = {"isRedelivery": True}
    return redelivered


# ---- body and signature --------------------------------------------------


def make_webhook_body(destination: str, events: list[Event]) -> bytes:
    """The raw request body; sign exactly these bytes."""
    payload = {"destination": destination, "events": events}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(body: bytes, secret: str) -> str:
    """``X-Line-Signature``: base64(HMAC-SHA256(channel secret, raw body))."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signature_is_valid(body: bytes, secret: str, signature: str) -> bool:
    return hmac.compare_digest(sign(body, secret).encode(), signature.encode())


def webhook_headers(body: bytes, secret: str) -> dict[str, str]:
    """Headers LINE sends with a webhook body."""
    return {
        "Content-Type": CONTENT_TYPE,
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: sign(body, secret),
    }
