"""Reads and writes of the desk's case labels (ラベル): keyword-only, explicit session."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from sodan_console.db.tables import case_labels, labels


class DuplicateLabelError(ValueError):
    pass


async def all_labels(session: AsyncSession) -> Sequence[Any]:
    """Active labels first, then retired; by name within each."""
    query = select(labels).order_by(labels.c.retired, labels.c.name)
    return (await session.execute(query)).all()


async def label_by_id(session: AsyncSession, *, label_id: int) -> Any:
    return (await session.execute(select(labels).where(labels.c.label_id == label_id))).first()


async def known_label_ids(session: AsyncSession, *, label_ids: Sequence[int]) -> set[int]:
    rows = await session.execute(select(labels.c.label_id).where(labels.c.label_id.in_(label_ids)))
    return {r.label_id for r in rows}


async def create_label(
    session: AsyncSession, *, name: str, colour: str, by: UUID, at: datetime
) -> Any:
    """The new label; DuplicateLabelError when the name is taken (the transaction is
    still usable: the insert ran in a savepoint)."""
    try:
        async with session.begin_nested():
            return (
                await session.execute(
                    labels.insert()
                    .values(name=name, colour=colour, created_at=at, updated_at=at, updated_by=by)
                    .returning(labels)
                )
            ).one()
    except IntegrityError:
        raise DuplicateLabelError(name) from None


async def update_label(
    session: AsyncSession,
    *,
    label_id: int,
    name: str,
    colour: str,
    retired: bool,
    by: UUID,
    at: datetime,
) -> Any:
    """The updated label, or None when there is no such label."""
    try:
        async with session.begin_nested():
            return (
                await session.execute(
                    update(labels)
                    .where(labels.c.label_id == label_id)
                    .values(name=name, colour=colour, retired=retired, updated_at=at, updated_by=by)
                    .returning(labels)
                )
            ).first()
    except IntegrityError:
        raise DuplicateLabelError(name) from None


async def labels_of_cases(
    session: AsyncSession, *, case_ids: Sequence[UUID]
) -> dict[UUID, list[Any]]:
    """Each case's labels (by name), for a page of the list in one query."""
    if not case_ids:
        return {}
    query = (
        select(
            case_labels.c.case_id,
            labels.c.label_id,
            labels.c.name,
            labels.c.colour,
            labels.c.retired,
        )
        .join(labels, labels.c.label_id == case_labels.c.label_id)
        .where(case_labels.c.case_id.in_(case_ids))
        .order_by(labels.c.name)
    )
    found: dict[UUID, list[Any]] = defaultdict(list)
    for row in await session.execute(query):
        found[row.case_id].append(row)
    return dict(found)


async def attach(
    session: AsyncSession, *, case_id: UUID, label_id: int, by: UUID, at: datetime
) -> bool:
    """True when newly attached (attaching twice changes nothing)."""
    result = await session.execute(
        pg_insert(case_labels)
        .values(case_id=case_id, label_id=label_id, added_by=by, added_at=at)
        .on_conflict_do_nothing(index_elements=[case_labels.c.case_id, case_labels.c.label_id])
        .returning(case_labels.c.case_id)
    )
    return result.first() is not None


async def detach(session: AsyncSession, *, case_id: UUID, label_id: int) -> bool:
    result = await session.execute(
        delete(case_labels)
        .where(case_labels.c.case_id == case_id, case_labels.c.label_id == label_id)
        .returning(case_labels.c.case_id)
    )
    return result.first() is not None
