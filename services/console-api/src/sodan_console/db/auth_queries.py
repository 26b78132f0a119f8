"""Queries for the second factor, the login lockout and the admins' staff actions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from sodan_console.db.tables import access_log, login_attempts, sessions, staff
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
        .values(
            totp_secret=None,
            totp_key_id=None,
            totp_confirmed_at=None,
            totp_last_step=None,
            totp_pending_secret=None,
            totp_pending_key_id=None,
        )
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


async def staff_overview(
    session: AsyncSession, *, now: datetime, idle: timedelta | None = None
) -> Sequence[Any]:
    """Every staff member with lockout, last login and how many sessions are alive
    (not expired and, given ``idle``, used within it)."""
    alive = (sessions.c.staff_id == staff.c.staff_id) & (sessions.c.expires_at > now)
    if idle is not None:
        alive = alive & (sessions.c.last_seen_at > now - idle)
    live_sessions = select(func.count()).select_from(sessions).where(alive).scalar_subquery()
    query = (
        select(
            staff.c.staff_id,
            staff.c.login,
            staff.c.display_name,
            staff.c.role,
            staff.c.disabled,
            staff.c.totp_confirmed_at,
            staff.c.password_change_required,
            staff.c.last_login_at,
            staff.c.created_at,
            login_attempts.c.locked_until,
            live_sessions.label("live_sessions"),
        )
        .outerjoin(login_attempts, login_attempts.c.login == staff.c.login)
        .order_by(staff.c.role, staff.c.login)
    )
    return (await session.execute(query)).all()


# --- staff accounts (スタッフ管理, アカウント設定) ------------------------------------------


async def note_login(session: AsyncSession, *, staff_id: UUID, now: datetime) -> None:
    await session.execute(
        update(staff).where(staff.c.staff_id == staff_id).values(last_login_at=now)
    )


async def enabled_admins(session: AsyncSession) -> int:
    """How many enabled admins there are, with their rows locked until the transaction
    ends: two admins disabling each other at once cannot both succeed."""
    rows = await session.execute(
        select(staff.c.staff_id)
        .where(staff.c.role == "admin", staff.c.disabled.is_(False))
        .with_for_update()
    )
    return len(rows.all())


async def create_staff(
    session: AsyncSession,
    *,
    staff_id: UUID,
    login: str,
    display_name: str,
    role: str,
    password_hash: str,
) -> bool:
    """A new account that must change its password at first login; False when the
    login id is taken."""
    result = await session.execute(
        pg_insert(staff)
        .values(
            staff_id=staff_id,
            login=login,
            display_name=display_name,
            role=role,
            password_hash=password_hash,
            password_change_required=True,
        )
        .on_conflict_do_nothing(index_elements=[staff.c.login])
        .returning(staff.c.staff_id)
    )
    return result.first() is not None


async def update_staff(
    session: AsyncSession, *, staff_id: UUID, display_name: str | None, role: str | None
) -> None:
    values: dict[str, str] = {}
    if display_name is not None:
        values["display_name"] = display_name
    if role is not None:
        values["role"] = role
    if values:
        await session.execute(update(staff).where(staff.c.staff_id == staff_id).values(**values))


async def set_password(
    session: AsyncSession, *, staff_id: UUID, password_hash: str, change_required: bool
) -> None:
    await session.execute(
        update(staff)
        .where(staff.c.staff_id == staff_id)
        .values(password_hash=password_hash, password_change_required=change_required)
    )


async def end_other_sessions(session: AsyncSession, *, staff_id: UUID, keep: bytes) -> int:
    result = await session.execute(
        delete(sessions)
        .where(sessions.c.staff_id == staff_id, sessions.c.token_hash != keep)
        .returning(sessions.c.token_hash)
    )
    return len(result.all())


async def set_pending_totp(
    session: AsyncSession, *, staff_id: UUID, sealed: bytes, key_id: str
) -> None:
    await session.execute(
        update(staff)
        .where(staff.c.staff_id == staff_id)
        .values(totp_pending_secret=sealed, totp_pending_key_id=key_id)
    )


async def adopt_pending_totp(
    session: AsyncSession, *, staff_id: UUID, step: int, now: datetime
) -> None:
    """The confirmed new secret replaces the old one."""
    await session.execute(
        update(staff)
        .where(staff.c.staff_id == staff_id, staff.c.totp_pending_secret.is_not(None))
        .values(
            totp_secret=staff.c.totp_pending_secret,
            totp_key_id=staff.c.totp_pending_key_id,
            totp_confirmed_at=now,
            totp_last_step=step,
            totp_pending_secret=None,
            totp_pending_key_id=None,
        )
    )


LOGIN_ACTIONS = ("login.succeeded", "login.failed", "logout")


async def own_logins(session: AsyncSession, *, staff_id: UUID, limit: int) -> Sequence[Any]:
    """A staff member's own logins, failed logins and logouts, newest first."""
    query = (
        select(
            access_log.c.at,
            access_log.c.action,
            access_log.c.reason,
            access_log.c.client_addr,
            access_log.c.user_agent,
        )
        .where(access_log.c.staff_id == staff_id, access_log.c.action.in_(LOGIN_ACTIONS))
        .order_by(access_log.c.id.desc())
        .limit(limit)
    )
    return (await session.execute(query)).all()
