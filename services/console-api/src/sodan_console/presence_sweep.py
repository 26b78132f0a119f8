"""Staff whose session ended without logging out (the idle timeout, the absolute
expiry, a closed browser) go offline, so routing hands their open cases back to
the queue and supervisors get the handback notice. One replica takes each row
(row locks, SKIP LOCKED); the change goes out through the outbox like any other
presence change."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sodan_shared.db import transaction
from sodan_shared.db.idempotency import add_to_outbox
from sodan_shared.events.console import StaffPresenceChanged, StaffPresenceChangedV1
from sodan_shared.logging import get_logger
from sodan_shared.runtime import cancel_and_wait

from sodan_console.db import queries, supervision
from sodan_console.db.tables import outbox
from sodan_console.state import ConsoleState

log = get_logger(__name__)


async def sweep_once(state: ConsoleState, *, now: datetime | None = None) -> int:
    """Set offline everyone present without a live session; how many were."""
    now = now or datetime.now(UTC)
    idle = timedelta(minutes=state.settings.console_session_idle_minutes)
    async with transaction(state.db.sessions) as session:
        gone = await supervision.lock_present_staff_without_session(
            session, now=now, seen_since=now - idle
        )
        for row in gone:
            await queries.set_presence(session, staff_id=row.staff_id, presence="offline", now=now)
            await add_to_outbox(
                session,
                outbox,
                StaffPresenceChanged.new(
                    channel=state.settings.line_channel_id,
                    payload=StaffPresenceChangedV1(
                        staff_id=row.staff_id,
                        role=row.role,
                        presence="offline",
                        capacity=row.capacity,
                    ),
                ),
            )
            log.info("console.session_ended_offline", staff_id=str(row.staff_id))
    if gone:
        state.wake_relay()
    return len(gone)


class PresenceSweep:
    def __init__(self, state: ConsoleState) -> None:
        self.state = state
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        await cancel_and_wait(self.task)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.state.settings.console_presence_sweep_s)
            try:
                await sweep_once(self.state)
            except Exception:  # the database may be away for a moment: try next time
                log.warning("console.presence_sweep_failed", exc_info=True)
