"""スタッフ管理 (admins only): create accounts, change name and role, reset a password.

Disable/enable, ending sessions, resetting TOTP and lifting a lockout are in
api/twofactor.py. Every change here is recorded by the access-log middleware (the
new account's id as the target of its creation). Guard rails: staff_rules.py.
"""

from __future__ import annotations

from uuid import UUID, uuid4

from fastapi import APIRouter, HTTPException, Request, Response, status
from sodan_shared.db import transaction
from sodan_shared.logging import get_logger

from sodan_console.access_log import mark_target
from sodan_console.api.deps import Csrf, CurrentStaff, StateDep
from sodan_console.api.schemas import (
    StaffAdminRow,
    StaffCreatedOut,
    StaffCreateIn,
    StaffUpdateIn,
    TemporaryPasswordOut,
)
from sodan_console.api.twofactor import facts, require_admin, target
from sodan_console.auth import hash_password
from sodan_console.db import auth_queries
from sodan_console.staff_rules import (
    LOGIN_TAKEN,
    clean_display_name,
    display_name_problem,
    generate_password,
    login_problem,
    password_problem,
    reset_refusal,
    role_change_refusal,
)

log = get_logger(__name__)
router = APIRouter(prefix="/api", tags=["staff"])

NOTHING_TO_CHANGE = "変更する項目（表示名または役割）を指定してください"


def _invalid(message: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, message)


@router.post("/admin/staff", dependencies=[Csrf], status_code=status.HTTP_201_CREATED)
async def create_staff(
    body: StaffCreateIn, request: Request, staff: CurrentStaff, state: StateDep
) -> StaffCreatedOut:
    """A new account; without a typed password one is generated and returned this once.
    Either way the new staff member must change it at first login."""
    require_admin(staff)
    login = body.login.strip()
    name = clean_display_name(body.display_name)
    generated = not body.password
    password = generate_password() if generated else (body.password or "")
    problem = (
        login_problem(login)
        or display_name_problem(name)
        or password_problem(password, login=login)
    )
    if problem is not None:
        raise _invalid(problem)
    staff_id = uuid4()
    password_hash = hash_password(password)
    async with transaction(state.db.sessions) as session:
        created = await auth_queries.create_staff(
            session,
            staff_id=staff_id,
            login=login,
            display_name=name,
            role=body.role,
            password_hash=password_hash,
        )
    if not created:
        raise HTTPException(status.HTTP_409_CONFLICT, LOGIN_TAKEN)
    mark_target(request, "staff", staff_id)
    log.info(
        "console.staff_created", staff_id=str(staff_id), role=body.role, by=str(staff.staff_id)
    )
    return StaffCreatedOut(
        staff=StaffAdminRow(
            staff_id=staff_id,
            login=login,
            display_name=name,
            role=body.role,
            disabled=False,
            totp_enrolled=False,
            locked=False,
            password_change_required=True,
        ),
        temporary_password=password if generated else None,
    )


@router.patch("/admin/staff/{staff_id}", dependencies=[Csrf])
async def update_staff(
    staff_id: UUID, body: StaffUpdateIn, staff: CurrentStaff, state: StateDep
) -> Response:
    """Display name and role. A new role ends the person's sessions: their console
    reloads with the screens of the new role (and routing learns it at their next
    presence change)."""
    require_admin(staff)
    if body.display_name is None and body.role is None:
        raise _invalid(NOTHING_TO_CHANGE)
    name = None
    if body.display_name is not None:
        name = clean_display_name(body.display_name)
        problem = display_name_problem(name)
        if problem is not None:
            raise _invalid(problem)
    async with transaction(state.db.sessions) as session:
        admins = await auth_queries.enabled_admins(session)
        row = await target(session, staff_id)
        new_role = body.role if body.role is not None and body.role != row.role else None
        if new_role is not None:
            refusal = role_change_refusal(
                staff.staff_id, facts(row), new_role=new_role, enabled_admins=admins
            )
            if refusal is not None:
                raise HTTPException(status.HTTP_409_CONFLICT, refusal)
        await auth_queries.update_staff(
            session, staff_id=staff_id, display_name=name, role=new_role
        )
        if new_role is not None:
            await auth_queries.end_sessions_of(session, staff_id=staff_id)
    log.info(
        "console.staff_updated",
        staff_id=str(staff_id),
        role=new_role,
        renamed=name is not None,
        by=str(staff.staff_id),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/admin/staff/{staff_id}/password/reset", dependencies=[Csrf])
async def reset_password(
    staff_id: UUID, staff: CurrentStaff, state: StateDep
) -> TemporaryPasswordOut:
    """A forgotten password: a generated temporary one (shown this once) that must be
    changed at login; sessions end and a lockout is lifted."""
    require_admin(staff)
    password = generate_password()
    password_hash = hash_password(password)
    async with transaction(state.db.sessions) as session:
        row = await target(session, staff_id)
        refusal = reset_refusal(staff.staff_id, facts(row))
        if refusal is not None:
            raise HTTPException(status.HTTP_409_CONFLICT, refusal)
        await auth_queries.set_password(
            session, staff_id=staff_id, password_hash=password_hash, change_required=True
        )
        await auth_queries.end_sessions_of(session, staff_id=staff_id)
        await auth_queries.clear_attempts(session, login=row.login)
    log.info("console.password_reset", staff_id=str(staff_id), by=str(staff.staff_id))
    return TemporaryPasswordOut(temporary_password=password)
