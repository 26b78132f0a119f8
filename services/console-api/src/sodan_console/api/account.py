"""アカウント設定: a staff member's own password, TOTP re-enrolment and recent logins.

Changing the password and re-enrolling TOTP ask for the current password; a wrong
one counts towards the login lockout like a failed login (an unattended open
console must not become a way to guess it).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Query, status
from sodan_shared.db import transaction
from sodan_shared.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncSession

from sodan_console.api.deps import Csrf, CurrentStaff, PasswordChangingStaff, Staff, StateDep
from sodan_console.api.me import lockout_rules, login_locked_message, secret_box
from sodan_console.api.schemas import (
    AccountOut,
    LoginOut,
    LoginRecordOut,
    PasswordChangeIn,
    PasswordCheckIn,
    TotpCodeIn,
    TotpSetupOut,
)
from sodan_console.api.twofactor import BAD_CODE, NOT_STARTED, setup_out
from sodan_console.auth import hash_password, verify_password
from sodan_console.db import auth_queries, queries
from sodan_console.settings import ConsoleSettings
from sodan_console.staff_rules import PASSWORD_UNCHANGED, password_problem
from sodan_console.twofactor import (
    SealedSecret,
    after_failure,
    is_locked,
    matching_step,
    new_secret,
)

log = get_logger(__name__)
router = APIRouter(prefix="/api", tags=["staff"])

WRONG_PASSWORD = "現在のパスワードが正しくありません"  # noqa: S105 (a message)
NOT_ENROLLED = "二段階認証はまだ登録されていません。「登録する」から登録してください"
LOGINS_SHOWN = 20


async def _check_password(
    session: AsyncSession, settings: ConsoleSettings, staff: Staff, password: str, now: datetime
) -> tuple[Any, str | None]:
    """The staff row, and why the password is refused ('locked', 'wrong') or None.
    The failure count is saved by the caller's transaction, so refuse after it."""
    attempts = await auth_queries.attempts_for(session, login=staff.login)
    row = await queries.staff_by_id(session, staff_id=staff.staff_id)
    ok = verify_password(row.password_hash if row is not None else None, password)
    if is_locked(attempts, now=now):
        return row, "locked"
    if ok:
        return row, None
    attempts = after_failure(attempts, now=now, rules=lockout_rules(settings))
    await auth_queries.save_attempts(session, login=staff.login, attempts=attempts)
    return row, "locked" if is_locked(attempts, now=now) else "wrong"


def _refuse(reason: str, settings: ConsoleSettings) -> HTTPException:
    if reason == "locked":
        minutes = settings.console_login_lockout_minutes
        return HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            login_locked_message(minutes),
            headers={"Retry-After": str(minutes * 60)},
        )
    return HTTPException(status.HTTP_400_BAD_REQUEST, WRONG_PASSWORD)


@router.get("/me/account")
async def account(staff: CurrentStaff, state: StateDep) -> AccountOut:
    async with transaction(state.db.sessions) as session:
        row = await queries.staff_by_id(session, staff_id=staff.staff_id)
    return AccountOut(
        staff_id=row.staff_id,
        login=row.login,
        display_name=row.display_name,
        role=row.role,
        totp_enrolled=row.totp_confirmed_at is not None,
        totp_required=row.role in state.settings.totp_required_roles,
        password_change_required=row.password_change_required,
    )


@router.post("/me/password", dependencies=[Csrf])
async def change_password(
    body: PasswordChangeIn, staff: PasswordChangingStaff, state: StateDep
) -> LoginOut:
    """Also the forced change after an admin created the account or reset its
    password. The staff member's other sessions end; this one stays."""
    problem = password_problem(body.new_password, login=staff.login)
    if problem is None and body.new_password == body.current_password:
        problem = PASSWORD_UNCHANGED
    if problem is not None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, problem)
    new_hash = hash_password(body.new_password)
    now = datetime.now(UTC)
    async with transaction(state.db.sessions) as session:
        row, refused = await _check_password(
            session, state.settings, staff, body.current_password, now
        )
        if refused is None:
            await auth_queries.set_password(
                session, staff_id=staff.staff_id, password_hash=new_hash, change_required=False
            )
            await auth_queries.end_other_sessions(
                session, staff_id=staff.staff_id, keep=staff.token_hash
            )
    if refused is not None:
        log.info("console.password_change_refused", staff_id=str(staff.staff_id), why=refused)
        raise _refuse(refused, state.settings)
    log.info("console.password_changed", staff_id=str(staff.staff_id))
    return LoginOut(
        staff_id=row.staff_id,
        login=row.login,
        display_name=row.display_name,
        role=row.role,
        presence=row.presence,
        capacity=row.capacity,
        totp_enrolled=row.totp_confirmed_at is not None,
        password_change_required=False,
    )


@router.post("/me/totp/renew", dependencies=[Csrf])
async def totp_renew(body: PasswordCheckIn, staff: CurrentStaff, state: StateDep) -> TotpSetupOut:
    """Re-enrol (a new phone): a new secret waits until a code confirms it; the
    current one keeps working until then."""
    secret = new_secret()
    sealed = secret_box(state.settings).seal(secret, staff_id=staff.staff_id)
    now = datetime.now(UTC)
    async with transaction(state.db.sessions) as session:
        row, refused = await _check_password(session, state.settings, staff, body.password, now)
        enrolled = row is not None and row.totp_confirmed_at is not None
        if refused is None and enrolled:
            await auth_queries.set_pending_totp(
                session, staff_id=staff.staff_id, sealed=sealed.sealed, key_id=sealed.key_id
            )
    if refused is not None:
        raise _refuse(refused, state.settings)
    if not enrolled:
        raise HTTPException(status.HTTP_409_CONFLICT, NOT_ENROLLED)
    log.info("console.totp_renew_started", staff_id=str(staff.staff_id))
    return setup_out(secret, login=staff.login, issuer=state.settings.console_totp_issuer)


@router.post("/me/totp/renew/confirm", dependencies=[Csrf])
async def totp_renew_confirm(body: TotpCodeIn, staff: CurrentStaff, state: StateDep) -> AccountOut:
    now = datetime.now(UTC)
    async with transaction(state.db.sessions) as session:
        row = await queries.staff_by_id(session, staff_id=staff.staff_id)
        if row is None or row.totp_pending_secret is None:
            raise HTTPException(status.HTTP_409_CONFLICT, NOT_STARTED)
        secret = secret_box(state.settings).open(
            SealedSecret(row.totp_pending_secret, row.totp_pending_key_id), staff_id=row.staff_id
        )
        step = matching_step(secret, body.code, now=now, last_step=None)
        if step is None:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, BAD_CODE)
        await auth_queries.adopt_pending_totp(session, staff_id=staff.staff_id, step=step, now=now)
    log.info("console.totp_renewed", staff_id=str(staff.staff_id))
    return AccountOut(
        staff_id=row.staff_id,
        login=row.login,
        display_name=row.display_name,
        role=row.role,
        totp_enrolled=True,
        totp_required=row.role in state.settings.totp_required_roles,
        password_change_required=row.password_change_required,
    )


@router.get("/me/logins")
async def own_logins(
    staff: CurrentStaff,
    state: StateDep,
    limit: int = Query(default=LOGINS_SHOWN, ge=1, le=100),
) -> list[LoginRecordOut]:
    """One's own logins, failed logins and logouts from the access log (nobody else's)."""
    async with transaction(state.db.sessions) as session:
        rows = await auth_queries.own_logins(session, staff_id=staff.staff_id, limit=limit)
    return [
        LoginRecordOut(
            at=r.at,
            action=r.action,
            reason=r.reason,
            client_addr=r.client_addr,
            user_agent=r.user_agent,
        )
        for r in rows
    ]
