"""Projections of the case lifecycle beyond open/assign/close: 保留, 転送, reopening,
close requests of 緊急 cases, refusals and the after-survey; the case's staff-only
timeline (case_log); and the reads the closing form and handover need."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sodan_shared.events.triage import URGENCY_RANK
from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from sodan_console.db import karte
from sodan_console.db.tables import case_log, cases, staff

HELD = ("assigned", "on_hold")


async def log_entry(
    session: AsyncSession,
    *,
    entry_id: UUID,
    case_id: UUID,
    kind: str,
    at: datetime,
    staff_id: UUID | None = None,
    other_staff_id: UUID | None = None,
    note: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    await session.execute(
        pg_insert(case_log)
        .values(
            entry_id=entry_id,
            case_id=case_id,
            kind=kind,
            at=at,
            staff_id=staff_id,
            other_staff_id=other_staff_id,
            note=note,
            data=data or {},
        )
        .on_conflict_do_nothing(index_elements=[case_log.c.entry_id])
    )


async def case_reopened(
    session: AsyncSession, *, case_id: UUID, urgency: str, event_at: datetime
) -> None:
    """Open again (a close older than this event is undone); assigned if the assignment
    that followed the reopening got here first."""
    await session.execute(
        update(cases)
        .where(
            cases.c.case_id == case_id,
            cases.c.status == "closed",
            or_(cases.c.closed_at.is_(None), cases.c.closed_at <= event_at),
        )
        .values(
            status=case(
                (
                    and_(
                        cases.c.assignment_at.is_not(None),
                        cases.c.assignment_at > func.coalesce(cases.c.closed_at, event_at),
                    ),
                    "assigned",
                ),
                else_="queued",
            ),
            closed_at=None,
            reopened_at=event_at,
            urgency=urgency,
            urgency_rank=URGENCY_RANK[urgency],
            close_request=None,
            attention="reopened",
            emergency_mode=False,
            updated_at=func.now(),
        )
    )


async def case_hold_changed(
    session: AsyncSession, *, case_id: UUID, on_hold: bool, by_client: bool
) -> None:
    await session.execute(
        update(cases)
        .where(cases.c.case_id == case_id, cases.c.status.in_(HELD))
        .values(
            status="on_hold" if on_hold else "assigned",
            attention="resumed" if by_client else None,
            updated_at=func.now(),
        )
    )


async def case_handed_over(
    session: AsyncSession, *, case_id: UUID, to: UUID | None, event_at: datetime
) -> None:
    newer = or_(cases.c.assignment_at.is_(None), cases.c.assignment_at <= event_at)
    await session.execute(
        update(cases)
        .where(cases.c.case_id == case_id, cases.c.status.in_(HELD), newer)
        .values(
            status="assigned" if to else "queued",
            assigned_to=to,
            assigned_at=event_at if to else None,
            assignment_at=event_at,
            attention="handed_over" if to else None,
            unanswered_assignment_at=None,
            updated_at=func.now(),
        )
    )
    if to is not None:
        await karte.note_assignment(session, case_id=case_id, staff_id=to, at=event_at)


async def set_close_request(
    session: AsyncSession, *, case_id: UUID, request: dict[str, Any] | None
) -> None:
    values: dict[str, Any] = {"close_request": request, "updated_at": func.now()}
    if request is None:
        values["attention"] = "close_declined"
    await session.execute(
        update(cases).where(cases.c.case_id == case_id, cases.c.status != "closed").values(values)
    )


async def set_attention(session: AsyncSession, *, case_id: UUID, attention: str | None) -> None:
    await session.execute(
        update(cases)
        .where(cases.c.case_id == case_id)
        .values(attention=attention, updated_at=func.now())
    )


async def clear_attention(session: AsyncSession, *, case_id: UUID) -> bool:
    row = (
        await session.execute(
            update(cases)
            .where(cases.c.case_id == case_id, cases.c.attention.is_not(None))
            .values(attention=None)
            .returning(cases.c.case_id)
        )
    ).first()
    return row is not None


async def survey_answered(session: AsyncSession, *, case_id: UUID, answer: str) -> None:
    await session.execute(
        update(cases).where(cases.c.case_id == case_id).values(survey_answer=answer)
    )


async def entries(session: AsyncSession, *, case_id: UUID) -> Sequence[Any]:
    actor = staff.alias("actor")
    other = staff.alias("other")
    query = (
        select(
            case_log,
            actor.c.display_name.label("staff_name"),
            other.c.display_name.label("other_staff_name"),
        )
        .select_from(
            case_log.outerjoin(actor, actor.c.staff_id == case_log.c.staff_id).outerjoin(
                other, other.c.staff_id == case_log.c.other_staff_id
            )
        )
        .where(case_log.c.case_id == case_id)
        .order_by(case_log.c.at, case_log.c.entry_id)
    )
    return (await session.execute(query)).all()


async def staff_names(session: AsyncSession, ids: Sequence[UUID]) -> dict[UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(
        select(staff.c.staff_id, staff.c.display_name).where(staff.c.staff_id.in_(ids))
    )
    return {r.staff_id: r.display_name for r in rows}


async def handover_targets(session: AsyncSession, *, exclude: UUID) -> Sequence[Any]:
    """Colleagues who could receive a case now, with their load as the console sees it."""
    load = (
        select(
            cases.c.assigned_to,
            func.count().label("load"),
            func.count().filter(cases.c.urgency == "critical").label("critical_load"),
        )
        .where(cases.c.status.in_(HELD))
        .group_by(cases.c.assigned_to)
        .subquery()
    )
    query = (
        select(
            staff.c.staff_id,
            staff.c.display_name,
            staff.c.role,
            staff.c.presence,
            staff.c.capacity,
            func.coalesce(load.c.load, 0).label("load"),
            func.coalesce(load.c.critical_load, 0).label("critical_load"),
        )
        .select_from(staff.outerjoin(load, load.c.assigned_to == staff.c.staff_id))
        .where(
            staff.c.staff_id != exclude,
            staff.c.disabled.is_(False),
            staff.c.role.in_(("counsellor", "supervisor")),
            staff.c.presence == "available",
        )
        .order_by(staff.c.display_name)
    )
    return (await session.execute(query)).all()
