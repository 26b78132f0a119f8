"""The daily dump timer inside `run`: at the configured Japan time, and at startup if due."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time
from pathlib import Path

from sodan_shared.logging import get_logger

from sodan_backup.dumps import DumpOutcome, Trigger, newest_dump_time
from sodan_backup.generations import dump_due, next_daily_run

log = get_logger()


class DailyDumps:
    def __init__(
        self,
        run_dump: Callable[[Trigger], Awaitable[DumpOutcome]],
        *,
        dumps_dir: Path,
        at: time,
        after_dump: Callable[[], None] = lambda: None,
    ) -> None:
        self._run_dump = run_dump
        self._dir = dumps_dir
        self._at = at
        self._after = after_dump
        self._task: asyncio.Task[None] | None = None

    async def _once(self, trigger: Trigger) -> None:
        try:
            await self._run_dump(trigger)
            self._after()
        except asyncio.CancelledError:
            raise
        except Exception:  # e.g. the database is away: the timer must go on
            log.exception("backup.dump_run_crashed", trigger=trigger)

    async def loop(self) -> None:
        if dump_due(newest_dump_time(self._dir), datetime.now(UTC)):
            await self._once("startup")
        while True:
            due = next_daily_run(datetime.now(UTC), self._at)
            log.info("backup.next_dump", at=due.isoformat())
            await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
            await self._once("schedule")

    def start(self) -> None:
        self._task = asyncio.create_task(self.loop(), name="daily-dumps")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
