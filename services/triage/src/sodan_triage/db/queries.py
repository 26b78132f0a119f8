"""Triage's queries: recent scores for context, the lexicon history."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from sodan_triage.db.tables import lexicon_history, recent_scores
from sodan_triage.lexicon import Level


async def recent_levels(
    session: AsyncSession,
    *,
    client_id: UUID,
    message_event_id: UUID,
    since: datetime,
    until: datetime,
    limit: int,
) -> list[Level]:
    """The client's latest levels in [since, until], newest first, this message excluded."""
    rows = await session.execute(
        select(recent_scores.c.level)
        .where(
            recent_scores.c.client_id == client_id,
            recent_scores.c.message_event_id != message_event_id,
            recent_scores.c.sent_at >= since,
            recent_scores.c.sent_at <= until,
        )
        .order_by(recent_scores.c.sent_at.desc())
        .limit(limit)
    )
    return [row.level for row in rows]


async def record_score(
    session: AsyncSession,
    *,
    message_event_id: UUID,
    client_id: UUID,
    level: Level,
    score: float,
    sent_at: datetime,
    prune_before: datetime,
) -> None:
    """Remember this message's own level; forget the client's scores past the window."""
    await session.execute(
        insert(recent_scores)
        .values(
            message_event_id=message_event_id,
            client_id=client_id,
            level=level,
            score=score,
            sent_at=sent_at,
        )
        .on_conflict_do_nothing(index_elements=[recent_scores.c.message_event_id])
    )
    await session.execute(
        delete(recent_scores).where(
            recent_scores.c.client_id == client_id, recent_scores.c.sent_at < prune_before
        )
    )


async def history_for_command(session: AsyncSession, command_id: UUID) -> Any | None:
    row = await session.execute(
        select(lexicon_history).where(lexicon_history.c.command_event_id == command_id)
    )
    return row.first()


async def next_version_number(session: AsyncSession) -> int:
    count = await session.scalar(select(func.count()).select_from(lexicon_history))
    return int(count or 0) + 1


async def add_history(
    session: AsyncSession,
    *,
    version: str,
    content: dict[str, Any],
    staff_id: UUID,
    comment: str,
    command_id: UUID,
) -> None:
    await session.execute(
        insert(lexicon_history).values(
            version=version,
            content=content,
            staff_id=staff_id,
            comment=comment,
            command_event_id=command_id,
        )
    )


async def history(session: AsyncSession, limit: int = 50) -> list[Any]:
    rows = await session.execute(
        select(
            lexicon_history.c.version,
            lexicon_history.c.staff_id,
            lexicon_history.c.comment,
            lexicon_history.c.at,
        )
        .order_by(lexicon_history.c.seq.desc())
        .limit(limit)
    )
    return list(rows)
