"""Reads and writes of the backup schema (keyword-only, explicit session)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from sodan_backup.db.tables import archive_positions, dump_runs


async def positions(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(archive_positions.c.stream, archive_positions.c.last_sequence)
    )
    return {r.stream: int(r.last_sequence) for r in rows}


async def advance_position(session: AsyncSession, *, stream: str, sequence: int) -> None:
    stmt = pg_insert(archive_positions).values(stream=stream, last_sequence=sequence)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["stream"],
            set_={
                "last_sequence": func.greatest(
                    archive_positions.c.last_sequence, stmt.excluded.last_sequence
                ),
                "updated_at": func.now(),
            },
        )
    )


async def start_run(
    session: AsyncSession, *, run_id: UUID, trigger: str, started_at: datetime
) -> None:
    await session.execute(
        insert(dump_runs).values(
            run_id=run_id, trigger=trigger, status="running", started_at=started_at
        )
    )


async def finish_run(session: AsyncSession, *, run_id: UUID, **values: Any) -> None:
    await session.execute(update(dump_runs).where(dump_runs.c.run_id == run_id).values(**values))


async def recent_runs(session: AsyncSession, *, limit: int = 10) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(dump_runs).order_by(dump_runs.c.started_at.desc()).limit(limit)
    )
    return [dict(r._mapping) for r in rows]
