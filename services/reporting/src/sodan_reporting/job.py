"""The monthly job: on the 1st (Japan time) last month's report is produced and admins told.

"Produced" means the report of every channel (and of all channels together,
stored under channel '') is kept as it was that day in ``monthly_reports``,
and a ``report.monthly_ready.v1`` event is queued in the same transaction
(outbox), so a crash can't produce one without the other. If the service was
down on the 1st, the next check (any later day) catches up: due means "last
month's report does not exist yet", not "it is the 1st".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sodan_shared.db import transaction
from sodan_shared.db.idempotency import add_to_outbox
from sodan_shared.events.reporting import MonthlyReportReady, MonthlyReportReadyV1
from sodan_shared.logging import get_logger
from sodan_shared.runtime import cancel_and_wait
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sodan_reporting.days import TOKYO, parse_month
from sodan_reporting.db import queries
from sodan_reporting.db.tables import outbox
from sodan_reporting.reports import monthly_report

log = get_logger()
ALL_CHANNELS = ""


def month_before(now: datetime) -> str:
    """The month that ended before ``now``'s Japan-time month began."""
    today = now.astimezone(TOKYO).date()
    last_of_previous = date(today.year, today.month, 1) - timedelta(days=1)
    return f"{last_of_previous.year:04d}-{last_of_previous.month:02d}"


async def produce_month(
    sessions: async_sessionmaker[AsyncSession], *, month: str, threshold: int
) -> bool:
    """Produces ``month``'s reports once; False when they already were."""
    first, last = parse_month(month)
    async with transaction(sessions) as session:
        # replicas check at the same time on the 1st: one produces, the others then see it
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('reporting.monthly'))"))
        if ALL_CHANNELS in await queries.produced_reports(session, month=month):
            return False
        channels = await queries.channels_between(session, first=first, last=last)
        total = 0
        for channel in [ALL_CHANNELS, *channels]:
            report = await monthly_report(
                session, month=month, channel=channel or None, threshold=threshold
            )
            if channel == ALL_CHANNELS:
                total = report.figures["cases"]
            await queries.save_monthly_report(
                session,
                month=month,
                channel=channel,
                report=report.model_dump(mode="json", by_alias=True),
            )
        await add_to_outbox(
            session,
            outbox,
            MonthlyReportReady.new(
                channel=ALL_CHANNELS,
                payload=MonthlyReportReadyV1(month=month, channels=channels, cases=total),
            ),
        )
    log.info("reporting.monthly_produced", month=month, channels=len(channels), cases=total)
    return True


class MonthlyJob:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        threshold: int,
        interval_s: float,
        after: Callable[[], None] = lambda: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._sessions = sessions
        self._threshold = threshold
        self._interval = interval_s
        self._after = after
        self._clock = clock
        self._task: asyncio.Task[None] | None = None

    async def check(self) -> bool:
        month = month_before(self._clock())
        produced = await produce_month(self._sessions, month=month, threshold=self._threshold)
        if produced:
            self._after()
        return produced

    async def loop(self) -> None:
        while True:
            try:
                await self.check()
            except Exception:
                # the next check retries; a failure must not end the timer
                log.exception("reporting.monthly_failed")
            await asyncio.sleep(self._interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self.loop(), name="monthly-report")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
