"""Reads and writes of the reporting schema (keyword-only, explicit session)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from uuid import UUID

from sqlalchemy import func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from sodan_reporting.db.tables import (
    PROJECTION_TABLES,
    case_facts,
    clients_seen,
    daily_counts,
)
from sodan_reporting.projection import CaseFact, Increment


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
        opened_at=row.opened_at,
        first_assigned_at=row.first_assigned_at,
        closed_at=row.closed_at,
        max_urgency=row.max_urgency,
        counsellor_ids=tuple(row.counsellor_ids),
        urgent_counted=row.urgent_counted,
    )


async def save_case(session: AsyncSession, *, fact: CaseFact) -> None:
    await session.execute(
        update(case_facts)
        .where(case_facts.c.case_id == fact.case_id)
        .values(
            opened_at=fact.opened_at,
            first_assigned_at=fact.first_assigned_at,
            closed_at=fact.closed_at,
            max_urgency=fact.max_urgency,
            counsellor_ids=list(fact.counsellor_ids),
            urgent_counted=fact.urgent_counted,
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


async def count_case_facts(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(case_facts))).scalar_one())


async def clear_projections(session: AsyncSession) -> None:
    names = ", ".join(f"{t.schema}.{t.name}" for t in PROJECTION_TABLES)
    await session.execute(text(f"TRUNCATE {names}"))
