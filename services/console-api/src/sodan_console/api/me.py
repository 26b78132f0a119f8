"""Login, logout, the current staff member and their presence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from sodan_shared.crypto import MasterKeys
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
from sodan_console.api.schemas import LoginIn, LoginOut, PresenceIn, StaffPublic
from sodan_console.auth import (
    hash_password,
    needs_rehash,
    new_session_token,
    token_digest,
    verify_password,
)
from sodan_console.db import auth_queries, queries
from sodan_console.db.tables import outbox
from sodan_console.settings import ConsoleSettings
from sodan_console.state import ConsoleState
from sodan_console.twofactor import (
    LockoutRules,
    SealedSecret,
    SecretBox,
    after_failure,
    is_locked,
    matching_step,
)

log = get_logger(__name__)
router = APIRouter(prefix="/api", tags=["staff"])

LOGIN_FAILED = "ログインID・パスワード・確認コードのいずれかが正しくありません"
TOTP_NEEDED = "確認コード（認証アプリの6桁の数字）を入力してください"


def login_locked_message(minutes: int) -> str:
    return (
        "ログインに続けて失敗したため、このログインIDは一時的にロックされています。"
        f"{minutes}分ほど待ってからもう一度お試しください（急ぐときは管理者に解除を依頼してください）"
    )


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


def lockout_rules(settings: ConsoleSettings) -> LockoutRules:
    return LockoutRules(
        max_failures=settings.console_login_max_failures,
        window=timedelta(minutes=settings.console_login_failure_window_minutes),
        lockout=timedelta(minutes=settings.console_login_lockout_minutes),
    )


def secret_box(settings: ConsoleSettings) -> SecretBox:
    return SecretBox(MasterKeys(settings.master_keys.get_secret_value(), settings.master_key_id))


def set_session_cookie(response: Response, token: str, settings: ConsoleSettings) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.console_session_max_hours * 3600,
        path="/",
        httponly=True,
        samesite="strict",
        secure=settings.console_secure_cookies,
    )


async def _second_factor_ok(
    session: Any, state: ConsoleState, row: Any, code: str, now: datetime
) -> bool:
    secret = secret_box(state.settings).open(
        SealedSecret(row.totp_secret, row.totp_key_id), staff_id=row.staff_id
    )
    step = matching_step(secret, code, now=now, last_step=row.totp_last_step)
    if step is None:
        return False
    # Conditional update: two logins racing with the same code cannot both win.
    return await auth_queries.use_totp_step(session, staff_id=row.staff_id, step=step)


@router.post("/login", dependencies=[Csrf], response_model=LoginOut)
async def login(body: LoginIn, request: Request, response: Response, state: StateDep) -> Any:
    """Password, then the TOTP code when the account has one.

    Answers: 200 (logged in, or ``enrolment_required``), 401 with ``totp_required``
    when the password was right but no code came, 401 generic failure, 429 locked.
    Lockout counts per login name, known or not, so it reveals nothing either.
    """
    settings = state.settings
    rules = lockout_rules(settings)
    now = datetime.now(UTC)
    outcome = "failed"
    token = new_session_token()
    async with transaction(state.db.sessions) as session:
        await auth_queries.purge_old_attempts(session, now=now, window=rules.window)
        attempts = await auth_queries.attempts_for(session, login=body.login)
        row = await queries.staff_by_login(session, login=body.login)
        usable = row is not None and not row.disabled
        # Always verify (against a dummy hash for unknown logins): same cost either way.
        password_ok = verify_password(row.password_hash if usable and row else None, body.password)
        if is_locked(attempts, now=now):
            outcome = "locked"
        elif password_ok and row is not None:
            if row.totp_confirmed_at is not None:
                if not body.totp:
                    outcome = "totp_needed"
                elif await _second_factor_ok(session, state, row, body.totp, now):
                    outcome = "ok"
            elif row.role in settings.totp_required_roles:
                outcome = "enrol"
            else:
                outcome = "ok"
        if outcome == "failed":
            attempts = after_failure(attempts, now=now, rules=rules)
            await auth_queries.save_attempts(session, login=body.login, attempts=attempts)
            if is_locked(attempts, now=now):
                outcome = "locked"
        elif outcome in ("ok", "enrol") and row is not None:
            await auth_queries.clear_attempts(session, login=body.login)
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
                expires_at=now + timedelta(hours=settings.console_session_max_hours),
                enrol_only=outcome == "enrol",
            )
            await auth_queries.note_login(session, staff_id=row.staff_id, now=now)
    if outcome != "ok" and outcome != "enrol":
        await record(
            request,
            _login_entry(
                request,
                action="login.failed",
                row=row,
                login=body.login,
                reason=_failure(outcome, row=row, password_ok=password_ok),
            ),
        )
    if outcome == "locked":
        log.info("console.login_locked")
        minutes = settings.console_login_lockout_minutes
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            login_locked_message(minutes),
            headers={"Retry-After": str(minutes * 60)},
        )
    if outcome == "totp_needed":
        return JSONResponse(
            status_code=status.HTTP_401_UNAUTHORIZED,
            content={"detail": TOTP_NEEDED, "totp_required": True},
        )
    if outcome == "failed" or row is None:
        log.info("console.login_failed")
        # the same answer whatever the reason: it must not reveal which logins exist
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, LOGIN_FAILED)
    set_session_cookie(response, token, settings)
    log.info("console.login", staff_id=str(row.staff_id), enrolment_required=outcome == "enrol")
    await record(
        request,
        _login_entry(
            request,
            action="login.succeeded",
            row=row,
            login=body.login,
            reason="enrolment_required" if outcome == "enrol" else None,
        ),
    )
    return LoginOut(
        **_public(row).model_dump(),
        enrolment_required=outcome == "enrol",
        totp_enrolled=row.totp_confirmed_at is not None,
        password_change_required=row.password_change_required,
    )


def _failure(outcome: str, *, row: Any, password_ok: bool) -> str:
    """Why a login failed, for the access log only (the answer stays generic)."""
    if outcome == "locked":
        return "locked"
    if outcome == "totp_needed":
        return "totp_required"
    if password_ok and row is not None and not row.disabled:
        return "wrong_totp"
    return failure_reason(known=row is not None, disabled=bool(row and row.disabled))


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
        staff = await staff_for_token(state, token, touch=False, allow_enrol=True)
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
