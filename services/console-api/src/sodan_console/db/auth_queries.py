"""Queries for the second factor, the login lockout and the admins' staff actions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from sodan_console.db.tables import login_attempts, sessions, staff
from sodan_console.twofactor import Attempts


async def attempts_for(session: AsyncSession, *, login: str) -> Attempts | None:
    row = (
        await session.execute(
            select(login_attempts).where(login_attempts.c.login == login).with_for_update()
        )
    ).first()
    if row is None:
        return None
    return Attempts(row.failures, row.window_started_at, row.locked_until)


async def save_attempts(session: AsyncSession, *, login: str, attempts: Attempts) -> None:
    values = {
        "failures": attempts.failures,
        "window_started_at": attempts.window_started_at,
        "locked_until": attempts.locked_until,
    }
    stmt = pg_insert(login_attempts).values(login=login, **values)
    await session.execute(stmt.on_conflict_do_update(index_elements=["login"], set_=values))


async def clear_attempts(session: AsyncSession, *, login: str) -> None:
    await session.execute(delete(login_attempts).where(login_attempts.c.login == login))


async def purge_old_attempts(session: AsyncSession, *, now: datetime, window: timedelta) -> None:
    """Forget counts whose window and lock are both over (unknown names pile up otherwise)."""
    await session.execute(
        delete(login_attempts).where(
            login_attempts.c.window_started_at < now - window,
            (login_attempts.c.locked_until.is_(None)) | (login_attempts.c.locked_until < now),
        )
    )


async def set_totp_secret(
    session: AsyncSession, *, staff_id: UUID, sealed: bytes, key_id: str
) -> None:
    """A new, unconfirmed secret (replaces an unconfirmed one)."""
    await session.execute(
        update(staff)
        .where(staff.c.staff_id == staff_id, staff.c.totp_confirmed_at.is_(None))
        .values(totp_secret=sealed, totp_key_id=key_id, totp_last_step=None)
    )


async def confirm_totp(session: AsyncSession, *, staff_id: UUID, step: int, now: datetime) -> None:
    await session.execute(
        update(staff)
        .where(staff.c.staff_id == staff_id)
        .values(totp_confirmed_at=now, totp_last_step=step)
    )


async def use_totp_step(session: AsyncSession, *, staff_id: UUID, step: int) -> bool:
    """Record the step as used; False when another login used it (or a later one) first."""
    result = await session.execute(
        update(staff)
        .where(
            staff.c.staff_id == staff_id,
            staff.c.totp_last_step.is_(None) | (staff.c.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .returning(staff.c.staff_id)
    )
    return result.first() is not None


async def reset_totp(session: AsyncSession, *, staff_id: UUID) -> None:
    await session.execute(
        update(staff)
        .where(staff.c.staff_id == staff_id)
        .values(totp_secret=None, totp_key_id=None, totp_confirmed_at=None, totp_last_step=None)
    )


async def end_enrolment_only(session: AsyncSession, *, token_hash: bytes) -> None:
    await session.execute(
        update(sessions).where(sessions.c.token_hash == token_hash).values(enrol_only=False)
    )


async def end_sessions_of(session: AsyncSession, *, staff_id: UUID) -> int:
    result = await session.execute(
        delete(sessions).where(sessions.c.staff_id == staff_id).returning(sessions.c.token_hash)
    )
    return len(result.all())


async def set_disabled(session: AsyncSession, *, staff_id: UUID, disabled: bool) -> Any:
    return (
        await session.execute(
            update(staff)
            .where(staff.c.staff_id == staff_id)
            .values(disabled=disabled)
            .returning(staff)
        )
    ).first()


async def staff_overview(session: AsyncSession, *, now: datetime) -> Sequence[Any]:
    query = (
        select(
            staff.c.staff_id,
            staff.c.login,
            staff.c.display_name,
            staff.c.role,
            staff.c.disabled,
            staff.c.totp_confirmed_at,
            login_attempts.c.locked_until,
        )
        .outerjoin(login_attempts, login_attempts.c.login == staff.c.login)
        .order_by(staff.c.role, staff.c.login)
    )
    return (await session.execute(query)).all()
