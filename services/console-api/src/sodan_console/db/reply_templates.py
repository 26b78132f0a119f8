"""SQL for 定型文: the current templates and every version saved."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from sodan_console.db.tables import reply_template_versions, reply_templates, staff


async def listing(session: AsyncSession, *, include_retired: bool) -> Sequence[Any]:
    query = (
        select(reply_templates, staff.c.display_name.label("updated_by_name"))
        .outerjoin(staff, staff.c.staff_id == reply_templates.c.updated_by)
        .order_by(
            reply_templates.c.retired_at.is_not(None),
            reply_templates.c.sort_order,
            reply_templates.c.category,
            reply_templates.c.title,
        )
    )
    if not include_retired:
        query = query.where(reply_templates.c.retired_at.is_(None))
    return (await session.execute(query)).all()


async def one(session: AsyncSession, *, template_id: UUID) -> Any:
    return (
        await session.execute(
            select(reply_templates, staff.c.display_name.label("updated_by_name"))
            .outerjoin(staff, staff.c.staff_id == reply_templates.c.updated_by)
            .where(reply_templates.c.template_id == template_id)
        )
    ).first()


async def lock(session: AsyncSession, *, template_id: UUID) -> Any:
    return (
        await session.execute(
            select(reply_templates)
            .where(reply_templates.c.template_id == template_id)
            .with_for_update()
        )
    ).first()


async def _keep_version(session: AsyncSession, row: dict[str, Any]) -> None:
    await session.execute(
        insert(reply_template_versions).values(
            template_id=row["template_id"],
            version=row["version"],
            title=row["title"],
            category=row["category"],
            body=row["body"],
            sort_order=row["sort_order"],
            retired=row["retired_at"] is not None,
            saved_at=row["updated_at"],
            saved_by=row["updated_by"],
        )
    )


async def create(
    session: AsyncSession,
    *,
    template_id: UUID,
    title: str,
    category: str,
    body: str,
    sort_order: int,
    staff_id: UUID | None,
    at: datetime,
    if_absent: bool = False,
) -> bool:
    """Add a template at version 1; ``if_absent``: leave an existing one as it is
    (the demo seed must not undo a supervisor's edit). True when added."""
    row: dict[str, Any] = {
        "template_id": template_id,
        "title": title,
        "category": category,
        "body": body,
        "sort_order": sort_order,
        "version": 1,
        "retired_at": None,
        "updated_at": at,
        "updated_by": staff_id,
    }
    stmt = pg_insert(reply_templates).values(**row)
    if if_absent:
        stmt = stmt.on_conflict_do_nothing(index_elements=[reply_templates.c.template_id])
    added = (await session.execute(stmt.returning(reply_templates.c.template_id))).first()
    if added is None:
        return False
    await _keep_version(session, row)
    return True


async def save(
    session: AsyncSession,
    *,
    current: Any,
    staff_id: UUID,
    at: datetime,
    **changes: Any,
) -> None:
    """The next version of a locked template, kept in the history too."""
    row: dict[str, Any] = dict(current._mapping)
    row |= changes | {"version": current.version + 1, "updated_at": at, "updated_by": staff_id}
    await session.execute(
        update(reply_templates)
        .where(reply_templates.c.template_id == current.template_id)
        .values(**{k: v for k, v in row.items() if k != "template_id"})
    )
    await _keep_version(session, row)


async def history(session: AsyncSession, *, template_id: UUID) -> Sequence[Any]:
    return (
        await session.execute(
            select(reply_template_versions, staff.c.display_name.label("saved_by_name"))
            .outerjoin(staff, staff.c.staff_id == reply_template_versions.c.saved_by)
            .where(reply_template_versions.c.template_id == template_id)
            .order_by(reply_template_versions.c.version.desc())
        )
    ).all()
