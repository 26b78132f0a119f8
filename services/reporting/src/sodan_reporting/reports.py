"""The report figures read from the projections (daily table and monthly summary)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from sodan_reporting.days import (
    BadPeriodError,
    parse_day,
    parse_month,
    parse_range,
    percentile,
    start_of_day,
)
from sodan_reporting.db import queries
from sodan_reporting.monthly import (
    MonthRow,
    Period,
    Report,
    build_report,
    headline,
    month_label,
    opened_range,
)
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


# --- the monthly and final reports -------------------------------------------------

MAX_FINAL_DAYS = 366 * 5


@dataclass(frozen=True)
class PeriodData:
    cases: list[queries.CaseRow]
    counts: dict[str, int]
    clients: tuple[int, int]


async def period_data(
    session: AsyncSession, *, first: date, last: date, channel: str | None
) -> PeriodData:
    start, end = opened_range(first, last)
    totals: dict[str, int] = {}
    for _day, _ch, metric, value in await queries.counts_between(
        session, first=first, last=last, channel=channel
    ):
        totals[metric] = totals.get(metric, 0) + value
    cases = await queries.case_rows(session, start=start, end=end, channel=channel)
    clients = await queries.clients_of_cases(session, start=start, end=end, channel=channel)
    return PeriodData(cases=cases, counts=totals, clients=clients)


def _shift_month(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


async def _month_figures(
    session: AsyncSession, *, first: date, channel: str | None
) -> dict[str, int]:
    _, last = parse_month(f"{first.year:04d}-{first.month:02d}")
    data = await period_data(session, first=first, last=last, channel=channel)
    return headline(data.cases, data.counts, data.clients)


async def monthly_report(
    session: AsyncSession, *, month: str, channel: str | None, threshold: int
) -> Report:
    first, last = parse_month(month)
    data = await period_data(session, first=first, last=last, channel=channel)
    previous = await _month_figures(session, first=_shift_month(first, -1), channel=channel)
    last_year = await _month_figures(session, first=_shift_month(first, -12), channel=channel)
    staff = await queries.staff_between(session, first=first, last=last, channel=channel)
    note = await queries.get_note(session, month=month, channel=channel or "")
    return build_report(
        kind="monthly",
        title=f"SNS相談 月次報告（{month_label(first)}）",
        period=Period(first, last, channel),
        period_label=month_label(first),
        cases=data.cases,
        counts=data.counts,
        clients=data.clients,
        staff_rows=staff,
        previous=previous,
        last_year=last_year,
        note=note,
        threshold=threshold,
    )


async def final_report(
    session: AsyncSession, *, start: str, end: str, channel: str | None, threshold: int
) -> Report:
    """The 業務完了報告書 figures over any range of days (up to five years)."""
    first, last = parse_day(start, name="from"), parse_day(end, name="to")
    if last < first:
        raise BadPeriodError("to must not be before from")
    if (last - first).days + 1 > MAX_FINAL_DAYS:
        raise BadPeriodError(f"a final report covers at most {MAX_FINAL_DAYS} days")
    data = await period_data(session, first=first, last=last, channel=channel)
    staff = await queries.staff_between(session, first=first, last=last, channel=channel)
    months: list[MonthRow] = []
    cursor = date(first.year, first.month, 1)
    while cursor <= last:
        _, month_end = parse_month(f"{cursor.year:04d}-{cursor.month:02d}")
        part = await period_data(
            session, first=max(first, cursor), last=min(last, month_end), channel=channel
        )
        months.append(
            MonthRow(
                month=f"{cursor.year:04d}-{cursor.month:02d}",
                figures=headline(part.cases, part.counts, part.clients),
            )
        )
        cursor = _shift_month(cursor, 1)
    label = f"{first.year}年{first.month}月{first.day}日〜{last.year}年{last.month}月{last.day}日"
    return build_report(
        kind="final",
        title="SNS相談 業務完了報告書（集計）",
        period=Period(first, last, channel),
        period_label=label,
        cases=data.cases,
        counts=data.counts,
        clients=data.clients,
        staff_rows=staff,
        months=months,
        threshold=threshold,
    )
