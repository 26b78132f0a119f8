"""Login, logout, the current staff member and their presence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from sodan_shared.db import transaction
from sodan_shared.db.idempotency import add_to_outbox
from sodan_shared.events.console import StaffPresenceChanged, StaffPresenceChangedV1
from sodan_shared.logging import get_logger

from sodan_console.access_log import Entry, client_of, failure_reason, login_digest, record
from sodan_console.api.deps import (
    SESSION_COOKIE,
    Csrf,
    CurrentStaff,
    StateDep,
    staff_for_token,
)
from sodan_console.api.schemas import LoginIn, PresenceIn, StaffPublic
from sodan_console.auth import (
    hash_password,
    needs_rehash,
    new_session_token,
    token_digest,
    verify_password,
)
from sodan_console.db import queries
from sodan_console.db.tables import outbox
from sodan_console.state import ConsoleState

log = get_logger(__name__)
router = APIRouter(prefix="/api", tags=["staff"])

LOGIN_FAILED = "ログインIDまたはパスワードが正しくありません"


def _public(row: Any) -> StaffPublic:
    return StaffPublic(
        staff_id=row.staff_id,
        login=row.login,
        display_name=row.display_name,
        role=row.role,
        presence=row.presence,
        capacity=row.capacity,
    )


def _login_entry(
    request: Request, *, action: str, row: Any, login: str, reason: str | None
) -> Entry:
    address, agent = client_of(request)
    return Entry(
        action=action,
        staff_id=row.staff_id if row is not None else None,
        # a staff member's own login; an attempted unknown one only as a digest
        login=row.login if row is not None else login_digest(login),
        method="POST",
        path="/api/login",
        reason=reason,
        client_addr=address,
        user_agent=agent,
    )


@router.post("/login", dependencies=[Csrf])
async def login(
    body: LoginIn, request: Request, response: Response, state: StateDep
) -> StaffPublic:
    settings = state.settings
    async with transaction(state.db.sessions) as session:
        row = await queries.staff_by_login(session, login=body.login)
        usable = row is not None and not row.disabled
        # Always verify (against a dummy hash for unknown logins): same cost either way.
        ok = verify_password(row.password_hash if usable and row else None, body.password)
    if not ok or row is None:
        reason = failure_reason(known=row is not None, disabled=bool(row and row.disabled))
        log.info("console.login_failed", reason=reason)
        await record(
            request,
            _login_entry(request, action="login.failed", row=row, login=body.login, reason=reason),
        )
        # the same answer whatever the reason: it must not reveal which logins exist
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, LOGIN_FAILED)
    token = new_session_token()
    now = datetime.now(UTC)
    lifetime = timedelta(hours=settings.console_session_max_hours)
    async with transaction(state.db.sessions) as session:
        if needs_rehash(row.password_hash):
            await queries.set_password_hash(
                session, staff_id=row.staff_id, password_hash=hash_password(body.password)
            )
        await queries.purge_expired_sessions(session, now=now)
        await queries.create_session(
            session,
            token_hash=token_digest(token),
            staff_id=row.staff_id,
            now=now,
            expires_at=now + lifetime,
        )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.console_secure_cookies,
    )
    log.info("console.login", staff_id=str(row.staff_id))
    await record(
        request,
        _login_entry(request, action="login.succeeded", row=row, login=body.login, reason=None),
    )
    return _public(row)


async def _change_presence(
    state: ConsoleState, *, staff_id: Any, presence: str, session: Any
) -> Any:
    row = await queries.set_presence(
        session, staff_id=staff_id, presence=presence, now=datetime.now(UTC)
    )
    event = StaffPresenceChanged.new(
        channel=state.settings.line_channel_id,
        payload=StaffPresenceChangedV1(
            staff_id=row.staff_id, role=row.role, presence=row.presence, capacity=row.capacity
        ),
    )
    await add_to_outbox(session, outbox, event)
    return row


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Csrf])
async def logout(request: Request, state: StateDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    try:
        staff = await staff_for_token(state, token, touch=False)
    except HTTPException:
        staff = None
    if staff is not None:
        async with transaction(state.db.sessions) as session:
            await queries.delete_session(session, token_hash=staff.token_hash)
            # Whoever logs out is not available for new cases any more.
            if staff.presence != "offline":
                await _change_presence(
                    state, staff_id=staff.staff_id, presence="offline", session=session
                )
        state.wake_relay()
        log.info("console.logout", staff_id=str(staff.staff_id))
        address, agent = client_of(request)
        await record(
            request,
            Entry(
                action="logout",
                staff_id=staff.staff_id,
                login=staff.login,
                method="POST",
                path="/api/logout",
                client_addr=address,
                user_agent=agent,
            ),
        )
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=state.settings.console_secure_cookies,
    )
    return response


@router.get("/me")
async def me(staff: CurrentStaff) -> StaffPublic:
    return StaffPublic(
        staff_id=staff.staff_id,
        login=staff.login,
        display_name=staff.display_name,
        role=staff.role,
        presence=staff.presence,
        capacity=staff.capacity,
    )


@router.put("/me/presence", dependencies=[Csrf])
async def set_presence(body: PresenceIn, staff: CurrentStaff, state: StateDep) -> StaffPublic:
    async with transaction(state.db.sessions) as session:
        row = await _change_presence(
            state, staff_id=staff.staff_id, presence=body.presence, session=session
        )
    state.wake_relay()
    log.info("console.presence_changed", staff_id=str(staff.staff_id), presence=body.presence)
    return _public(row)
