"""The LINE official accounts (チャネル) the console has seen, and their display names."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, literal, select, text, union
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from sodan_console.db.tables import cases, channels, clients, desk_status


async def display_names(session: AsyncSession) -> dict[str, str]:
    """channel id -> 表示名, for the channels an admin has named."""
    rows = await session.execute(
        select(channels.c.channel, channels.c.display_name).where(
            channels.c.display_name.is_not(None)
        )
    )
    return {r.channel: r.display_name for r in rows}


# A loose index scan (one probe of cases_by_channel_order per channel): the distinct
# channels of 100k cases without reading them all.
_CASE_CHANNELS = text(
    """
    WITH RECURSIVE seen(channel) AS (
        (SELECT channel FROM console.cases ORDER BY channel LIMIT 1)
        UNION ALL
        SELECT (SELECT c.channel FROM console.cases c WHERE c.channel > seen.channel
                ORDER BY c.channel LIMIT 1)
        FROM seen WHERE seen.channel IS NOT NULL
    )
    SELECT channel FROM seen WHERE channel IS NOT NULL
    """
)


async def names(session: AsyncSession) -> list[tuple[str, str | None]]:
    """Every channel seen, with its 表示名 (or None), cheaply: for the list's filter."""
    found = {r.channel for r in await session.execute(_CASE_CHANNELS)}
    found |= {r.channel for r in await session.execute(select(desk_status.c.channel))}
    named = await session.execute(select(channels.c.channel, channels.c.display_name))
    given = {r.channel: r.display_name for r in named}
    return [(c, given.get(c)) for c in sorted(found | set(given))]


async def overview(session: AsyncSession) -> Sequence[Any]:
    """Every channel seen (cases, clients, routing's desk status, or named here) with
    its cases counted by status; by channel id."""
    seen = union(
        select(cases.c.channel.label("channel")).distinct(),
        select(clients.c.channel).distinct(),
        select(desk_status.c.channel),
        select(channels.c.channel),
    ).subquery()
    counts = (
        select(
            cases.c.channel,
            func.count().label("total"),
            func.count().filter(cases.c.status != "closed").label("open"),
            func.count().filter(cases.c.status == "closed").label("closed"),
        )
        .group_by(cases.c.channel)
        .subquery()
    )
    query = (
        select(
            seen.c.channel,
            channels.c.display_name,
            channels.c.note,
            channels.c.updated_at,
            func.coalesce(counts.c.total, literal(0)).label("total"),
            func.coalesce(counts.c.open, literal(0)).label("open"),
            func.coalesce(counts.c.closed, literal(0)).label("closed"),
        )
        .select_from(
            seen.outerjoin(channels, channels.c.channel == seen.c.channel).outerjoin(
                counts, counts.c.channel == seen.c.channel
            )
        )
        .order_by(seen.c.channel)
    )
    return (await session.execute(query)).all()


async def save(
    session: AsyncSession,
    *,
    channel: str,
    display_name: str | None,
    note: str | None,
    by: UUID,
    at: datetime,
) -> None:
    stmt = pg_insert(channels).values(
        channel=channel, display_name=display_name, note=note, updated_at=at, updated_by=by
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[channels.c.channel],
            set_={
                "display_name": stmt.excluded.display_name,
                "note": stmt.excluded.note,
                "updated_at": at,
                "updated_by": by,
            },
        )
    )
