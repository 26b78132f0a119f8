"""Events produced by the ingress service (LINE in both directions)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from sodan_shared.events.envelope import Envelope, Payload, Sealed

MessageKind = Literal["text", "sticker", "image", "video", "audio", "file", "location", "unknown"]
PersonalDataKind = Literal["phone", "email", "postal_address", "my_number"]


class MessageReceivedV1(Payload):
    client_id: UUID = Field(description="Pseudonymous client id (keyring); never the LINE id")
    client_no: int = Field(description="Number shown to staff as C-000123")
    line_user_id: Sealed
    webhook_event_id: str
    line_message_id: str
    kind: MessageKind
    text: Sealed | None = Field(default=None, description="Text body, only for kind=text")
    reply_token: Sealed | None = None
    sent_at: AwareDatetime = Field(description="When the client sent it (LINE timestamp)")
    is_redelivery: bool = False
    refused: bool = Field(
        default=False, description="Media/location not downloaded (sensitive data control)"
    )
    late: bool = Field(
        default=False, description="LINE's timestamp was older than ingress' late threshold"
    )
    personal_data: list[PersonalDataKind] = Field(
        default_factory=list,
        description="Kinds of personal data the text seems to contain (flag for the counsellor)",
    )
    ends_conversation: bool = Field(
        default=False,
        description="The text is the client's end word (e.g. 終了): close the case, push nothing "
        "more until they write again",
    )
    media: Literal["pending"] | None = Field(
        default=None,
        description="Emergency mode: ingress fetches the content off the webhook path; "
        "the outcome is a MediaStored or MediaFetchFailed for this event id",
    )
    location: Sealed | None = Field(
        default=None,
        description="Emergency mode, kind=location: JSON {title, address, latitude, "
        "longitude} (purpose 'message.location')",
    )


class MessageReceived(Envelope[MessageReceivedV1]):
    TYPE = "line.message_received"


# LINE's limits: 5 message objects per request, 13 quick-reply buttons, a message
# action's label ≤ 20 and text ≤ 300 characters.
MAX_LINE_MESSAGES = 5
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_LABEL = 20
MAX_QUICK_REPLY_TEXT = 300


class StickerRef(BaseModel):
    """One of LINE's sendable stickers (no personal data: ids only)."""

    model_config = ConfigDict(frozen=True)
    package_id: str = Field(pattern=r"^[0-9]{1,12}$")
    sticker_id: str = Field(pattern=r"^[0-9]{1,12}$")


class PushRequestedV1(Payload):
    push_id: UUID = Field(description="Also the X-Line-Retry-Key: LINE delivers it once")
    client_id: UUID
    case_id: UUID | None = None
    texts: list[Sealed] = Field(
        default_factory=list, max_length=5, description="Empty only when a sticker is sent"
    )
    origin: Literal["counsellor", "system"]
    staff_id: UUID | None = None
    notification_disabled: bool = False
    sticker: StickerRef | None = Field(default=None, description="Sent after the texts")
    quick_replies: Sealed | None = Field(
        default=None,
        description="JSON list of {label, text} message actions (purpose 'quick_replies'), "
        "on the last message; ingress adds the client's end button after them",
    )
    resend: bool = Field(
        default=False,
        description="A counsellor's retry of a push that failed: the same message again, same "
        "push_id (LINE's retry key), so not a new message in the reports",
    )

    @model_validator(mode="after")
    def _something_to_send(self) -> PushRequestedV1:
        count = len(self.texts) + (self.sticker is not None)
        if count == 0:
            raise ValueError("a push needs at least one text or a sticker")
        if count > MAX_LINE_MESSAGES:
            raise ValueError(f"LINE takes at most {MAX_LINE_MESSAGES} messages per push")
        return self


class PushRequested(Envelope[PushRequestedV1]):
    """A command to ingress: deliver these texts to the client on LINE."""

    TYPE = "line.push_requested"


class PushResultV1(Payload):
    push_id: UUID
    client_id: UUID
    case_id: UUID | None = None
    status: Literal["sent", "failed"]
    attempts: int
    line_request_id: str | None = None
    error: str | None = Field(default=None, description="HTTP status and LINE's error code only")


class PushResult(Envelope[PushResultV1]):
    TYPE = "line.push_result"


class WebhookRejectedV1(Payload):
    """Webhooks refused before parsing; the body itself is never kept. The first of
    a kind (channel, reason, source) in ingress' audit window is one entry; the rest
    of that window come as one entry with their count."""

    reason: Literal["missing_signature", "bad_signature"]
    source_address: str | None = Field(
        default=None,
        description="Peer address as ingress saw it; None if unknown or, in a count, one of "
        "more sources than ingress tells apart in a window",
    )
    body_size: int | None = Field(
        default=None, description="Bytes read (in a count: the largest); None if not read"
    )
    count: int = Field(default=1, ge=1, description="How many rejections this entry stands for")
    since: AwareDatetime | None = Field(
        default=None, description="In a count: when the first of them came"
    )


class WebhookRejected(Envelope[WebhookRejectedV1]):
    TYPE = "audit.webhook_rejected"


class LineEventV1(Payload):
    """What every non-message LINE event from a 1:1 chat carries."""

    client_id: UUID = Field(description="Pseudonymous client id (keyring); never the LINE id")
    client_no: int = Field(description="Number shown to staff as C-000123")
    webhook_event_id: str
    sent_at: AwareDatetime = Field(description="When it happened on LINE (LINE timestamp)")
    is_redelivery: bool = False
    late: bool = Field(
        default=False, description="LINE's timestamp was older than ingress' late threshold"
    )


class ClientFollowedV1(LineEventV1):
    is_unblocked: bool = Field(default=False, description="The client unblocked the account")
    reply_token: Sealed | None = None


class ClientFollowed(Envelope[ClientFollowedV1]):
    """The client added the desk as a friend (友だち追加) or unblocked it."""

    TYPE = "line.client_followed"


class ClientUnfollowedV1(LineEventV1):
    pass


class ClientUnfollowed(Envelope[ClientUnfollowedV1]):
    """The client blocked the desk (ブロック): pushes to them will fail."""

    TYPE = "line.client_unfollowed"


class PostbackReceivedV1(LineEventV1):
    data: Sealed = Field(description="Postback data (purpose 'postback.data'): may be personal")
    params: Sealed | None = Field(
        default=None, description="JSON of the picker's params (purpose 'postback.params')"
    )
    reply_token: Sealed | None = None


class PostbackReceived(Envelope[PostbackReceivedV1]):
    """The client tapped a quick reply or a postback button."""

    TYPE = "line.postback_received"


class MessageUnsentV1(LineEventV1):
    line_message_id: str = Field(description="The LINE message id the client unsent")


class MessageUnsent(Envelope[MessageUnsentV1]):
    """The client unsent (送信取消) a message: it must disappear from every store."""

    TYPE = "line.message_unsent"


class UnknownEventReceivedV1(Payload):
    """An event type ingress does not know; only its name and ids are kept."""

    line_type: str = Field(max_length=64, description="LINE's event type name")
    webhook_event_id: str
    client_id: UUID | None = Field(default=None, description="None when no user sent it")
    client_no: int | None = None
    sent_at: AwareDatetime
    is_redelivery: bool = False
    late: bool = False


class UnknownEventReceived(Envelope[UnknownEventReceivedV1]):
    TYPE = "line.unknown_event_received"


class ReplyRequestedV1(Payload):
    reply_id: UUID = Field(
        description="Command id; also the X-Line-Retry-Key when it falls back to a push"
    )
    client_id: UUID
    case_id: UUID | None = None
    reply_token: Sealed | None = Field(
        default=None, description="The client's reply token (purpose 'reply_token'); None: push"
    )
    texts: list[Sealed] = Field(min_length=1, max_length=5)
    origin: Literal["system"] = "system"
    notification_disabled: bool = False
    quick_replies: Sealed | None = Field(
        default=None,
        description="JSON list of {label, text} message actions (purpose 'quick_replies'), "
        "on the last message, as for PushRequested; ingress adds the end button after them",
    )


class ReplyRequested(Envelope[ReplyRequestedV1]):
    """A command to ingress: answer the client at once, with the reply token while
    LINE still accepts it, else by push. The outcome is a PushResult (push_id =
    reply_id)."""

    TYPE = "line.reply_requested"


class MediaStoredV1(Payload):
    """Emergency mode: a client's media was fetched from LINE and stored encrypted
    (purpose 'media.content') in the object store; no content travels here."""

    client_id: UUID
    message_event_id: UUID = Field(description="Id of the MessageReceived it belongs to")
    line_message_id: str
    kind: MessageKind
    bucket: str = Field(description="JetStream object store bucket")
    object_name: str
    content_type: str = Field(max_length=200)
    size: int = Field(ge=0, description="Plaintext bytes")
    sha256: str = Field(description="Hex SHA-256 of the plaintext (integrity, dedup)")


class MediaStored(Envelope[MediaStoredV1]):
    TYPE = "line.media_stored"


class MediaFetchFailedV1(Payload):
    client_id: UUID
    message_event_id: UUID
    line_message_id: str
    kind: MessageKind
    reason: Literal["expired", "too_large", "unavailable", "client_erased"] = Field(
        description="expired: LINE no longer has it (404/410); unavailable: LINE kept "
        "failing (429/5xx/timeout) until the attempts ran out"
    )
    status: int | None = Field(default=None, description="LINE's last HTTP status, if any")


class MediaFetchFailed(Envelope[MediaFetchFailedV1]):
    """Emergency mode: the content could not be fetched and will not be retried."""

    TYPE = "line.media_fetch_failed"


class LoadingRequestedV1(Payload):
    """Best effort: one attempt, no result event."""

    client_id: UUID
    case_id: UUID | None = None
    seconds: int = Field(default=20, ge=5, le=60, multiple_of=5)


class LoadingRequested(Envelope[LoadingRequestedV1]):
    """A command to ingress: show LINE's loading animation (a counsellor is typing)."""

    TYPE = "line.loading_requested"


class MarkReadRequestedV1(Payload):
    client_id: UUID
    case_id: UUID | None = None
    up_to_message_event_id: UUID = Field(
        description="The newest client message the counsellor saw (MessageReceived id)"
    )


class MarkReadRequested(Envelope[MarkReadRequestedV1]):
    """A command to ingress: mark the client's messages read on LINE (既読) up to this one."""

    TYPE = "line.mark_read_requested"
