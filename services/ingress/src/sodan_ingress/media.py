"""Emergency mode: switching it per client, and fetching a client's media from
LINE into the object store, sealed, off the webhook path.

A fetch is one delivery of the MessageReceived to the media consumer. LINE's
429/5xx/timeouts are retried through JetStream redelivery (the shared
dead-letter middleware's growing delays) until ``max_deliveries``; then, like
404/410 (LINE no longer has it) or an oversized file, a MediaFetchFailed is
recorded for the console instead of retrying forever.
"""

from __future__ import annotations

import hashlib
from typing import Literal
from uuid import uuid5

from nats.js.errors import NotFoundError
from sodan_shared.crypto import KeyDestroyedError
from sodan_shared.db import transaction
from sodan_shared.db.idempotency import add_to_outbox, first_time
from sodan_shared.events.console import EmergencyModeSet
from sodan_shared.events.line import (
    MediaFetchFailed,
    MediaFetchFailedV1,
    MediaStored,
    MediaStoredV1,
    MessageReceived,
    MessageUnsent,
)
from sodan_shared.events.routing import CaseClosed
from sodan_shared.logging import get_logger
from sodan_shared.media_store import MEDIA_BUCKET, MEDIA_PURPOSE, media_object_name

from sodan_ingress.db.queries import (
    end_emergency_mode,
    find_client,
    note_unsent_media,
    start_emergency_mode,
    was_processed,
    was_unsent,
)
from sodan_ingress.db.tables import outbox, processed_events
from sodan_ingress.service import Ingress

log = get_logger(__name__)

MEDIA_CONSUMER = "ingress-media"
EMERGENCY_CONSUMER = "ingress-emergency-mode"
EMERGENCY_CLOSE_CONSUMER = "ingress-emergency-case-closed"
MEDIA_UNSEND_CONSUMER = "ingress-media-unsend"

Verdict = Literal["store", "expired", "too_large", "retry", "unavailable"]
FailureReason = Literal["expired", "too_large", "unavailable", "client_erased"]


class MediaFetchRetryError(Exception):
    """LINE did not hand the content over this time (429/5xx/timeout): redeliver later."""


def fetch_verdict(status: int, *, too_large: bool, attempt: int, max_attempts: int) -> Verdict:
    """What to do with LINE's answer to a content download."""
    if status == 200:
        return "too_large" if too_large else "store"
    if status in (404, 410):
        return "expired"  # LINE keeps content only for a while; asking again cannot help
    return "retry" if attempt < max_attempts else "unavailable"


async def set_emergency_mode(ingress: Ingress, event: EmergencyModeSet) -> None:
    p = event.payload
    async with transaction(ingress.db.sessions) as session:
        if not await first_time(
            session, processed_events, event_id=event.id, consumer=EMERGENCY_CONSUMER
        ):
            return
        if p.enabled:
            await start_emergency_mode(
                session,
                client_id=p.client_id,
                case_id=p.case_id,
                staff_id=p.staff_id,
                at=event.occurred_at,
            )
        else:
            await end_emergency_mode(session, client_id=p.client_id)
    log.info(
        "media.emergency_mode_set",
        client_id=str(p.client_id),
        case_id=str(p.case_id),
        enabled=p.enabled,
    )


async def end_emergency_mode_on_close(ingress: Ingress, event: CaseClosed) -> None:
    p = event.payload
    async with transaction(ingress.db.sessions) as session:
        if not await first_time(
            session, processed_events, event_id=event.id, consumer=EMERGENCY_CLOSE_CONSUMER
        ):
            return
        ended = await end_emergency_mode(session, client_id=p.client_id, case_id=p.case_id)
    if ended:
        log.info("media.emergency_mode_ended", client_id=str(p.client_id), case_id=str(p.case_id))


async def _record(
    ingress: Ingress, event: MessageReceived, outcome: MediaStored | MediaFetchFailed
) -> None:
    async with transaction(ingress.db.sessions) as session:
        if await first_time(session, processed_events, event_id=event.id, consumer=MEDIA_CONSUMER):
            await add_to_outbox(session, outbox, outcome)
    ingress.wake_relay()


async def _fail(
    ingress: Ingress, event: MessageReceived, reason: FailureReason, status: int | None
) -> None:
    p = event.payload
    failed = MediaFetchFailed.new(
        channel=event.channel,
        caused_by=event,
        event_id=uuid5(event.id, "media-failed"),
        payload=MediaFetchFailedV1(
            client_id=p.client_id,
            message_event_id=event.id,
            line_message_id=p.line_message_id,
            kind=p.kind,
            reason=reason,
            status=status,
        ),
    )
    await _record(ingress, event, failed)
    log.warning(
        "media.fetch_failed",
        event_id=str(event.id),
        client_id=str(p.client_id),
        kind=p.kind,
        reason=reason,
        status=status,
    )


async def fetch_media(ingress: Ingress, event: MessageReceived, *, attempt: int) -> None:
    """Fetch, seal and store one pending media message, once per event id."""
    p = event.payload
    if p.media != "pending":
        return
    async with ingress.db.sessions() as session:
        if await was_processed(session, event_id=event.id, consumer=MEDIA_CONSUMER):
            return
        client = await find_client(session, client_id=p.client_id)
    channel = ingress.channels.get(client.channel) if client is not None else None
    if channel is None:
        await _fail(ingress, event, "unavailable", None)
        return
    try:
        cipher = await ingress.keyring.cipher(p.client_id)
    except KeyDestroyedError:
        await _fail(ingress, event, "client_erased", None)
        return
    content = await ingress.content.fetch(channel=channel, message_id=p.line_message_id)
    verdict = fetch_verdict(
        content.status,
        too_large=content.too_large,
        attempt=attempt,
        max_attempts=ingress.settings.max_deliveries,
    )
    if verdict == "retry":
        log.warning(
            "media.fetch_retry", event_id=str(event.id), status=content.status, attempt=attempt
        )
        raise MediaFetchRetryError(f"LINE answered {content.status}")
    if verdict != "store":
        await _fail(ingress, event, verdict, content.status or None)
        return
    assert content.data is not None
    name = media_object_name(p.client_id, p.line_message_id)
    await ingress.media.put(name, cipher.seal_bytes(MEDIA_PURPOSE, content.data))
    # Checked after the put (the unsend notes first, then deletes): whichever of the
    # two runs second removes the copy, so an unsent item never stays stored.
    async with ingress.db.sessions() as session:
        unsent = await was_unsent(session, client_id=p.client_id, line_message_id=p.line_message_id)
    if unsent:
        await _delete(ingress, name)
        async with transaction(ingress.db.sessions) as session:
            await first_time(session, processed_events, event_id=event.id, consumer=MEDIA_CONSUMER)
        log.info("media.unsent_before_stored", event_id=str(event.id), client_id=str(p.client_id))
        return
    stored = MediaStored.new(
        channel=event.channel,
        caused_by=event,
        event_id=uuid5(event.id, "media-stored"),
        payload=MediaStoredV1(
            client_id=p.client_id,
            message_event_id=event.id,
            line_message_id=p.line_message_id,
            kind=p.kind,
            bucket=MEDIA_BUCKET,
            object_name=name,
            content_type=(content.content_type or "application/octet-stream")[:200],
            size=len(content.data),
            sha256=hashlib.sha256(content.data).hexdigest(),
        ),
    )
    await _record(ingress, event, stored)
    log.info(
        "media.stored",
        event_id=str(event.id),
        client_id=str(p.client_id),
        kind=p.kind,
        size=len(content.data),
    )


async def delete_unsent_media(ingress: Ingress, event: MessageUnsent) -> None:
    """The client unsent it: the sealed copy goes too (a no-op when none was stored)."""
    p = event.payload
    async with transaction(ingress.db.sessions) as session:
        await note_unsent_media(session, client_id=p.client_id, line_message_id=p.line_message_id)
    if await _delete(ingress, media_object_name(p.client_id, p.line_message_id)):
        log.info("media.deleted_on_unsend", client_id=str(p.client_id), event_id=str(event.id))


async def _delete(ingress: Ingress, name: str) -> bool:
    try:
        await ingress.media.delete(name)
    except NotFoundError:
        return False
    return True
