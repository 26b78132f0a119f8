"""SQL for the 相談者カルテ and ケースメモ: the assignment history, record versions,
notes, and the client's past cases for the record. Keyword-only, explicit session."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import exists, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from sodan_console.db.tables import (
    case_assignments,
    case_log,
    case_notes,
    cases,
    client_record_versions,
    clients,
    staff,
)

HELD = ("assigned", "on_hold")


async def note_assignment(
    session: AsyncSession, *, case_id: UUID, staff_id: UUID, at: datetime
) -> None:
    """Remember that ``staff_id`` was assigned the case (in any event order: the
    earliest time wins, a redelivery changes nothing)."""
    stmt = pg_insert(case_assignments).values(case_id=case_id, staff_id=staff_id, first_at=at)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[case_assignments.c.case_id, case_assignments.c.staff_id],
            set_={"first_at": func.least(case_assignments.c.first_at, at)},
        )
    )


async def was_assigned(session: AsyncSession, *, case_id: UUID, staff_id: UUID) -> bool:
    found = select(case_assignments.c.case_id).where(
        case_assignments.c.case_id == case_id, case_assignments.c.staff_id == staff_id
    )
    return bool((await session.execute(select(exists(found)))).scalar())


async def client_exists(session: AsyncSession, *, client_id: UUID) -> bool:
    known = select(clients.c.client_id).where(clients.c.client_id == client_id)
    cased = select(cases.c.case_id).where(cases.c.client_id == client_id)
    return bool((await session.execute(select(exists(known) | exists(cased)))).scalar())


async def client_no(session: AsyncSession, *, client_id: UUID) -> int | None:
    found: int | None = (
        await session.execute(select(clients.c.client_no).where(clients.c.client_id == client_id))
    ).scalar()
    if found is not None:
        return found
    latest: int | None = (
        await session.execute(
            select(func.max(cases.c.client_no)).where(cases.c.client_id == client_id)
        )
    ).scalar()
    return latest


async def viewer_facts(
    session: AsyncSession, *, client_id: UUID, staff_id: UUID
) -> tuple[bool, bool]:
    """(holds one of the client's open cases, was ever assigned one of them)."""
    holds = select(cases.c.case_id).where(
        cases.c.client_id == client_id,
        cases.c.assigned_to == staff_id,
        cases.c.status.in_(HELD),
    )
    ever = (
        select(cases.c.case_id)
        .select_from(
            cases.outerjoin(
                case_assignments,
                (case_assignments.c.case_id == cases.c.case_id)
                & (case_assignments.c.staff_id == staff_id),
            )
        )
        .where(
            cases.c.client_id == client_id,
            or_(case_assignments.c.staff_id.is_not(None), cases.c.assigned_to == staff_id),
        )
    )
    row = (await session.execute(select(exists(holds), exists(ever)))).one()
    return bool(row[0]), bool(row[1])


# --- the record ---------------------------------------------------------------


async def latest_record(session: AsyncSession, *, client_id: UUID) -> Any:
    query = (
        select(client_record_versions, staff.c.display_name.label("updated_by_name"))
        .select_from(
            client_record_versions.outerjoin(
                staff, staff.c.staff_id == client_record_versions.c.updated_by
            )
        )
        .where(client_record_versions.c.client_id == client_id)
        .order_by(client_record_versions.c.version.desc())
        .limit(1)
    )
    return (await session.execute(query)).first()


async def add_record_version(
    session: AsyncSession,
    *,
    client_id: UUID,
    version: int,
    characteristics: str | None,
    cautions: str | None,
    flags: str | None,
    at: datetime,
    staff_id: UUID,
) -> bool:
    """Save ``version``; False when another save took that version first."""
    inserted = await session.execute(
        pg_insert(client_record_versions)
        .values(
            client_id=client_id,
            version=version,
            characteristics=characteristics,
            cautions=cautions,
            flags=flags,
            updated_at=at,
            updated_by=staff_id,
        )
        .on_conflict_do_nothing(
            index_elements=[client_record_versions.c.client_id, client_record_versions.c.version]
        )
        .returning(client_record_versions.c.version)
    )
    return inserted.first() is not None


# --- past cases and notes -------------------------------------------------------


async def client_cases(session: AsyncSession, *, client_id: UUID) -> Sequence[Any]:
    """Every case of the client, newest first, with who was assigned to it."""
    query = (
        select(
            cases.c.case_id,
            cases.c.status,
            cases.c.urgency,
            cases.c.opened_at,
            cases.c.closed_at,
            cases.c.assigned_to,
            cases.c.outcome,
            cases.c.topics,
            cases.c.survey_answer,
        )
        .where(cases.c.client_id == client_id)
        .order_by(cases.c.opened_at.desc(), cases.c.case_id)
    )
    return (await session.execute(query)).all()


async def counsellors_of(
    session: AsyncSession, *, case_ids: Sequence[UUID]
) -> dict[UUID, list[str]]:
    """Names of everyone assigned to each case, in the order they were assigned."""
    if not case_ids:
        return {}
    query = (
        select(case_assignments.c.case_id, staff.c.display_name)
        .join(staff, staff.c.staff_id == case_assignments.c.staff_id)
        .where(case_assignments.c.case_id.in_(case_ids))
        .order_by(case_assignments.c.first_at, staff.c.display_name)
    )
    names: dict[UUID, list[str]] = {}
    for row in await session.execute(query):
        names.setdefault(row.case_id, []).append(row.display_name)
    return names


async def handover_notes(session: AsyncSession, *, case_ids: Sequence[UUID]) -> Sequence[Any]:
    """The 転送 entries (with their sealed 引き継ぎメモ) of the cases, oldest first."""
    if not case_ids:
        return []
    actor = staff.alias("actor")
    other = staff.alias("other")
    query = (
        select(
            case_log.c.entry_id,
            case_log.c.case_id,
            case_log.c.at,
            case_log.c.note,
            actor.c.display_name.label("staff_name"),
            other.c.display_name.label("other_staff_name"),
        )
        .select_from(
            case_log.outerjoin(actor, actor.c.staff_id == case_log.c.staff_id).outerjoin(
                other, other.c.staff_id == case_log.c.other_staff_id
            )
        )
        .where(case_log.c.case_id.in_(case_ids), case_log.c.kind == "handed_over")
        .order_by(case_log.c.at, case_log.c.entry_id)
    )
    return (await session.execute(query)).all()


async def notes(
    session: AsyncSession, *, case_ids: Sequence[UUID] | None = None, client_id: UUID | None = None
) -> Sequence[Any]:
    """Every version of the notes of some cases (or of all a client's cases), oldest first."""
    query = select(case_notes, staff.c.display_name.label("staff_name")).select_from(
        case_notes.outerjoin(staff, staff.c.staff_id == case_notes.c.staff_id)
    )
    if case_ids is not None:
        query = query.where(case_notes.c.case_id.in_(case_ids))
    if client_id is not None:
        query = query.where(case_notes.c.client_id == client_id)
    query = query.order_by(case_notes.c.written_at, case_notes.c.note_id, case_notes.c.version)
    return (await session.execute(query)).all()


async def note_versions(session: AsyncSession, *, note_id: UUID) -> Sequence[Any]:
    query = select(case_notes).where(case_notes.c.note_id == note_id).order_by(case_notes.c.version)
    return (await session.execute(query)).all()


async def add_note_version(
    session: AsyncSession,
    *,
    note_id: UUID,
    version: int,
    case_id: UUID,
    client_id: UUID,
    staff_id: UUID,
    at: datetime,
    body: str,
) -> bool:
    """Append a note (version 1) or a correction; False when that version was taken."""
    inserted = await session.execute(
        pg_insert(case_notes)
        .values(
            note_id=note_id,
            version=version,
            case_id=case_id,
            client_id=client_id,
            staff_id=staff_id,
            written_at=at,
            body=body,
        )
        .on_conflict_do_nothing(index_elements=[case_notes.c.note_id, case_notes.c.version])
        .returning(case_notes.c.version)
    )
    return inserted.first() is not None
