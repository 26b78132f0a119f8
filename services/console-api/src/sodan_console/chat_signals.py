"""Pure decisions for the signals a counsellor's console sends to the client's LINE:
the loading animation while they type, and 既読 when they read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID


def should_signal_typing(
    *,
    last_signalled: datetime | None,
    now: datetime,
    throttle_s: float,
    last_client_message_at: datetime | None,
    window_s: float,
) -> bool:
    """At most once per ``throttle_s`` per case, and only while the client wrote
    recently: to someone who left hours ago a "typing" animation means nothing."""
    if last_client_message_at is None or now - last_client_message_at > timedelta(seconds=window_s):
        return False
    return last_signalled is None or now - last_signalled >= timedelta(seconds=throttle_s)


# Lines in the chat that are not messages the client wrote (no 既読 token).
NOT_WRITTEN = frozenset({"unsent", "followed", "blocked", "unblocked"})


def newest_client_message(rows: Sequence[Any]) -> UUID | None:
    """The id of the newest inbound message among those shown (oldest first)."""
    for row in reversed(rows):
        if row.direction == "in" and row.kind not in NOT_WRITTEN:
            message_id: UUID = row.message_id
            return message_id
    return None


def reads_for_viewer(*, viewer_id: UUID, assigned_to: UUID | None, status: str) -> bool:
    """Only the counsellor the case is assigned to makes it 既読; a supervisor
    monitoring (or anyone glancing at the queue) must not."""
    return status in ("assigned", "on_hold") and assigned_to == viewer_id
