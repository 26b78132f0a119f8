"""TOTP enrolment for oneself, and the admins' staff actions (disable, end sessions,
reset TOTP, unlock). Creating accounts, roles and passwords: api/staff_admin.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, Response, status
from sodan_shared.db import transaction
from sodan_shared.logging import get_logger
from sqlalchemy.ext.asyncio import AsyncSession

from sodan_console.api.deps import Csrf, CurrentStaff, EnrollingStaff, StateDep
from sodan_console.api.me import secret_box
from sodan_console.api.schemas import (
    LoginOut,
    StaffAdminRow,
    TotpCodeIn,
    TotpSetupOut,
)
from sodan_console.db import auth_queries, queries
from sodan_console.qr import qr_svg
from sodan_console.staff_rules import StaffFacts, disable_refusal, reset_refusal
from sodan_console.twofactor import (
    SealedSecret,
    matching_step,
    new_secret,
    provisioning_uri,
)

log = get_logger(__name__)
router = APIRouter(prefix="/api", tags=["staff"])

ALREADY_ENROLLED = (
    "二段階認証は登録済みです。登録し直すときは「アカウント設定」の「登録し直す」を使ってください"
)
NOT_STARTED = "先に登録を始めてください（QRコードまたはキーを表示してください）"
BAD_CODE = "確認コードが正しくありません。認証アプリに表示されている6桁の数字を入力してください"
ADMIN_ONLY = "この操作は管理者だけができます"


@router.post("/me/totp/setup", dependencies=[Csrf])
async def totp_setup(staff: EnrollingStaff, state: StateDep) -> TotpSetupOut:
    """A new secret to enrol (replaces an unconfirmed one); 409 once confirmed."""
    secret = new_secret()
    sealed = secret_box(state.settings).seal(secret, staff_id=staff.staff_id)
    async with transaction(state.db.sessions) as session:
        row = await queries.staff_by_id(session, staff_id=staff.staff_id)
        if row is None or row.totp_confirmed_at is not None:
            raise HTTPException(status.HTTP_409_CONFLICT, ALREADY_ENROLLED)
        await auth_queries.set_totp_secret(
            session, staff_id=staff.staff_id, sealed=sealed.sealed, key_id=sealed.key_id
        )
    log.info("console.totp_setup", staff_id=str(staff.staff_id))
    return setup_out(secret, login=staff.login, issuer=state.settings.console_totp_issuer)


def setup_out(secret: str, *, login: str, issuer: str) -> TotpSetupOut:
    uri = provisioning_uri(secret, login=login, issuer=issuer)
    return TotpSetupOut(uri=uri, secret=secret, issuer=issuer, qr_svg=qr_svg(uri))


@router.post("/me/totp/confirm", dependencies=[Csrf])
async def totp_confirm(body: TotpCodeIn, staff: EnrollingStaff, state: StateDep) -> LoginOut:
    """The first valid code confirms enrolment; an enrolment-only session becomes a full one."""
    now = datetime.now(UTC)
    async with transaction(state.db.sessions) as session:
        row = await queries.staff_by_id(session, staff_id=staff.staff_id)
        if row is None or row.totp_confirmed_at is not None:
            raise HTTPException(status.HTTP_409_CONFLICT, ALREADY_ENROLLED)
        if row.totp_secret is None:
            raise HTTPException(status.HTTP_409_CONFLICT, NOT_STARTED)
        secret = secret_box(state.settings).open(
            SealedSecret(row.totp_secret, row.totp_key_id), staff_id=row.staff_id
        )
        step = matching_step(secret, body.code, now=now, last_step=row.totp_last_step)
        if step is None:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, BAD_CODE)
        await auth_queries.confirm_totp(session, staff_id=staff.staff_id, step=step, now=now)
        await auth_queries.end_enrolment_only(session, token_hash=staff.token_hash)
    log.info("console.totp_enrolled", staff_id=str(staff.staff_id))
    return LoginOut(
        staff_id=row.staff_id,
        login=row.login,
        display_name=row.display_name,
        role=row.role,
        presence=row.presence,
        capacity=row.capacity,
        enrolment_required=False,
        totp_enrolled=True,
        password_change_required=row.password_change_required,
    )


# --- admin -----------------------------------------------------------------------------


def require_admin(staff: CurrentStaff) -> None:
    if staff.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, ADMIN_ONLY)


@router.get("/admin/staff")
async def staff_list(staff: CurrentStaff, state: StateDep) -> list[StaffAdminRow]:
    require_admin(staff)
    now = datetime.now(UTC)
    idle = timedelta(minutes=state.settings.console_session_idle_minutes)
    async with transaction(state.db.sessions) as session:
        rows = await auth_queries.staff_overview(session, now=now, idle=idle)
    return [
        StaffAdminRow(
            staff_id=r.staff_id,
            login=r.login,
            display_name=r.display_name,
            role=r.role,
            disabled=r.disabled,
            totp_enrolled=r.totp_confirmed_at is not None,
            locked=r.locked_until is not None and now < r.locked_until,
            password_change_required=r.password_change_required,
            last_login_at=r.last_login_at,
            sessions=r.live_sessions,
            created_at=r.created_at,
        )
        for r in rows
    ]


async def target(session: AsyncSession, staff_id: UUID) -> Any:
    row = await queries.staff_by_id(session, staff_id=staff_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "職員が見つかりません")
    return row


def facts(row: Any) -> StaffFacts:
    return StaffFacts(staff_id=row.staff_id, role=row.role, disabled=row.disabled)


@router.post("/admin/staff/{staff_id}/disable", dependencies=[Csrf])
async def disable_staff(staff_id: UUID, staff: CurrentStaff, state: StateDep) -> Response:
    """Disabled staff cannot log in and lose every session at once."""
    require_admin(staff)
    async with transaction(state.db.sessions) as session:
        admins = await auth_queries.enabled_admins(session)
        row = await target(session, staff_id)
        refusal = disable_refusal(staff.staff_id, facts(row), enabled_admins=admins)
        if refusal is not None:
            raise HTTPException(status.HTTP_409_CONFLICT, refusal)
        await auth_queries.set_disabled(session, staff_id=staff_id, disabled=True)
        await auth_queries.end_sessions_of(session, staff_id=staff_id)
    log.info("console.staff_disabled", staff_id=str(staff_id), by=str(staff.staff_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/admin/staff/{staff_id}/enable", dependencies=[Csrf])
async def enable_staff(staff_id: UUID, staff: CurrentStaff, state: StateDep) -> Response:
    require_admin(staff)
    async with transaction(state.db.sessions) as session:
        await target(session, staff_id)
        await auth_queries.set_disabled(session, staff_id=staff_id, disabled=False)
    log.info("console.staff_enabled", staff_id=str(staff_id), by=str(staff.staff_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/admin/staff/{staff_id}/sessions", dependencies=[Csrf])
async def end_sessions(staff_id: UUID, staff: CurrentStaff, state: StateDep) -> Response:
    """Log the staff member out everywhere (the presence sweep then sets them offline)."""
    require_admin(staff)
    async with transaction(state.db.sessions) as session:
        await target(session, staff_id)
        ended = await auth_queries.end_sessions_of(session, staff_id=staff_id)
    log.info("console.sessions_ended", staff_id=str(staff_id), by=str(staff.staff_id), n=ended)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/admin/staff/{staff_id}/totp/reset", dependencies=[Csrf])
async def reset_totp(staff_id: UUID, staff: CurrentStaff, state: StateDep) -> Response:
    """A lost phone: the TOTP goes, and so do the sessions; they enrol again at next login."""
    require_admin(staff)
    async with transaction(state.db.sessions) as session:
        row = await target(session, staff_id)
        refusal = reset_refusal(staff.staff_id, facts(row))
        if refusal is not None:
            raise HTTPException(status.HTTP_409_CONFLICT, refusal)
        await auth_queries.reset_totp(session, staff_id=staff_id)
        await auth_queries.end_sessions_of(session, staff_id=staff_id)
    log.info("console.totp_reset", staff_id=str(staff_id), by=str(staff.staff_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/admin/staff/{staff_id}/unlock", dependencies=[Csrf])
async def unlock(staff_id: UUID, staff: CurrentStaff, state: StateDep) -> Response:
    """End a lockout early (after checking it really is the staff member)."""
    require_admin(staff)
    async with transaction(state.db.sessions) as session:
        row = await target(session, staff_id)
        await auth_queries.clear_attempts(session, login=row.login)
    log.info("console.login_unlocked", staff_id=str(staff_id), by=str(staff.staff_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
