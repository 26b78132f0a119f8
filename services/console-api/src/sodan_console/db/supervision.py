"""SQL for supervisors' screens and controls: settings as routing applied them, the
assignment mode, handback notices, and the staff list with loads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sodan_shared.closing import DEFAULT_CATEGORIES, ClosingCategories
from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from sodan_console.db.tables import (
    auto_texts,
    cases,
    closing_categories,
    desk_controls,
    handbacks,
    hours_calendar,
    sessions,
    staff,
)


async def _record_answer(
    session: AsyncSession,
    table: Any,
    key: dict[str, Any],
    applied: dict[str, Any] | None,
    *,
    outcome: str,
    error: str | None,
    staff_id: UUID,
    command_id: UUID,
    at: datetime,
) -> None:
    """Routing's answer to a supervisor's edit: an applied value replaces the setting,
    a refusal keeps it; either is the latest answer. An older answer (redelivered
    late) never overwrites a newer one."""
    values: dict[str, Any] = {
        **key,
        "last_outcome": outcome,
        "last_error": error,
        "last_at": at,
        "last_command_id": command_id,
    }
    if outcome == "applied" and applied is not None:
        values |= {**applied, "updated_at": at, "updated_by": staff_id}
    stmt = pg_insert(table).values(**values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[table.c[k] for k in key],
            set_={k: v for k, v in values.items() if k not in key},
            where=table.c.last_at <= at,
        )
    )


async def auto_text_outcome(
    session: AsyncSession,
    *,
    key: str,
    outcome: str,
    body: str | None,
    error: str | None,
    staff_id: UUID,
    command_id: UUID,
    at: datetime,
) -> None:
    await _record_answer(
        session,
        auto_texts,
        {"key": key},
        {"body": body},
        outcome=outcome,
        error=error,
        staff_id=staff_id,
        command_id=command_id,
        at=at,
    )


async def auto_texts_by_key(session: AsyncSession) -> dict[str, Any]:
    rows = (await session.execute(select(auto_texts))).all()
    return {r.key: r for r in rows}


async def hours_outcome(
    session: AsyncSession,
    *,
    outcome: str,
    rules: list[dict[str, Any]] | None,
    error: str | None,
    staff_id: UUID,
    command_id: UUID,
    at: datetime,
) -> None:
    await _record_answer(
        session,
        hours_calendar,
        {"id": 1},
        None if rules is None else {"rules": rules},
        outcome=outcome,
        error=error,
        staff_id=staff_id,
        command_id=command_id,
        at=at,
    )


async def calendar_row(session: AsyncSession) -> Any:
    return (await session.execute(select(hours_calendar))).first()


async def closing_categories_outcome(
    session: AsyncSession,
    *,
    outcome: str,
    outcomes: list[str] | None,
    topics: list[str] | None,
    error: str | None,
    staff_id: UUID,
    command_id: UUID,
    at: datetime,
) -> None:
    lists = None if outcomes is None or topics is None else {"outcomes": outcomes, "topics": topics}
    await _record_answer(
        session,
        closing_categories,
        {"id": 1},
        lists,
        outcome=outcome,
        error=error,
        staff_id=staff_id,
        command_id=command_id,
        at=at,
    )


async def closing_categories_row(session: AsyncSession) -> Any:
    return (await session.execute(select(closing_categories))).first()


async def current_closing_categories(session: AsyncSession) -> ClosingCategories:
    """What routing accepts now, as far as the console has heard."""
    row = await closing_categories_row(session)
    if row is None or row.outcomes is None or row.topics is None:
        return DEFAULT_CATEGORIES
    return ClosingCategories(outcomes=tuple(row.outcomes), topics=tuple(row.topics))


async def assignment_mode_changed(
    session: AsyncSession, *, mode: str, staff_id: UUID, at: datetime
) -> None:
    stmt = pg_insert(desk_controls).values(
        id=1, assignment_mode=mode, changed_at=at, changed_by=staff_id
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[desk_controls.c.id],
            set_={"assignment_mode": mode, "changed_at": at, "changed_by": staff_id},
            where=desk_controls.c.changed_at <= at,
        )
    )


async def assignment_mode(session: AsyncSession) -> Any:
    """The row, with the name of who switched it; None: never switched (automatic)."""
    return (
        await session.execute(
            select(
                desk_controls.c.assignment_mode,
                desk_controls.c.changed_at,
                staff.c.display_name.label("changed_by_name"),
            ).outerjoin(staff, staff.c.staff_id == desk_controls.c.changed_by)
        )
    ).first()


async def add_handback(
    session: AsyncSession, *, cause_id: UUID, counsellor_id: UUID, reason: str, at: datetime
) -> None:
    """One more case returned for this cause (the caller made the event count once)."""
    stmt = pg_insert(handbacks).values(
        cause_id=cause_id, counsellor_id=counsellor_id, reason=reason, cases=1, at=at
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[handbacks.c.cause_id], set_={"cases": handbacks.c.cases + 1}
        )
    )


async def handbacks_since(session: AsyncSession, *, since: datetime) -> Sequence[Any]:
    return (
        await session.execute(
            select(
                handbacks.c.cause_id,
                handbacks.c.reason,
                handbacks.c.cases,
                handbacks.c.at,
                handbacks.c.counsellor_id,
                staff.c.display_name.label("counsellor_name"),
            )
            .outerjoin(staff, staff.c.staff_id == handbacks.c.counsellor_id)
            .where(handbacks.c.at >= since)
            .order_by(handbacks.c.at.desc())
            .limit(50)
        )
    ).all()


async def staff_with_loads(session: AsyncSession) -> Sequence[Any]:
    """Every enabled staff member with the open cases assigned to them now."""
    load = (
        select(cases.c.assigned_to, func.count().label("load"))
        .where(cases.c.status == "assigned")
        .group_by(cases.c.assigned_to)
        .subquery()
    )
    return (
        await session.execute(
            select(
                staff.c.staff_id,
                staff.c.display_name,
                staff.c.role,
                staff.c.presence,
                staff.c.presence_changed_at,
                staff.c.capacity,
                func.coalesce(load.c.load, 0).label("load"),
            )
            .outerjoin(load, load.c.assigned_to == staff.c.staff_id)
            .where(staff.c.disabled.is_(False))
            .order_by(staff.c.role.desc(), staff.c.display_name)
        )
    ).all()


async def lock_staff(session: AsyncSession, *, staff_id: UUID) -> Any:
    return (
        await session.execute(select(staff).where(staff.c.staff_id == staff_id).with_for_update())
    ).first()


async def set_capacity(session: AsyncSession, *, staff_id: UUID, capacity: int) -> None:
    await session.execute(
        update(staff).where(staff.c.staff_id == staff_id).values(capacity=capacity)
    )


async def lock_present_staff_without_session(
    session: AsyncSession, *, now: datetime, seen_since: datetime
) -> Sequence[Any]:
    """Staff not offline with no live session (expired, or idle since before
    `seen_since`: the rule of sodan_console.auth.session_is_live). Rows another
    replica is handling are skipped."""
    live = exists().where(
        and_(
            sessions.c.staff_id == staff.c.staff_id,
            sessions.c.expires_at > now,
            sessions.c.last_seen_at > seen_since,
        )
    )
    return (
        await session.execute(
            select(staff)
            .where(staff.c.presence != "offline", staff.c.disabled.is_(False), ~live)
            .order_by(staff.c.staff_id)
            .with_for_update(skip_locked=True)
        )
    ).all()
