"""Realtime updates for browsers: every replica sees every event.

The durable consumers are shared by replicas, so a replica only projects some of
the events. For the browser feed each replica instead listens on a plain NATS
core subscription (JetStream publishes are visible there too), waits until the
event's projection is committed (by whichever replica consumed it), and then
tells its own browsers which case or client changed. Browsers refetch through the
API, which applies the access rules; the feed carries ids only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from pydantic import ValidationError
from sodan_shared.events.console import StaffPresenceChanged
from sodan_shared.events.envelope import Envelope
from sodan_shared.events.reporting import MonthlyReportReady
from sodan_shared.events.routing import AssignmentModeChanged, CongestionChanged
from sodan_shared.logging import get_logger
from sodan_shared.subjects import (
    ALL_SUBJECTS,
    CASES,
    CLIENT_FOLLOWED,
    CLIENT_UNFOLLOWED,
    EMERGENCY_MODE_SET,
    MEDIA_FETCH_FAILED,
    MEDIA_STORED,
    MESSAGE_RECEIVED,
    MESSAGE_SCORED,
    MESSAGE_UNSENT,
    MONTHLY_REPORT_READY,
    PUSH_REQUESTED,
    PUSH_RESULT,
    REPLY_REQUESTED,
    STAFF_PRESENCE_CHANGED,
)
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sodan_console.db.tables import processed_events

log = get_logger(__name__)


@dataclass(frozen=True)
class Change:
    """What a browser needs to know to refetch: ids only, never content."""

    kind: str  # "case" | "message" | "desk" | "staff" | "report" | "resync"
    case_id: UUID | None = None
    client_id: UUID | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "kind": self.kind,
                "case_id": str(self.case_id) if self.case_id else None,
                "client_id": str(self.client_id) if self.client_id else None,
            }
        )


class Hub:
    """In-process fan-out to the SSE connections of this replica."""

    def __init__(self, *, queue_size: int = 256) -> None:
        self._queues: set[asyncio.Queue[Change | None]] = set()
        self._size = queue_size

    def subscribe(self) -> asyncio.Queue[Change | None]:
        queue: asyncio.Queue[Change | None] = asyncio.Queue(self._size)
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Change | None]) -> None:
        self._queues.discard(queue)

    def publish(self, change: Change) -> None:
        for queue in list(self._queues):
            try:
                queue.put_nowait(change)
            except asyncio.QueueFull:
                # A stalled browser: tell it to reload everything rather than block others.
                with contextlib.suppress(asyncio.QueueEmpty):
                    while True:
                        queue.get_nowait()
                queue.put_nowait(Change(kind="resync"))

    @property
    def listeners(self) -> int:
        return len(self._queues)


def change_for(event: Envelope[Any]) -> Change | None:
    if isinstance(event, CongestionChanged | AssignmentModeChanged):
        return Change(kind="desk")
    if isinstance(event, MonthlyReportReady):  # supervisors and admins are told at once
        return Change(kind="report")
    if isinstance(event, StaffPresenceChanged):  # presence or capacity: the staff panel
        return Change(kind="staff")
    payload = event.payload
    case_id = getattr(payload, "case_id", None)
    client_id = getattr(payload, "client_id", None)
    if case_id is not None and event.type.startswith("case."):
        return Change(kind="case", case_id=case_id, client_id=client_id)
    if client_id is not None:
        return Change(kind="message", case_id=case_id, client_id=client_id)
    return None


class LiveFeed:
    """Core NATS subscriptions of one replica, feeding its :class:`Hub`."""

    def __init__(
        self,
        nc: Client,
        hub: Hub,
        sessions: async_sessionmaker[AsyncSession],
        *,
        consumer_of: dict[str, str],
        wait_for_projection: float = 5.0,
        max_pending: int = 200,
    ) -> None:
        self._nc = nc
        self._hub = hub
        self._sessions = sessions
        self._consumer_of = consumer_of
        self._wait = wait_for_projection
        self._max_pending = max_pending
        self._subs: list[Subscription] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._events = {s.name: s.event for s in ALL_SUBJECTS}

    async def start(self) -> None:
        for subject in (
            MESSAGE_RECEIVED.name,
            MESSAGE_SCORED.name,
            MESSAGE_UNSENT.name,
            PUSH_REQUESTED.name,
            PUSH_RESULT.name,
            REPLY_REQUESTED.name,
            CLIENT_FOLLOWED.name,
            CLIENT_UNFOLLOWED.name,
            MEDIA_STORED.name,
            MEDIA_FETCH_FAILED.name,
            EMERGENCY_MODE_SET.name,
            STAFF_PRESENCE_CHANGED.name,
            MONTHLY_REPORT_READY.name,
            *CASES.subjects,
        ):
            self._subs.append(await self._nc.subscribe(subject, cb=self._on_msg))

    async def stop(self) -> None:
        for sub in self._subs:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        self._subs.clear()
        for task in list(self._tasks):
            task.cancel()

    async def _on_msg(self, msg: Msg) -> None:
        # Nobody is watching from this replica: the checks below would only load
        # the database (a burst of events once starved the API of connections).
        if self._hub.listeners == 0:
            return
        event_cls = self._events.get(msg.subject)
        if event_cls is None:
            return
        try:
            event = event_cls.model_validate_json(msg.data)
        except ValidationError:
            log.warning("live.bad_event", subject=msg.subject)
            return
        change = change_for(event)
        if change is None:
            return
        consumer = self._consumer_of.get(msg.subject)
        if consumer is None:  # our own commands: the state was committed before publishing
            self._hub.publish(change)
            return
        if len(self._tasks) >= self._max_pending:
            # A burst: one "reload everything" beats a database check per event.
            self._hub.publish(Change(kind="resync"))
            return
        task = asyncio.create_task(self._after_projection(event.id, consumer, change))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _after_projection(self, event_id: UUID, consumer: str, change: Change) -> None:
        delay, waited = 0.05, 0.0
        while waited < self._wait:
            if await self._projected(event_id, consumer):
                break
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, 0.5)
        # Published even after the wait runs out: a refetch is harmless.
        self._hub.publish(change)

    async def _projected(self, event_id: UUID, consumer: str) -> bool:
        try:
            async with self._sessions() as session:
                found = (
                    await session.execute(
                        select(processed_events.c.event_id).where(
                            processed_events.c.consumer == consumer,
                            processed_events.c.event_id == event_id,
                        )
                    )
                ).first()
        except Exception:
            log.warning("live.projection_check_failed", event_id=str(event_id), exc_info=True)
            return True
        return found is not None
