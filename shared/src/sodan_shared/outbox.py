"""Relays outbox rows (written in the same transaction as state) to JetStream."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import structlog
from nats.js import JetStreamContext
from sqlalchemy import Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = structlog.get_logger(__name__)


class OutboxRelay:
    """Publishes pending outbox rows in order; safe with several replicas (SKIP LOCKED).

    Call :meth:`wake` after committing a transaction that wrote to the outbox so
    the event leaves at once; the poll interval is only the safety net.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        table: Table,
        js: JetStreamContext,
        *,
        poll_interval: float = 0.5,
        batch: int = 200,
        keep_published: timedelta = timedelta(hours=24),
    ) -> None:
        self._sessions = sessions
        self._table = table
        self._js = js
        self._poll = poll_interval
        self._batch = batch
        self._keep = keep_published
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self._wake.set()

    async def publish_pending(self) -> int:
        t = self._table
        async with self._sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(t.c.seq, t.c.subject, t.c.data, t.c.headers)
                    .where(t.c.published_at.is_(None))
                    .order_by(t.c.seq)
                    .limit(self._batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                await self._js.publish(
                    row.subject, row.data, headers=dict(row.headers), timeout=5.0
                )
            if rows:
                await session.execute(
                    update(t)
                    .where(t.c.seq.in_([r.seq for r in rows]))
                    .values(published_at=datetime.now(UTC))
                )
        return len(rows)

    async def purge_published(self) -> None:
        t = self._table
        async with self._sessions() as session, session.begin():
            await session.execute(
                delete(t).where(t.c.published_at < datetime.now(UTC) - self._keep)
            )

    async def run(self) -> None:
        rounds = 0
        while True:
            self._wake.clear()
            try:
                while await self.publish_pending() == self._batch:
                    pass
                rounds += 1
                if rounds % 1000 == 0:
                    await self.purge_published()
            except asyncio.CancelledError:
                raise
            except Exception:  # NATS or DB away: keep the rows, try again shortly
                log.warning("outbox.publish_failed", exc_info=True)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
            except TimeoutError:
                pass

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
