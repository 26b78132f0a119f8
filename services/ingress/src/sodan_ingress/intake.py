"""Turns verified webhook events into sealed events of our own on the stream."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import nats.errors
import nats.js.errors
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from sodan_shared.crypto import ClientCipher, ClientIdentity
from sodan_shared.events.envelope import Envelope
from sodan_shared.events.line import (
    ClientFollowed,
    ClientFollowedV1,
    ClientUnfollowed,
    ClientUnfollowedV1,
    MessageReceived,
    MessageReceivedV1,
    MessageUnsent,
    MessageUnsentV1,
    PostbackReceived,
    PostbackReceivedV1,
    UnknownEventReceived,
    UnknownEventReceivedV1,
)
from sodan_shared.logging import get_logger
from sodan_shared.nats import publish_event
from sodan_shared.personal_data import detect_personal_data, mask_personal_data
from sqlalchemy.exc import SQLAlchemyError

from sodan_ingress.db.queries import note_message, remember_client
from sodan_ingress.end_words import is_end_word
from sodan_ingress.service import Ingress, NotConnectedError
from sodan_ingress.webhook import (
    WebhookEvent,
    event_id_for,
    event_kind,
    is_late,
    is_refused,
    keeps_location,
    message_kind,
    sent_at,
    should_fetch_media,
    skip_reason,
)

log = get_logger(__name__)
_tracer = trace.get_tracer("sodan.ingress")

# What makes a webhook worth retrying rather than a bad request.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    nats.errors.Error,
    nats.js.errors.Error,
    asyncio.TimeoutError,
    SQLAlchemyError,
    OSError,
    NotConnectedError,
)


class IntakeUnavailableError(RuntimeError):
    """A dependency (NATS, PostgreSQL) failed: answer 503 so LINE redelivers."""


@dataclass(frozen=True)
class _Client:
    identity: ClientIdentity
    cipher: ClientCipher
    sealed_line_user_id: str
    emergency: bool = False


async def _client_of(
    ingress: Ingress,
    *,
    channel: str,
    line_user_id: str,
    message: tuple[datetime, bool] | None = None,
    read_token: tuple[UUID, str] | None = None,
) -> _Client:
    """The client's identity and key; remembers them for pushes and, for a message
    (its LINE time, whether it is the end word), their conversation state and
    whether they are in emergency mode. This is the webhook's hot path: for a client
    this process has seen before it costs one database statement, and none for events
    other than messages."""
    identity = await ingress.keyring.ensure_client(channel=channel, line_user_id=line_user_id)
    client_id = identity.client_id
    cipher = await ingress.keyring.cipher(client_id)
    sealed_user = cipher.seal("line_user_id", line_user_id)
    sealed_read_token = (
        (read_token[0], cipher.seal("mark_as_read_token", read_token[1])) if read_token else None
    )
    emergency = False
    if client_id in ingress.remembered:
        if message is not None:
            async with ingress.autocommit.connect() as connection:
                emergency = await note_message(
                    connection,
                    client_id=client_id,
                    sent_at=message[0],
                    ends=message[1],
                    read_token=sealed_read_token,
                )
    else:
        # First contact (for this process): the row first, in one transaction with
        # the rest, since note_message's UPDATE cannot see a row inserted beside it.
        async with ingress.db.engine.begin() as connection:
            await remember_client(
                connection, client_id=client_id, channel=channel, sealed_line_user_id=sealed_user
            )
            if message is not None:
                emergency = await note_message(
                    connection,
                    client_id=client_id,
                    sent_at=message[0],
                    ends=message[1],
                    read_token=sealed_read_token,
                )
        ingress.remembered.add(client_id)
    return _Client(
        identity=identity, cipher=cipher, sealed_line_user_id=sealed_user, emergency=emergency
    )


def _sealed_reply_token(client: _Client, event: WebhookEvent) -> str | None:
    return client.cipher.seal("reply_token", event.reply_token) if event.reply_token else None


async def message_received_for(
    ingress: Ingress, *, channel: str, event: WebhookEvent, received: datetime | None = None
) -> MessageReceived:
    assert event.message is not None and event.source is not None
    assert event.source.user_id is not None
    kind = message_kind(event.message.type)
    text = event.message.text if kind == "text" else None
    when = sent_at(event.timestamp)
    ends = text is not None and is_end_word(text, ingress.settings.ingress_end_words)
    event_id = event_id_for(channel, event.webhook_event_id)
    token = event.message.mark_as_read_token if ingress.settings.ingress_mark_as_read else None
    client = await _client_of(
        ingress,
        channel=channel,
        line_user_id=event.source.user_id,
        message=(when, ends),
        read_token=(event_id, token) if token else None,
    )
    cipher = client.cipher
    # Flags come from what the client wrote; masking only changes what is kept.
    flags = detect_personal_data(text) if text is not None else []
    if text is not None and flags and ingress.settings.ingress_mask_personal_data:
        text = mask_personal_data(text)
    payload = MessageReceivedV1(
        client_id=client.identity.client_id,
        client_no=client.identity.client_no,
        line_user_id=client.sealed_line_user_id,
        webhook_event_id=event.webhook_event_id,
        line_message_id=event.message.id,
        kind=kind,
        text=cipher.seal("message.text", text) if text is not None else None,
        reply_token=_sealed_reply_token(client, event),
        sent_at=when,
        is_redelivery=event.delivery_context.is_redelivery,
        refused=is_refused(kind, emergency=client.emergency),
        late=_late(ingress, when, received),
        personal_data=flags,
        ends_conversation=ends,
        # Emergency mode: the download happens in a consumer, never before LINE's 200.
        media="pending" if should_fetch_media(kind, emergency=client.emergency) else None,
        location=_sealed_location(cipher, event)
        if keeps_location(kind, emergency=client.emergency)
        else None,
    )
    return MessageReceived.new(
        channel=channel,
        payload=payload,
        event_id=event_id,
        occurred_at=when,
    )


def _sealed_location(cipher: ClientCipher, event: WebhookEvent) -> str:
    assert event.message is not None
    m = event.message
    place = {
        "title": m.title,
        "address": m.address,
        "latitude": m.latitude,
        "longitude": m.longitude,
    }
    return cipher.seal("message.location", json.dumps(place, ensure_ascii=False))


def _late(ingress: Ingress, when: datetime, received: datetime | None) -> bool:
    return is_late(
        when,
        received=received or datetime.now(UTC),
        late_after_s=ingress.settings.ingress_late_after_s,
    )


async def line_event_for(
    ingress: Ingress, *, channel: str, event: WebhookEvent, received: datetime | None = None
) -> Envelope[Any]:
    """The project's event for one verified LINE event that :func:`skip_reason` let through."""
    kind = event_kind(event)
    if kind == "message":
        return await message_received_for(ingress, channel=channel, event=event, received=received)
    when = sent_at(event.timestamp)
    event_id = event_id_for(channel, event.webhook_event_id)
    user_id = event.source.user_id if event.source is not None else None
    client = await _client_of(ingress, channel=channel, line_user_id=user_id) if user_id else None
    common: dict[str, Any] = {
        "webhook_event_id": event.webhook_event_id,
        "sent_at": when,
        "is_redelivery": event.delivery_context.is_redelivery,
        "late": _late(ingress, when, received),
    }
    if client is not None:
        common |= {
            "client_id": client.identity.client_id,
            "client_no": client.identity.client_no,
        }
    if kind == "unknown" or client is None:
        # Only the type name: an unknown body may hold anything.
        return UnknownEventReceived.new(
            channel=channel,
            payload=UnknownEventReceivedV1(line_type=event.type[:64], **common),
            event_id=event_id,
            occurred_at=when,
        )
    if kind == "follow":
        return ClientFollowed.new(
            channel=channel,
            payload=ClientFollowedV1(
                is_unblocked=event.follow.is_unblocked if event.follow is not None else False,
                reply_token=_sealed_reply_token(client, event),
                **common,
            ),
            event_id=event_id,
            occurred_at=when,
        )
    if kind == "unfollow":
        return ClientUnfollowed.new(
            channel=channel,
            payload=ClientUnfollowedV1(**common),
            event_id=event_id,
            occurred_at=when,
        )
    if kind == "postback":
        assert event.postback is not None
        params = event.postback.params
        return PostbackReceived.new(
            channel=channel,
            payload=PostbackReceivedV1(
                # Quick-reply answers can be personal: sealed like message text.
                data=client.cipher.seal("postback.data", event.postback.data),
                params=client.cipher.seal(
                    "postback.params", json.dumps(params, ensure_ascii=False, sort_keys=True)
                )
                if params
                else None,
                reply_token=_sealed_reply_token(client, event),
                **common,
            ),
            event_id=event_id,
            occurred_at=when,
        )
    assert kind == "unsend" and event.unsend is not None
    return MessageUnsent.new(
        channel=channel,
        payload=MessageUnsentV1(line_message_id=event.unsend.message_id, **common),
        event_id=event_id,
        occurred_at=when,
    )


async def accept_events(ingress: Ingress, *, channel: str, events: list[WebhookEvent]) -> int:
    """Publish each event in order and wait for every ack; returns how many were published."""
    published = 0
    try:
        for event in events:
            reason = skip_reason(event)
            if reason is not None:
                log.info(
                    "webhook.event_skipped",
                    channel=channel,
                    event_type=event.type[:64],
                    webhook_event_id=event.webhook_event_id,
                    reason=reason,
                )
                continue
            # One trace per LINE event: its context rides in the NATS headers, so
            # triage, routing and the console's spans join it.
            with _tracer.start_as_current_span(
                "line.webhook_event",
                kind=SpanKind.SERVER,
                attributes={
                    "sodan.channel": channel,
                    "sodan.webhook_event_id": event.webhook_event_id,
                },
            ):
                accepted = await line_event_for(ingress, channel=channel, event=event)
                await publish_event(
                    ingress.js, accepted, timeout=ingress.settings.ingress_publish_timeout_s
                )
            published += 1
            payload = accepted.payload
            log.info(
                "webhook.event_accepted",
                channel=channel,
                event_id=str(accepted.id),
                event_type=accepted.type,
                client_id=str(getattr(payload, "client_id", None)),
                kind=getattr(payload, "kind", None),
                late=getattr(payload, "late", False),
                personal_data=getattr(payload, "personal_data", None),
                webhook_event_id=event.webhook_event_id,
            )
    except UNAVAILABLE_ERRORS as exc:
        log.warning(
            "webhook.unavailable", channel=channel, published=published, error=type(exc).__name__
        )
        raise IntakeUnavailableError(type(exc).__name__) from exc
    return published
