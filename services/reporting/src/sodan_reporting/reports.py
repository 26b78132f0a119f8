"""The report figures read from the projections (daily table and monthly summary)."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from sodan_reporting.days import parse_month, parse_range, percentile, start_of_day
from sodan_reporting.db import queries
from sodan_reporting.projection import METRICS


class DayCounts(BaseModel):
    day: date
    channel: str
    counts: dict[str, int]


class DailyReport(BaseModel):
    first_day: date = Field(serialization_alias="from")
    last_day: date = Field(serialization_alias="to")
    channel: str | None
    timezone: str = "Asia/Tokyo"
    metrics: list[str] = Field(default_factory=lambda: [str(m) for m in METRICS])
    days: list[DayCounts]
    totals: dict[str, int]


class WaitStats(BaseModel):
    assigned_cases: int = Field(description="Cases opened in the period that were assigned")
    unassigned_cases: int = Field(description="Cases opened in the period never assigned (yet)")
    median_seconds: float | None
    p90_seconds: float | None


class MonthlySummary(BaseModel):
    month: str
    channel: str | None
    timezone: str = "Asia/Tokyo"
    counts: dict[str, int]
    first_assignment_wait: WaitStats


def _zeroes() -> dict[str, int]:
    return dict.fromkeys(METRICS, 0)


async def daily_report(
    session: AsyncSession, *, start: str, end: str, channel: str | None
) -> DailyReport:
    first, last = parse_range(start, end)
    rows = await queries.counts_between(session, first=first, last=last, channel=channel)
    by_day: dict[tuple[date, str], dict[str, int]] = {}
    totals = _zeroes()
    for day, ch, metric, value in rows:
        by_day.setdefault((day, ch), _zeroes())[metric] = value
        totals[metric] = totals.get(metric, 0) + value
    days = [DayCounts(day=d, channel=ch, counts=c) for (d, ch), c in sorted(by_day.items())]
    return DailyReport(first_day=first, last_day=last, channel=channel, days=days, totals=totals)


async def monthly_summary(
    session: AsyncSession, *, month: str, channel: str | None
) -> MonthlySummary:
    first, last = parse_month(month)
    totals = _zeroes()
    for _day, _ch, metric, value in await queries.counts_between(
        session, first=first, last=last, channel=channel
    ):
        totals[metric] = totals.get(metric, 0) + value
    cases = await queries.cases_opened_between(
        session,
        start=start_of_day(first),
        end=start_of_day(last + timedelta(days=1)),
        channel=channel,
    )
    waits = [
        (assigned - opened).total_seconds() for opened, assigned in cases if assigned is not None
    ]
    return MonthlySummary(
        month=month,
        channel=channel,
        counts=totals,
        first_assignment_wait=WaitStats(
            assigned_cases=len(waits),
            unassigned_cases=len(cases) - len(waits),
            median_seconds=percentile(waits, 50),
            p90_seconds=percentile(waits, 90),
        ),
    )
