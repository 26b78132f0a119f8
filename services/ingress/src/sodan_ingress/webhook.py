"""LINE's webhook body as we read it, and the pure decisions made on it.

The models accept unknown fields (LINE adds fields without notice) but insist
on what we rely on. Nothing here does I/O.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args
from uuid import UUID, uuid5

from pydantic import BaseModel, ConfigDict, Field
from sodan_shared.events.line import MessageKind

# Fixed namespace for event ids derived from webhookEventId: a redelivery hours
# later maps to the same MessageReceived id, so consumers' processed_events drop it.
WEBHOOK_EVENT_NAMESPACE = UUID("5f0d8c52-7a43-4c2e-9d57-2b1f6e0a9c31")

KNOWN_KINDS: frozenset[str] = frozenset(get_args(MessageKind)) - {"unknown"}
# What a client sends beyond words is never fetched from LINE (design rule 3).
REFUSED_KINDS: frozenset[str] = frozenset({"image", "video", "audio", "file", "location"})
# Except in emergency mode (a supervisor's decision per case): these are fetched
# through LINE's content API, location is kept sealed.
FETCHED_KINDS: frozenset[str] = frozenset({"image", "video", "audio", "file"})

EventKind = Literal["message", "follow", "unfollow", "postback", "unsend", "unknown"]


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


class Source(_Tolerant):
    type: str
    user_id: str | None = Field(default=None, alias="userId")


class DeliveryContext(_Tolerant):
    is_redelivery: bool = Field(default=False, alias="isRedelivery")


class MessageContent(_Tolerant):
    id: str
    type: str
    text: str | None = None
    # Location messages only (kept in emergency mode).
    title: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    mark_as_read_token: str | None = Field(default=None, alias="markAsReadToken")


class FollowContent(_Tolerant):
    is_unblocked: bool = Field(default=False, alias="isUnblocked")


class PostbackContent(_Tolerant):
    data: str
    params: dict[str, Any] | None = None


class UnsendContent(_Tolerant):
    message_id: str = Field(alias="messageId", min_length=1)


class WebhookEvent(_Tolerant):
    type: str
    timestamp: int
    webhook_event_id: str = Field(alias="webhookEventId", min_length=1)
    source: Source | None = None
    delivery_context: DeliveryContext = Field(
        default_factory=DeliveryContext, alias="deliveryContext"
    )
    mode: str = "active"
    reply_token: str | None = Field(default=None, alias="replyToken")
    message: MessageContent | None = None
    follow: FollowContent | None = None
    postback: PostbackContent | None = None
    unsend: UnsendContent | None = None


class WebhookBody(_Tolerant):
    destination: str = ""
    events: list[WebhookEvent]


def signature_is_valid(body: bytes, secret: str, signature: str) -> bool:
    """``X-Line-Signature`` is base64(HMAC-SHA256(channel secret, raw body))."""
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, signature.encode("ascii", errors="replace"))


def event_id_for(channel: str, webhook_event_id: str) -> UUID:
    return uuid5(WEBHOOK_EVENT_NAMESPACE, f"{channel}:{webhook_event_id}")


def message_kind(line_type: str) -> MessageKind:
    return line_type if line_type in KNOWN_KINDS else "unknown"  # type: ignore[return-value]


def is_refused(kind: MessageKind, *, emergency: bool = False) -> bool:
    """Media, location and anything we do not know are recorded but never downloaded,
    unless the client's case is in emergency mode (then only unknown kinds are)."""
    if emergency and (kind in FETCHED_KINDS or kind == "location"):
        return False
    return kind in REFUSED_KINDS or kind == "unknown"


def should_fetch_media(kind: MessageKind, *, emergency: bool) -> bool:
    """Whether ingress downloads this message's content from LINE (off the webhook path)."""
    return emergency and kind in FETCHED_KINDS


def keeps_location(kind: MessageKind, *, emergency: bool) -> bool:
    return emergency and kind == "location"


def sent_at(timestamp_ms: int) -> datetime:
    return datetime.fromtimestamp(timestamp_ms / 1000, tz=UTC)


def event_kind(event: WebhookEvent) -> EventKind:
    """Which of our events a LINE event becomes; one missing its content is unknown."""
    if event.type == "message" and event.message is not None:
        return "message"
    if event.type == "follow":
        return "follow"
    if event.type == "unfollow":
        return "unfollow"
    if event.type == "postback" and event.postback is not None:
        return "postback"
    if event.type == "unsend" and event.unsend is not None:
        return "unsend"
    return "unknown"


def skip_reason(event: WebhookEvent) -> str | None:
    """Why an event is not published at all (None: it is)."""
    if event.source is not None and event.source.type != "user":
        # The desk talks 1:1; a group or room must not turn into a client.
        return "not_one_to_one"
    if event_kind(event) == "unknown":
        return None  # kept by type name, whoever sent it
    if event.source is None or not event.source.user_id:
        return "no_user_id"
    return None


def is_late(sent: datetime, *, received: datetime, late_after_s: float) -> bool:
    """LINE redelivered (or we were down) long enough that staff should know."""
    return received - sent > timedelta(seconds=late_after_s)


def error_detail(errors: list[Any]) -> list[dict[str, Any]]:
    """Where the body is malformed, without echoing its values (they may be personal)."""
    return [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in errors[:10]]
