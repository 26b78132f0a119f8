"""SQL for the access log: append one entry, read a filtered page (newest first)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from sodan_console.db.tables import access_log, staff

if TYPE_CHECKING:
    from sodan_console.access_log import Entry


async def append(session: AsyncSession, entry: Entry) -> None:
    await session.execute(insert(access_log).values(**asdict(entry)))


async def page(
    session: AsyncSession,
    *,
    since: datetime | None,
    until: datetime | None,
    staff_id: UUID | None,
    action: str | None,
    before_id: int | None,
    limit: int,
) -> Sequence[Any]:
    query = (
        select(
            access_log,
            staff.c.login.label("staff_login"),
            staff.c.display_name.label("staff_name"),
        )
        .select_from(access_log.outerjoin(staff, staff.c.staff_id == access_log.c.staff_id))
        .order_by(access_log.c.id.desc())
        .limit(limit)
    )
    if since is not None:
        query = query.where(access_log.c.at >= since)
    if until is not None:
        query = query.where(access_log.c.at < until)
    if staff_id is not None:
        query = query.where(access_log.c.staff_id == staff_id)
    if action is not None:
        query = query.where(access_log.c.action == action)
    if before_id is not None:
        query = query.where(access_log.c.id < before_id)
    return (await session.execute(query)).all()
