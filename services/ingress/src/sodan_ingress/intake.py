"""Turns verified webhook events into sealed MessageReceived events on the stream."""

from __future__ import annotations

import asyncio

import nats.errors
import nats.js.errors
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from sodan_shared.db import transaction
from sodan_shared.events.line import MessageReceived, MessageReceivedV1
from sodan_shared.logging import get_logger
from sodan_shared.nats import publish_event
from sqlalchemy.exc import SQLAlchemyError

from sodan_ingress.db.queries import remember_client
from sodan_ingress.service import Ingress, NotConnectedError
from sodan_ingress.webhook import (
    WebhookEvent,
    event_id_for,
    is_refused,
    message_kind,
    sent_at,
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


async def message_received_for(
    ingress: Ingress, *, channel: str, event: WebhookEvent
) -> MessageReceived:
    assert event.message is not None and event.source is not None
    assert event.source.user_id is not None
    line_user_id = event.source.user_id
    identity = await ingress.keyring.ensure_client(channel=channel, line_user_id=line_user_id)
    cipher = await ingress.keyring.cipher(identity.client_id)
    sealed_user = cipher.seal("line_user_id", line_user_id)
    async with transaction(ingress.db.sessions) as session:
        await remember_client(
            session, client_id=identity.client_id, channel=channel, sealed_line_user_id=sealed_user
        )
    kind = message_kind(event.message.type)
    text = event.message.text if kind == "text" else None
    when = sent_at(event.timestamp)
    payload = MessageReceivedV1(
        client_id=identity.client_id,
        client_no=identity.client_no,
        line_user_id=sealed_user,
        webhook_event_id=event.webhook_event_id,
        line_message_id=event.message.id,
        kind=kind,
        text=cipher.seal("message.text", text) if text is not None else None,
        reply_token=cipher.seal("reply_token", event.reply_token) if event.reply_token else None,
        sent_at=when,
        is_redelivery=event.delivery_context.is_redelivery,
        refused=is_refused(kind),
    )
    return MessageReceived.new(
        channel=channel,
        payload=payload,
        event_id=event_id_for(channel, event.webhook_event_id),
        occurred_at=when,
    )


async def accept_events(ingress: Ingress, *, channel: str, events: list[WebhookEvent]) -> int:
    """Publish each event in order and wait for every ack; returns how many were published."""
    published = 0
    try:
        for event in events:
            reason = skip_reason(event)
            if reason is not None:
                # Follow/unfollow/postback/unsend and group events are issue 3.
                log.info(
                    "webhook.event_skipped",
                    channel=channel,
                    event_type=event.type,
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
                received = await message_received_for(ingress, channel=channel, event=event)
                await publish_event(
                    ingress.js, received, timeout=ingress.settings.ingress_publish_timeout_s
                )
            published += 1
            log.info(
                "webhook.message_accepted",
                channel=channel,
                event_id=str(received.id),
                client_id=str(received.payload.client_id),
                kind=received.payload.kind,
                webhook_event_id=event.webhook_event_id,
            )
    except UNAVAILABLE_ERRORS as exc:
        log.warning(
            "webhook.unavailable", channel=channel, published=published, error=type(exc).__name__
        )
        raise IntakeUnavailableError(type(exc).__name__) from exc
    return published
