"""Delivers a PushRequested to LINE once, and records the outcome as PushResult."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID, uuid5

from sodan_shared.crypto import KeyDestroyedError, SealedValueError
from sodan_shared.db import transaction
from sodan_shared.db.idempotency import add_to_outbox, first_time
from sodan_shared.events.envelope import Envelope
from sodan_shared.events.line import PushRequested, PushResult, PushResultV1
from sodan_shared.logging import get_logger

from sodan_ingress.db.queries import find_client, was_processed
from sodan_ingress.db.tables import outbox, processed_events
from sodan_ingress.delivery import decide, error_text, verdict_for_status
from sodan_ingress.messages import (
    BadQuickRepliesError,
    Button,
    assemble_buttons,
    build_messages,
    end_button,
    parse_buttons,
)
from sodan_ingress.quiet_hours import push_is_silent
from sodan_ingress.service import Ingress

log = get_logger(__name__)

PUSH_CONSUMER = "ingress-push"


@dataclass(frozen=True)
class Attempt:
    status: Literal["sent", "failed"] | None
    retry_in_s: float | None = None
    line_request_id: str | None = None
    error: str | None = None


def client_end_button(ingress: Ingress) -> Button | None:
    """The end-word button every push and reply carries (unless switched off)."""
    settings = ingress.settings
    return end_button(settings.ingress_end_quick_reply_label, settings.ingress_end_words)


async def _attempt(ingress: Ingress, event: PushRequested, *, attempt: int) -> Attempt:
    p = event.payload
    async with ingress.db.sessions() as session:
        client = await find_client(session, client_id=p.client_id)
    if client is None:
        return Attempt(status="failed", error="client_unknown")
    if client.ended_at is not None:
        # The client said the end word: nothing reaches their phone until they write again.
        return Attempt(status="failed", error="client_ended_conversation")
    channel = ingress.channels.get(client.channel)
    if channel is None:
        return Attempt(status="failed", error="channel_unknown")
    try:
        cipher = await ingress.keyring.cipher(p.client_id)
        to = cipher.open("line_user_id", client.sealed_line_user_id)
        texts = [cipher.open("message.text", sealed) for sealed in p.texts]
        own = (
            parse_buttons(cipher.open("quick_replies", p.quick_replies)) if p.quick_replies else []
        )
    except KeyDestroyedError:
        return Attempt(status="failed", error="client_erased")
    except (SealedValueError, BadQuickRepliesError):
        return Attempt(status="failed", error="sealed_value_unreadable")
    answer = await ingress.pusher.push(
        channel=channel,
        to=to,
        messages=build_messages(
            texts, sticker=p.sticker, buttons=assemble_buttons(own, client_end_button(ingress))
        ),
        notification_disabled=push_is_silent(
            requested=p.notification_disabled, quiet=channel.quiet_hours, now=datetime.now(UTC)
        ),
        retry_key=p.push_id,
    )
    decision = decide(
        verdict_for_status(answer.status),
        attempt=attempt,
        delays_s=ingress.settings.push_retry_delays_s,
    )
    error = None if decision.status == "sent" else error_text(answer.status, answer.body)
    return Attempt(
        status=decision.status,
        retry_in_s=decision.retry_in_s,
        line_request_id=answer.request_id,
        error=error,
    )


async def settle_once(
    ingress: Ingress,
    event: Envelope[Any],
    *,
    consumer: str,
    kind: str,
    command_id: UUID,
    client_id: UUID,
    case_id: UUID | None,
    attempt: int,
    deliver: Callable[[], Awaitable[Attempt]],
) -> float | None:
    """Run one delivery attempt of a push or reply command and record its outcome once.

    Returns the delay before JetStream should redeliver, or None when settled (a
    PushResult with push_id = ``command_id`` is in the outbox). A repeat after the
    outcome was recorded is dropped here; a repeat after a crash between LINE's
    answer and the commit is dropped by LINE (same retry key: 409, counted as sent).
    """
    async with ingress.db.sessions() as session:
        if await was_processed(session, event_id=event.id, consumer=consumer):
            return None
    result = await deliver()
    if result.status is None:
        log.warning(
            "delivery.retry",
            kind=kind,
            command_id=str(command_id),
            attempt=attempt,
            retry_in_s=result.retry_in_s,
            error=result.error,
        )
        return result.retry_in_s
    outcome = PushResult.new(
        channel=event.channel,
        caused_by=event,
        # one result per command event: a counsellor's retry of a failed push (same
        # push_id, a new event) gets a result of its own, not one NATS drops as a repeat
        event_id=uuid5(event.id, "result"),
        payload=PushResultV1(
            push_id=command_id,
            client_id=client_id,
            case_id=case_id,
            status=result.status,
            attempts=attempt,
            line_request_id=result.line_request_id,
            error=result.error,
        ),
    )
    async with transaction(ingress.db.sessions) as session:
        if await first_time(session, processed_events, event_id=event.id, consumer=consumer):
            await add_to_outbox(session, outbox, outcome)
    ingress.wake_relay()
    log.info(
        "delivery.done",
        kind=kind,
        command_id=str(command_id),
        client_id=str(client_id),
        status=result.status,
        attempts=attempt,
        line_request_id=result.line_request_id,
        error=result.error,
    )
    return None


async def deliver_push(ingress: Ingress, event: PushRequested, *, attempt: int) -> float | None:
    """Push once per event id; see :func:`settle_once`."""
    p = event.payload
    return await settle_once(
        ingress,
        event,
        consumer=PUSH_CONSUMER,
        kind="push",
        command_id=p.push_id,
        client_id=p.client_id,
        case_id=p.case_id,
        attempt=attempt,
        deliver=lambda: _attempt(ingress, event, attempt=attempt),
    )
