"""JSON shapes of the control API (``/sim/...``), shared by server and client."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

UserEventType = Literal["text", "sticker", "image", "video", "audio", "file", "location"]
FaultEndpoint = Literal["push", "reply", "loading", "mark_read", "content", "profile", "*"]


class UserCreate(BaseModel):
    display_name: str | None = Field(default=None, max_length=20)
    language: str = "ja"


class UserPublic(BaseModel):
    user_id: str
    display_name: str
    language: str
    following: bool
    created_at: datetime
    received_count: int = Field(description="Messages received since creation, never capped")
    loading_until: datetime | None = None
    loading_calls: int = Field(default=0, description="Loading animations the bot started")
    read_marks: int = Field(default=0, description="Accepted mark-as-read calls (既読)")
    read_up_to_message_id: str | None = Field(
        default=None, description="The newest of the user's messages the bot marked read"
    )


class UserMessage(BaseModel):
    """What a simulated user sends; ``{"text": "..."}`` alone is a text message."""

    type: UserEventType = "text"
    text: str | None = None
    quoted_message_id: str | None = None
    package_id: str = "446"
    sticker_id: str = "1988"
    latitude: float = 35.681236
    longitude: float = 139.767125
    title: str | None = "東京駅"
    address: str | None = "東京都千代田区丸の内1丁目"
    file_name: str = "document.pdf"
    file_size: int = Field(default=2048, ge=1, le=1_000_000)
    duration_ms: int | None = None
    content_expired: bool = Field(
        default=False,
        description="Simulator only: LINE no longer has this media's content (content API 404)",
    )

    @model_validator(mode="after")
    def _text_needs_text(self) -> UserMessage:
        if self.type == "text" and not self.text:
            raise ValueError("a text message needs a non-empty 'text'")
        return self


class PostbackCreate(BaseModel):
    data: str = Field(min_length=1, max_length=300)
    params: dict[str, str] | None = None


class UnsendCreate(BaseModel):
    message_id: str


class AttemptRecord(BaseModel):
    attempt: int
    is_redelivery: bool
    status: int | None = Field(description="HTTP status; null when the connection failed")
    error: str | None = None
    latency_ms: float
    at: datetime


class DeliveryRecord(BaseModel):
    """One webhook event and every attempt to deliver it."""

    user_id: str
    event_type: str
    webhook_event_id: str
    message_id: str | None = None
    reply_token: str | None = None
    url: str
    attempts: list[AttemptRecord] = Field(default_factory=list)
    final_status: int | None = None
    outcome: Literal["pending", "delivered", "failed"] = "pending"
    started_at: datetime
    total_ms: float = 0.0


class InboxEntry(BaseModel):
    """One message object the bot sent to a user via push or reply."""

    seq: int
    message_id: str
    via: Literal["push", "reply"]
    request_id: str
    retry_key: str | None = None
    notification_disabled: bool = False
    received_at: datetime
    message: dict[str, Any]


class TimelineEntry(BaseModel):
    """The chat as the user sees it: what they sent and what they received."""

    seq: int
    direction: Literal["sent", "received"]
    at: datetime
    event_type: str
    message: dict[str, Any] | None = None
    via: Literal["push", "reply"] | None = None
    delivery: DeliveryRecord | None = None
    read: bool = Field(default=False, description="A sent message the bot marked read (既読)")


class FaultSpec(BaseModel):
    endpoint: FaultEndpoint
    status: int | None = Field(default=None, ge=400, le=599)
    delay_ms: int | None = Field(default=None, ge=0, le=120_000)
    count: int | None = Field(default=1, ge=1, description="null: until DELETE /sim/faults")
    after_delivery: bool = Field(
        default=False,
        description="Deliver first, then answer with status: LINE's 'accepted but "
        "the answer was lost' case that retry keys exist for",
    )

    @model_validator(mode="after")
    def _needs_an_effect(self) -> FaultSpec:
        if self.status is None and self.delay_ms is None:
            raise ValueError("a fault needs 'status' or 'delay_ms'")
        return self


class FaultPublic(FaultSpec):
    remaining: int | None


class RuntimeConfig(BaseModel):
    """Settings a running simulator lets tests change; POST /sim/reset restores them."""

    webhook_url: str
    redelivery_attempts: int = Field(ge=0)
    redelivery_backoff_s: list[float]
    webhook_timeout_s: float = Field(gt=0)
    reply_token_lifetime_s: float = Field(gt=0)


class RuntimeConfigPatch(BaseModel):
    webhook_url: str | None = None
    redelivery_attempts: int | None = Field(default=None, ge=0)
    redelivery_backoff_s: list[float] | None = None
    webhook_timeout_s: float | None = Field(default=None, gt=0)
    reply_token_lifetime_s: float | None = Field(default=None, gt=0)


class Stats(BaseModel):
    users: int
    webhooks_delivered: int
    webhooks_failed: int
    webhook_attempts: int
    pushes: int
    replies: int
    messages_delivered: int
