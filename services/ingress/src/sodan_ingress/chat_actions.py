"""Best-effort chat signals to LINE: the loading animation and 既読 (mark as read).

Neither is a message: no PushResult, no dead letters. Loading is tried once and
dropped when stale; a mark-as-read is retried a little on LINE's 5xx, then
given up (the client simply keeps seeing 未読 until the next one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sodan_shared.crypto import KeyDestroyedError, SealedValueError
from sodan_shared.db import transaction
from sodan_shared.events.line import LoadingRequested, MarkReadRequested
from sodan_shared.logging import get_logger

from sodan_ingress.db.queries import find_client, find_read_token, note_marked_read
from sodan_ingress.delivery import verdict_for_status
from sodan_ingress.service import Ingress

log = get_logger(__name__)

LOADING_CONSUMER = "ingress-loading"
MARK_READ_CONSUMER = "ingress-mark-read"

LoadingSkip = Literal["stale", "client_unknown", "client_ended_conversation"]


def loading_skip_reason(
    *, requested_at: datetime, now: datetime, max_age_s: float, known: bool, ended: bool
) -> LoadingSkip | None:
    """Why a loading animation must not be shown; None: show it."""
    if (now - requested_at).total_seconds() > max_age_s:
        return "stale"  # the counsellor's typing is long over
    if not known:
        return "client_unknown"
    if ended:
        return "client_ended_conversation"
    return None


async def show_loading(ingress: Ingress, event: LoadingRequested, *, now: datetime) -> bool:
    """One attempt; returns whether LINE accepted it."""
    p = event.payload
    async with ingress.db.sessions() as session:
        client = await find_client(session, client_id=p.client_id)
    skip = loading_skip_reason(
        requested_at=event.occurred_at,
        now=now,
        max_age_s=ingress.settings.ingress_loading_max_age_s,
        known=client is not None,
        ended=client is not None and client.ended_at is not None,
    )
    channel = ingress.channels.get(client.channel) if client is not None else None
    if skip is None and channel is None:
        skip = "client_unknown"
    if skip is not None or client is None or channel is None:
        log.info("loading.skipped", client_id=str(p.client_id), reason=skip)
        return False
    try:
        cipher = await ingress.keyring.cipher(p.client_id)
        chat_id = cipher.open("line_user_id", client.sealed_line_user_id)
    except (KeyDestroyedError, SealedValueError, LookupError):
        log.info("loading.skipped", client_id=str(p.client_id), reason="client_erased")
        return False
    answer = await ingress.pusher.show_loading(channel=channel, chat_id=chat_id, seconds=p.seconds)
    ok = 200 <= answer.status < 300
    log.info(
        "loading.shown" if ok else "loading.refused",
        client_id=str(p.client_id),
        status=answer.status,
        line_request_id=answer.request_id,
    )
    return ok


@dataclass(frozen=True)
class MarkOutcome:
    done: bool  # nothing more to do for this command
    reason: str


async def mark_read(ingress: Ingress, event: MarkReadRequested, *, now: datetime) -> MarkOutcome:
    """Call LINE once per token; a token already spent (by this message or a later
    one) is not called again, so a repeated command changes nothing."""
    p = event.payload
    if not ingress.settings.ingress_mark_as_read:
        return MarkOutcome(done=True, reason="disabled")
    async with ingress.db.sessions() as session:
        token_row = await find_read_token(session, message_event_id=p.up_to_message_event_id)
        client = await find_client(session, client_id=p.client_id)
    if token_row is None or token_row.client_id != p.client_id or client is None:
        return MarkOutcome(done=True, reason="no_token")
    if token_row.sealed_token is None:
        return MarkOutcome(done=True, reason="already_marked")
    channel = ingress.channels.get(client.channel)
    if channel is None:
        return MarkOutcome(done=True, reason="channel_unknown")
    try:
        cipher = await ingress.keyring.cipher(p.client_id)
        token = cipher.open("mark_as_read_token", token_row.sealed_token)
    except (KeyDestroyedError, SealedValueError, LookupError):
        return MarkOutcome(done=True, reason="client_erased")
    answer = await ingress.pusher.mark_read(channel=channel, token=token)
    verdict = verdict_for_status(answer.status)
    if verdict == "retry":
        return MarkOutcome(done=False, reason=f"line_{answer.status}")
    async with transaction(ingress.db.sessions) as session:
        # A 4xx (token LINE no longer takes) is spent too: trying again cannot help.
        await note_marked_read(session, client_id=p.client_id, up_to=token_row.sent_at, at=now)
    return MarkOutcome(done=True, reason="marked" if verdict == "sent" else f"line_{answer.status}")
