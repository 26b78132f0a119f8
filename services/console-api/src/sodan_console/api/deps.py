"""Request dependencies: the process state, the logged-in staff member, CSRF."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import Depends, HTTPException, Request, status
from sodan_shared.db import transaction

from sodan_console.access_log import mark_staff
from sodan_console.auth import SessionTimes, session_is_live, should_touch, token_digest
from sodan_console.db import queries
from sodan_console.policy import Role, Viewer
from sodan_console.staff_rules import session_refusal
from sodan_console.state import ConsoleState

SESSION_COOKIE = "sodan_session"
CSRF_HEADER = "X-Requested-With"
CSRF_VALUE = "sodan"


def get_state(request: Request) -> ConsoleState:
    state: ConsoleState = request.app.state.console
    return state


StateDep = Annotated[ConsoleState, Depends(get_state)]


@dataclass(frozen=True)
class Staff:
    staff_id: UUID
    login: str
    display_name: str
    role: Role
    presence: str
    capacity: int
    token_hash: bytes
    enrol_only: bool = False
    password_change_required: bool = False

    @property
    def viewer(self) -> Viewer:
        return Viewer(staff_id=self.staff_id, role=self.role)


async def current_staff(request: Request, state: StateDep) -> Staff:
    staff = await staff_for_token(state, request.cookies.get(SESSION_COOKIE), touch=True)
    mark_staff(request, staff.staff_id)
    return staff


async def enrolling_staff(request: Request, state: StateDep) -> Staff:
    """Also accepts the enrolment-only session of someone who must set up TOTP first."""
    staff = await staff_for_token(
        state, request.cookies.get(SESSION_COOKIE), touch=True, allow_enrol=True
    )
    mark_staff(request, staff.staff_id)  # enrolling is a change the access log records
    return staff


async def password_changing_staff(request: Request, state: StateDep) -> Staff:
    """Also accepts the session of someone who must change their password first."""
    staff = await staff_for_token(
        state, request.cookies.get(SESSION_COOKIE), touch=True, allow_password_change=True
    )
    mark_staff(request, staff.staff_id)
    return staff


async def staff_for_token(
    state: ConsoleState,
    token: str | None,
    *,
    touch: bool,
    allow_enrol: bool = False,
    allow_password_change: bool = False,
) -> Staff:
    """The staff member behind a session token; 401 when absent, unknown or expired.

    ``touch`` counts the request as activity for the idle timeout (the open live
    stream does not: an unattended console must still time out). An enrolment-only
    session is refused (403) unless ``allow_enrol``; so is the session of someone who
    must change their password, unless ``allow_password_change`` (or ``allow_enrol``).
    """
    if not token:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "ログインしてください")
    digest = token_digest(token)
    now = datetime.now(UTC)
    settings = state.settings
    async with transaction(state.db.sessions) as session:
        row = await queries.session_with_staff(session, token_hash=digest)
        if row is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "ログインしてください")
        times = SessionTimes(row.created_at, row.last_seen_at, row.expires_at)
        idle = timedelta(minutes=settings.console_session_idle_minutes)
        if not session_is_live(times, now=now, idle=idle):
            await queries.delete_session(session, token_hash=digest)
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "一定時間操作がなかったため、ログアウトしました。もう一度ログインしてください",
            )
        if touch and should_touch(row.last_seen_at, now=now):
            await queries.touch_session(session, token_hash=digest, now=now)
    refusal = session_refusal(
        enrol_only=row.enrol_only,
        password_change_required=row.password_change_required,
        allow_enrol=allow_enrol,
        allow_password_change=allow_password_change,
    )
    if refusal is not None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, refusal)
    return Staff(
        staff_id=row.staff_id,
        login=row.login,
        display_name=row.display_name,
        role=row.role,
        presence=row.presence,
        capacity=row.capacity,
        token_hash=digest,
        enrol_only=row.enrol_only,
        password_change_required=row.password_change_required,
    )


CurrentStaff = Annotated[Staff, Depends(current_staff)]
EnrollingStaff = Annotated[Staff, Depends(enrolling_staff)]
PasswordChangingStaff = Annotated[Staff, Depends(password_changing_staff)]


def require_csrf_header(request: Request) -> None:
    """State-changing requests must carry a custom header a cross-site form cannot set.

    Together with SameSite=Strict cookies this blocks cross-site request forgery:
    a browser only sends a custom header cross-origin after a CORS preflight,
    which this API never approves.
    """
    if request.headers.get(CSRF_HEADER) != CSRF_VALUE:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "不正なリクエストです（X-Requested-With ヘッダーが必要です）",
        )


Csrf = Depends(require_csrf_header)
