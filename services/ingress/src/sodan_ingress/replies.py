"""Immediate answers: the refused-media notice as a ReplyRequested command, and
its delivery with the reply token (push as fallback), recorded as PushResult.

A PushResult (push_id = reply_id) rather than a new result event: consumers of
``line.out.result.v1`` already treat it as "the outcome of one outbound command"
(the console ignores ids it did not send, reporting counts messages out), so
replies are counted and shown without a second subject to follow.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid5

from sodan_shared.crypto import KeyDestroyedError, SealedValueError
from sodan_shared.db import transaction
from sodan_shared.db.idempotency import add_to_outbox, first_time
from sodan_shared.events.line import (
    MessageReceived,
    MessageReceivedV1,
    ReplyRequested,
    ReplyRequestedV1,
)
from sodan_shared.logging import get_logger

from sodan_ingress.db.queries import find_client
from sodan_ingress.db.tables import outbox, processed_events
from sodan_ingress.delivery import decide, error_text, reply_token_refused, verdict_for_status
from sodan_ingress.messages import (
    BadQuickRepliesError,
    assemble_buttons,
    build_messages,
    parse_buttons,
)
from sodan_ingress.outbound import Attempt, client_end_button, settle_once
from sodan_ingress.quiet_hours import push_is_silent
from sodan_ingress.service import Ingress

log = get_logger(__name__)

REFUSED_NOTICE_CONSUMER = "ingress-refused-media"
REPLY_CONSUMER = "ingress-reply"

# What the notice is about; an unknown message type is refused too, but telling
# the client "no photos" about something we cannot name would only confuse.
NOTICE_KINDS = frozenset({"image", "video", "audio", "file", "location"})


def needs_refused_notice(message: MessageReceivedV1) -> bool:
    return message.refused and message.kind in NOTICE_KINDS


async def request_refused_notice(ingress: Ingress, event: MessageReceived) -> bool:
    """Emit the notice command once per received message (a redelivered webhook
    carries the same event id). Returns whether a command was emitted now."""
    p = event.payload
    if not needs_refused_notice(p):
        return False
    try:
        cipher = await ingress.keyring.cipher(p.client_id)
    except LookupError:  # unknown or erased client: retrying cannot help
        log.warning("reply.refused_notice_skipped", client_id=str(p.client_id))
        return False
    reply_id = uuid5(event.id, "refused-notice")
    command = ReplyRequested.new(
        channel=event.channel,
        caused_by=event,
        event_id=reply_id,
        payload=ReplyRequestedV1(
            reply_id=reply_id,
            client_id=p.client_id,
            reply_token=p.reply_token,
            texts=[cipher.seal("message.text", ingress.settings.ingress_refused_media_notice)],
            origin="system",
        ),
    )
    async with transaction(ingress.db.sessions) as session:
        if not await first_time(
            session, processed_events, event_id=event.id, consumer=REFUSED_NOTICE_CONSUMER
        ):
            return False
        await add_to_outbox(session, outbox, command)
    ingress.wake_relay()
    log.info(
        "reply.refused_notice_requested",
        reply_id=str(reply_id),
        client_id=str(p.client_id),
        message_event_id=str(event.id),
        kind=p.kind,
    )
    return True


async def _attempt_reply(ingress: Ingress, event: ReplyRequested, *, attempt: int) -> Attempt:
    p = event.payload
    async with ingress.db.sessions() as session:
        client = await find_client(session, client_id=p.client_id)
    if client is None:
        return Attempt(status="failed", error="client_unknown")
    channel = ingress.channels.get(client.channel)
    if channel is None:
        return Attempt(status="failed", error="channel_unknown")
    try:
        cipher = await ingress.keyring.cipher(p.client_id)
        texts = [cipher.open("message.text", sealed) for sealed in p.texts]
        token = cipher.open("reply_token", p.reply_token) if p.reply_token else None
        own = (
            parse_buttons(cipher.open("quick_replies", p.quick_replies)) if p.quick_replies else []
        )
    except KeyDestroyedError:
        return Attempt(status="failed", error="client_erased")
    except (SealedValueError, BadQuickRepliesError):
        return Attempt(status="failed", error="sealed_value_unreadable")
    messages = build_messages(texts, buttons=assemble_buttons(own, client_end_button(ingress)))
    if token is not None:
        answer = await ingress.pusher.reply(
            channel=channel,
            reply_token=token,
            messages=messages,
            notification_disabled=push_is_silent(
                requested=p.notification_disabled, quiet=channel.quiet_hours, now=datetime.now(UTC)
            ),
        )
        if not reply_token_refused(answer.status, answer.body):
            return _settle(ingress, answer.status, answer.body, answer.request_id, attempt)
        # Expired or spent: the client must still get it. A reply whose answer was
        # lost (timeout) and a push after it could both arrive: rare, and a notice
        # twice is better than none. LINE dedups the pushes by the retry key.
    to = cipher.open("line_user_id", client.sealed_line_user_id)
    answer = await ingress.pusher.push(
        channel=channel,
        to=to,
        messages=messages,
        notification_disabled=push_is_silent(
            requested=p.notification_disabled, quiet=channel.quiet_hours, now=datetime.now(UTC)
        ),
        retry_key=p.reply_id,
    )
    return _settle(ingress, answer.status, answer.body, answer.request_id, attempt)


def _settle(
    ingress: Ingress, status: int, body: bytes | str | None, request_id: str | None, attempt: int
) -> Attempt:
    decision = decide(
        verdict_for_status(status), attempt=attempt, delays_s=ingress.settings.push_retry_delays_s
    )
    error = None if decision.status == "sent" else error_text(status, body)
    return Attempt(
        status=decision.status,
        retry_in_s=decision.retry_in_s,
        line_request_id=request_id,
        error=error,
    )


async def deliver_reply(ingress: Ingress, event: ReplyRequested, *, attempt: int) -> float | None:
    """Deliver once per command id; returns the delay before a retry, or None when
    settled (a PushResult with push_id = reply_id is in the outbox)."""
    p = event.payload
    return await settle_once(
        ingress,
        event,
        consumer=REPLY_CONSUMER,
        kind="reply",
        command_id=p.reply_id,
        client_id=p.client_id,
        case_id=p.case_id,
        attempt=attempt,
        deliver=lambda: _attempt_reply(ingress, event, attempt=attempt),
    )
