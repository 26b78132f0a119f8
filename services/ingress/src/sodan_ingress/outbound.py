"""Delivers a PushRequested to LINE once, and records the outcome as PushResult."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from uuid import uuid5

from sodan_shared.crypto import KeyDestroyedError, SealedValueError
from sodan_shared.db import transaction
from sodan_shared.db.idempotency import add_to_outbox, first_time
from sodan_shared.events.line import PushRequested, PushResult, PushResultV1
from sodan_shared.logging import get_logger

from sodan_ingress.db.queries import find_client, was_processed
from sodan_ingress.db.tables import outbox, processed_events
from sodan_ingress.delivery import decide, error_text, verdict_for_status
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
    except KeyDestroyedError:
        return Attempt(status="failed", error="client_erased")
    except SealedValueError:
        return Attempt(status="failed", error="sealed_value_unreadable")
    answer = await ingress.pusher.push(
        channel=channel,
        to=to,
        texts=texts,
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


async def deliver_push(ingress: Ingress, event: PushRequested, *, attempt: int) -> float | None:
    """Push once per event id. Returns the delay before JetStream should redeliver,
    or None when the push is settled (sent or failed, and recorded).

    A repeat after the outcome was recorded is dropped here; a repeat after a
    crash between LINE's answer and the commit is dropped by LINE (same retry
    key: 409), which counts as sent."""
    async with ingress.db.sessions() as session:
        if await was_processed(session, event_id=event.id, consumer=PUSH_CONSUMER):
            return None
    result = await _attempt(ingress, event, attempt=attempt)
    p = event.payload
    if result.status is None:
        log.warning(
            "push.retry",
            push_id=str(p.push_id),
            attempt=attempt,
            retry_in_s=result.retry_in_s,
            error=result.error,
        )
        return result.retry_in_s
    push_result = PushResult.new(
        channel=event.channel,
        caused_by=event,
        event_id=uuid5(p.push_id, "result"),
        payload=PushResultV1(
            push_id=p.push_id,
            client_id=p.client_id,
            case_id=p.case_id,
            status=result.status,
            attempts=attempt,
            line_request_id=result.line_request_id,
            error=result.error,
        ),
    )
    async with transaction(ingress.db.sessions) as session:
        if await first_time(session, processed_events, event_id=event.id, consumer=PUSH_CONSUMER):
            await add_to_outbox(session, outbox, push_result)
    ingress.wake_relay()
    log.info(
        "push.done",
        push_id=str(p.push_id),
        client_id=str(p.client_id),
        status=result.status,
        attempts=attempt,
        line_request_id=result.line_request_id,
        error=result.error,
    )
    return None
