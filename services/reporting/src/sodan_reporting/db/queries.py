"""Reads and writes of the reporting schema (keyword-only, explicit session)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from sodan_reporting.db.tables import (
    PROJECTION_TABLES,
    case_facts,
    clients_seen,
    daily_counts,
    monthly_reports,
    report_notes,
    staff_counts,
)
from sodan_reporting.projection import CaseFact, Increment, StaffIncrement


async def add_counts(session: AsyncSession, *, counts: Iterable[Increment]) -> None:
    # Merged per key and written in key order so concurrent handlers lock rows
    # in the same order (no deadlocks between them).
    merged: dict[tuple[date, str, str], int] = {}
    for c in counts:
        key = (c.day, c.channel, c.metric)
        merged[key] = merged.get(key, 0) + c.delta
    for (day, channel, metric), delta in sorted(merged.items()):
        if delta == 0:
            continue
        stmt = pg_insert(daily_counts).values(day=day, channel=channel, metric=metric, value=delta)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["day", "channel", "metric"],
                set_={"value": daily_counts.c.value + stmt.excluded.value},
            )
        )


async def lock_case(session: AsyncSession, *, case_id: UUID, channel: str) -> CaseFact:
    """The case's fact row, created empty if new, locked until commit."""
    await session.execute(
        pg_insert(case_facts)
        .values(
            case_id=case_id,
            channel=channel,
            max_urgency="normal",
            counsellor_ids=[],
            urgent_counted=False,
        )
        .on_conflict_do_nothing(index_elements=["case_id"])
    )
    row = (
        await session.execute(
            select(case_facts).where(case_facts.c.case_id == case_id).with_for_update()
        )
    ).one()
    return CaseFact(
        case_id=row.case_id,
        channel=row.channel,
        client_id=row.client_id,
        opened_at=row.opened_at,
        first_assigned_at=row.first_assigned_at,
        first_response_at=row.first_response_at,
        closed_at=row.closed_at,
        max_urgency=row.max_urgency,
        counsellor_ids=tuple(row.counsellor_ids),
        counsellor_messages=row.counsellor_messages,
        urgent_counted=row.urgent_counted,
        outcome=row.outcome,
        topics=tuple(row.topics),
        age_group=row.age_group,
        region=row.region,
        gender_identity=row.gender_identity,
        refused=row.refused,
        survey_sent=row.survey_sent,
        survey_answer=row.survey_answer,
    )


async def save_case(session: AsyncSession, *, fact: CaseFact) -> None:
    await session.execute(
        update(case_facts)
        .where(case_facts.c.case_id == fact.case_id)
        .values(
            client_id=fact.client_id,
            opened_at=fact.opened_at,
            first_assigned_at=fact.first_assigned_at,
            first_response_at=fact.first_response_at,
            closed_at=fact.closed_at,
            max_urgency=fact.max_urgency,
            counsellor_ids=list(fact.counsellor_ids),
            counsellor_messages=fact.counsellor_messages,
            urgent_counted=fact.urgent_counted,
            outcome=fact.outcome,
            topics=list(fact.topics),
            age_group=fact.age_group,
            region=fact.region,
            gender_identity=fact.gender_identity,
            refused=fact.refused,
            survey_sent=fact.survey_sent,
            survey_answer=fact.survey_answer,
        )
    )


async def add_staff_counts(session: AsyncSession, *, counts: Iterable[StaffIncrement]) -> None:
    merged: dict[tuple[date, str, UUID, str], int] = {}
    for c in counts:
        key = (c.day, c.channel, c.staff_id, c.metric)
        merged[key] = merged.get(key, 0) + c.delta
    for (day, channel, staff_id, metric), delta in sorted(merged.items()):
        stmt = pg_insert(staff_counts).values(
            day=day, channel=channel, staff_id=staff_id, metric=metric, value=delta
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["day", "channel", "staff_id", "metric"],
                set_={"value": staff_counts.c.value + stmt.excluded.value},
            )
        )


async def lock_first_seen(
    session: AsyncSession, *, client_id: UUID, channel: str, seen_at: datetime
) -> datetime | None:
    """The client's known first contact (None if new: then ``seen_at`` is recorded), locked."""
    inserted = (
        await session.execute(
            pg_insert(clients_seen)
            .values(client_id=client_id, channel=channel, first_seen_at=seen_at)
            .on_conflict_do_nothing(index_elements=["client_id"])
            .returning(clients_seen.c.client_id)
        )
    ).first()
    if inserted is not None:
        return None
    known: datetime = (
        await session.execute(
            select(clients_seen.c.first_seen_at)
            .where(clients_seen.c.client_id == client_id)
            .with_for_update()
        )
    ).scalar_one()
    return known


async def set_first_seen(
    session: AsyncSession, *, client_id: UUID, first_seen_at: datetime
) -> None:
    await session.execute(
        update(clients_seen)
        .where(clients_seen.c.client_id == client_id)
        .values(first_seen_at=first_seen_at)
    )


async def counts_between(
    session: AsyncSession, *, first: date, last: date, channel: str | None
) -> list[tuple[date, str, str, int]]:
    stmt = (
        select(
            daily_counts.c.day, daily_counts.c.channel, daily_counts.c.metric, daily_counts.c.value
        )
        .where(daily_counts.c.day.between(first, last))
        .order_by(daily_counts.c.day, daily_counts.c.channel, daily_counts.c.metric)
    )
    if channel is not None:
        stmt = stmt.where(daily_counts.c.channel == channel)
    return [(r.day, r.channel, r.metric, int(r.value)) for r in await session.execute(stmt)]


async def cases_opened_between(
    session: AsyncSession, *, start: datetime, end: datetime, channel: str | None
) -> list[tuple[datetime, datetime | None]]:
    """(opened_at, first_assigned_at) of cases opened in [start, end)."""
    stmt = select(case_facts.c.opened_at, case_facts.c.first_assigned_at).where(
        case_facts.c.opened_at >= start, case_facts.c.opened_at < end
    )
    if channel is not None:
        stmt = stmt.where(case_facts.c.channel == channel)
    return [(r.opened_at, r.first_assigned_at) for r in await session.execute(stmt)]


@dataclass(frozen=True)
class CaseRow:
    """A case opened in the report period, as the report needs it (no text, no ids)."""

    channel: str
    opened_at: datetime
    first_assigned_at: datetime | None
    first_response_at: datetime | None
    closed_at: datetime | None
    max_urgency: str
    counsellor_messages: int
    outcome: str | None
    topics: tuple[str, ...]
    age_group: str | None
    region: str | None
    gender_identity: str | None
    refused: str | None
    survey_sent: bool = False
    survey_answer: str | None = None
    client_new: bool = False


async def case_rows(
    session: AsyncSession, *, start: datetime, end: datetime, channel: str | None
) -> list[CaseRow]:
    """Cases opened in [start, end); ``client_new``: the client's first contact is in it too."""
    c = case_facts.c
    stmt = (
        select(
            c.channel,
            c.opened_at,
            c.first_assigned_at,
            c.first_response_at,
            c.closed_at,
            c.max_urgency,
            c.counsellor_messages,
            c.outcome,
            c.topics,
            c.age_group,
            c.region,
            c.gender_identity,
            c.refused,
            c.survey_sent,
            c.survey_answer,
            clients_seen.c.first_seen_at,
        )
        .select_from(case_facts.outerjoin(clients_seen, clients_seen.c.client_id == c.client_id))
        .where(c.opened_at >= start, c.opened_at < end)
        .order_by(c.opened_at)
    )
    if channel is not None:
        stmt = stmt.where(c.channel == channel)
    return [
        CaseRow(
            channel=r.channel,
            opened_at=r.opened_at,
            first_assigned_at=r.first_assigned_at,
            first_response_at=r.first_response_at,
            closed_at=r.closed_at,
            max_urgency=r.max_urgency,
            counsellor_messages=r.counsellor_messages,
            outcome=r.outcome,
            topics=tuple(r.topics),
            age_group=r.age_group,
            region=r.region,
            gender_identity=r.gender_identity,
            refused=r.refused,
            survey_sent=r.survey_sent,
            survey_answer=r.survey_answer,
            client_new=r.first_seen_at is not None and r.first_seen_at >= start,
        )
        for r in await session.execute(stmt)
    ]


async def clients_of_cases(
    session: AsyncSession, *, start: datetime, end: datetime, channel: str | None
) -> tuple[int, int]:
    """(new, returning) distinct clients with a case opened in [start, end)."""
    c = case_facts.c
    stmt = (
        select(c.client_id, func.min(clients_seen.c.first_seen_at))
        .select_from(case_facts.outerjoin(clients_seen, clients_seen.c.client_id == c.client_id))
        .where(c.opened_at >= start, c.opened_at < end, c.client_id.is_not(None))
        .group_by(c.client_id)
    )
    if channel is not None:
        stmt = stmt.where(c.channel == channel)
    new = returning = 0
    for _client, first_seen in await session.execute(stmt):
        if first_seen is not None and first_seen < start:
            returning += 1
        else:
            new += 1
    return new, returning


async def staff_between(
    session: AsyncSession, *, first: date, last: date, channel: str | None
) -> list[tuple[UUID, str, int]]:
    """(staff id, metric, total) over the days."""
    s = staff_counts.c
    stmt = (
        select(s.staff_id, s.metric, func.sum(s.value))
        .where(s.day.between(first, last))
        .group_by(s.staff_id, s.metric)
        .order_by(s.staff_id, s.metric)
    )
    if channel is not None:
        stmt = stmt.where(s.channel == channel)
    return [(r[0], r[1], int(r[2])) for r in await session.execute(stmt)]


async def channels_between(session: AsyncSession, *, first: date, last: date) -> list[str]:
    stmt = (
        select(daily_counts.c.channel)
        .where(daily_counts.c.day.between(first, last))
        .distinct()
        .order_by(daily_counts.c.channel)
    )
    return [r[0] for r in await session.execute(stmt)]


async def get_note(session: AsyncSession, *, month: str, channel: str) -> str | None:
    stmt = select(report_notes.c.text).where(
        report_notes.c.month == month, report_notes.c.channel == channel
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def put_note(
    session: AsyncSession, *, month: str, channel: str, text_: str, edited_by: UUID | None
) -> None:
    stmt = pg_insert(report_notes).values(
        month=month, channel=channel, text=text_, edited_by=edited_by, edited_at=func.now()
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["month", "channel"],
            set_={
                "text": stmt.excluded.text,
                "edited_by": stmt.excluded.edited_by,
                "edited_at": stmt.excluded.edited_at,
            },
        )
    )


async def delete_note(session: AsyncSession, *, month: str, channel: str) -> None:
    await session.execute(
        delete(report_notes).where(report_notes.c.month == month, report_notes.c.channel == channel)
    )


async def save_monthly_report(
    session: AsyncSession, *, month: str, channel: str, report: dict[str, Any]
) -> bool:
    """Keeps a produced report; False when that month's was already produced."""
    stmt = (
        pg_insert(monthly_reports)
        .values(month=month, channel=channel, generated_at=func.now(), report=report)
        .on_conflict_do_nothing(index_elements=["month", "channel"])
        .returning(monthly_reports.c.month)
    )
    return (await session.execute(stmt)).first() is not None


async def produced_reports(session: AsyncSession, *, month: str) -> list[str]:
    stmt = select(monthly_reports.c.channel).where(monthly_reports.c.month == month)
    return [r[0] for r in await session.execute(stmt)]


@dataclass(frozen=True)
class Produced:
    month: str
    generated_at: datetime
    cases: int


async def latest_produced(session: AsyncSession, *, limit: int) -> list[Produced]:
    """The desk-wide monthly reports the job produced, newest month first."""
    r = monthly_reports.c
    stmt = (
        select(r.month, r.generated_at, r.report["figures"]["cases"].astext)
        .where(r.channel == "")
        .order_by(r.month.desc())
        .limit(limit)
    )
    return [
        Produced(month=m, generated_at=at, cases=int(cases or 0))
        for m, at, cases in await session.execute(stmt)
    ]


async def count_case_facts(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(case_facts))).scalar_one())


async def clear_projections(session: AsyncSession) -> None:
    names = ", ".join(f"{t.schema}.{t.name}" for t in PROJECTION_TABLES)
    await session.execute(text(f"TRUNCATE {names}"))
