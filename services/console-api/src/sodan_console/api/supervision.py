"""Supervisors' controls: the staff panel (presence, load, capacity), the desk's
assignment mode (自動割当 / 手動ピックアップ), reassign and take-over, handback
notices; and a counsellor's pick-up of a queued case (「対応する」).

Routing decides every assignment (it holds the locks and the loads); the console
checks only what it knows (who may ask, that the case and the target exist),
sends the command and waits briefly for routing's answer: assigned (200),
refused with routing's reason (409), or pending (202; the list updates live).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sodan_shared.db import transaction
from sodan_shared.db.idempotency import add_to_outbox
from sodan_shared.events.console import (
    AssignmentMode,
    PickCase,
    PickCaseV1,
    Presence,
    ReassignCase,
    ReassignCaseV1,
    SetAssignmentMode,
    SetAssignmentModeV1,
    StaffCapacitySet,
    StaffCapacitySetV1,
    StaffPresenceChanged,
    StaffPresenceChangedV1,
    StaffRole,
)
from sodan_shared.events.envelope import Envelope
from sodan_shared.logging import get_logger
from sodan_shared.subjects import ASSIGNMENT_MODE_CHANGED, ASSIGNMENT_REFUSED, CASE_ASSIGNED

from sodan_console.api.answers import send_and_wait
from sodan_console.api.deps import Csrf, CurrentStaff, Staff, StateDep
from sodan_console.db import queries, supervision
from sodan_console.db.tables import outbox
from sodan_console.policy import CaseFacts, can_pick_case
from sodan_console.state import ConsoleState

log = get_logger(__name__)
router = APIRouter(prefix="/api", tags=["supervision"])

ROLES_TAKING_CASES = ("counsellor", "supervisor")


def _require_supervisor(staff: Staff, what: str) -> None:
    if staff.role != "supervisor":
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"{what}はスーパーバイザーのみできます")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- staff panel ----------------------------------------------------------------------


class StaffLoad(BaseModel):
    staff_id: UUID
    display_name: str
    role: StaffRole
    presence: Presence
    presence_changed_at: datetime | None
    capacity: int
    load: int = Field(description="Open cases assigned now (as the console has projected)")


class CapacityIn(_In):
    capacity: int = Field(ge=0, le=20, description="Concurrent chats (0-20)")


@router.get("/staff")
async def staff_panel(staff: CurrentStaff, state: StateDep) -> list[StaffLoad]:
    if staff.role not in ("supervisor", "admin"):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "スタッフ一覧はスーパーバイザーのみ見られます"
        )
    async with state.db.sessions() as session:
        rows = await supervision.staff_with_loads(session)
    return [StaffLoad.model_validate(r, from_attributes=True) for r in rows]


@router.put("/staff/{staff_id}/capacity", dependencies=[Csrf])
async def set_capacity(
    staff_id: UUID, body: CapacityIn, staff: CurrentStaff, state: StateDep
) -> StaffLoad:
    """Routing learns the new capacity from a StaffPresenceChanged (its current presence);
    the change is audited (who, whom, from, to)."""
    _require_supervisor(staff, "同時対応数の変更")
    async with transaction(state.db.sessions) as session:
        row = await supervision.lock_staff(session, staff_id=staff_id)
        if row is None or row.disabled:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "この職員は見つかりません")
        await supervision.set_capacity(session, staff_id=staff_id, capacity=body.capacity)
        channel = state.settings.line_channel_id
        await add_to_outbox(
            session,
            outbox,
            StaffPresenceChanged.new(
                channel=channel,
                payload=StaffPresenceChangedV1(
                    staff_id=staff_id,
                    role=row.role,
                    presence=row.presence,
                    capacity=body.capacity,
                ),
            ),
        )
        await add_to_outbox(
            session,
            outbox,
            StaffCapacitySet.new(
                channel=channel,
                payload=StaffCapacitySetV1(
                    staff_id=staff.staff_id,
                    target_staff_id=staff_id,
                    previous_capacity=row.capacity,
                    capacity=body.capacity,
                ),
            ),
        )
        updated = next(
            r for r in await supervision.staff_with_loads(session) if r.staff_id == staff_id
        )
    state.wake_relay()
    log.info(
        "console.capacity_set",
        staff_id=str(staff.staff_id),
        target_staff_id=str(staff_id),
        capacity=body.capacity,
    )
    return StaffLoad.model_validate(updated, from_attributes=True)


# --- assignment mode ----------------------------------------------------------------


class ModePublic(BaseModel):
    mode: AssignmentMode = Field(description="auto 自動割当 / manual 手動ピックアップ")
    changed_at: datetime | None
    changed_by_name: str | None


class ModeIn(_In):
    mode: AssignmentMode


class ModeSaved(BaseModel):
    status: Literal["applied", "pending"]
    mode: AssignmentMode


@router.get("/assignment-mode")
async def get_mode(_: CurrentStaff, state: StateDep) -> ModePublic:
    async with state.db.sessions() as session:
        row = await supervision.assignment_mode(session)
    if row is None:
        return ModePublic(mode="auto", changed_at=None, changed_by_name=None)
    return ModePublic(
        mode=row.assignment_mode, changed_at=row.changed_at, changed_by_name=row.changed_by_name
    )


@router.put("/assignment-mode", dependencies=[Csrf])
async def set_mode(body: ModeIn, staff: CurrentStaff, state: StateDep) -> ModeSaved:
    _require_supervisor(staff, "割当方法の切り替え")
    command = SetAssignmentMode.new(
        channel=state.settings.line_channel_id,
        payload=SetAssignmentModeV1(mode=body.mode, staff_id=staff.staff_id),
    )
    answer = await send_and_wait(state, command, [ASSIGNMENT_MODE_CHANGED])
    log.info("console.assignment_mode_sent", mode=body.mode, staff_id=str(staff.staff_id))
    return ModeSaved(status="applied" if answer else "pending", mode=body.mode)


# --- pick, reassign, take over ----------------------------------------------------------


class AssignIn(_In):
    to_staff_id: UUID


class AssignmentResult(BaseModel):
    status: Literal["assigned", "pending"]
    case_id: UUID
    counsellor_id: UUID


async def _case_or_404(state: ConsoleState, case_id: UUID, *, picker: Staff | None = None) -> Any:
    async with state.db.sessions() as session:
        row = await queries.get_case(session, case_id=case_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "この相談は見つかりません")
    if picker is not None and not can_pick_case(
        picker.viewer, CaseFacts(row.status, row.assigned_to)
    ):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "この相談を表示する権限がありません")
    if row.status == "closed":
        raise HTTPException(status.HTTP_409_CONFLICT, "この相談はすでに終了しています")
    return row


async def _ask_routing(
    state: ConsoleState, command: Envelope[Any], *, case_id: UUID, to: UUID
) -> AssignmentResult | JSONResponse:
    def ours(subject: str, answer: dict[str, Any]) -> bool:
        # a reassignment may also refill the freed slot with another case: not ours
        return str(answer["payload"]["case_id"]) == str(case_id)

    answer = await send_and_wait(state, command, [CASE_ASSIGNED, ASSIGNMENT_REFUSED], accept=ours)
    if answer is None:
        return AssignmentResult(status="pending", case_id=case_id, counsellor_id=to)
    subject, event = answer
    if subject == ASSIGNMENT_REFUSED.name:
        p = event["payload"]
        return JSONResponse(
            status_code=status.HTTP_409_CONFLICT,
            content={"detail": p["message"], "reason": p["reason"]},
        )
    return AssignmentResult(status="assigned", case_id=case_id, counsellor_id=to)


@router.post("/cases/{case_id}/pick", dependencies=[Csrf], response_model=AssignmentResult)
async def pick_case(
    case_id: UUID, staff: CurrentStaff, state: StateDep
) -> AssignmentResult | JSONResponse:
    """「対応する」: in manual pick-up mode, take a queued case."""
    if staff.role not in ROLES_TAKING_CASES:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "相談を担当できるのは相談員とSVです")
    await _case_or_404(state, case_id, picker=staff)
    command = PickCase.new(
        channel=state.settings.line_channel_id,
        payload=PickCaseV1(case_id=case_id, staff_id=staff.staff_id),
    )
    log.info("console.pick_sent", case_id=str(case_id), staff_id=str(staff.staff_id))
    return await _ask_routing(state, command, case_id=case_id, to=staff.staff_id)


async def _reassign(
    state: ConsoleState, staff: Staff, case_id: UUID, to: UUID
) -> AssignmentResult | JSONResponse:
    await _case_or_404(state, case_id)
    async with state.db.sessions() as session:
        target = await queries.staff_by_id(session, staff_id=to)
    if target is None or target.disabled or target.role not in ROLES_TAKING_CASES:
        return JSONResponse(
            status_code=422,
            content={"detail": "担当先: 相談を担当できる職員（相談員・SV）を選んでください"},
        )
    command = ReassignCase.new(
        channel=state.settings.line_channel_id,
        payload=ReassignCaseV1(case_id=case_id, staff_id=staff.staff_id, to_staff_id=to),
    )
    log.info(
        "console.reassign_sent",
        case_id=str(case_id),
        staff_id=str(staff.staff_id),
        to_staff_id=str(to),
    )
    return await _ask_routing(state, command, case_id=case_id, to=to)


@router.post("/cases/{case_id}/reassign", dependencies=[Csrf], response_model=AssignmentResult)
async def reassign_case(
    case_id: UUID, body: AssignIn, staff: CurrentStaff, state: StateDep
) -> AssignmentResult | JSONResponse:
    _require_supervisor(staff, "担当の付け替え")
    return await _reassign(state, staff, case_id, body.to_staff_id)


@router.post("/cases/{case_id}/take-over", dependencies=[Csrf], response_model=AssignmentResult)
async def take_over_case(
    case_id: UUID, staff: CurrentStaff, state: StateDep
) -> AssignmentResult | JSONResponse:
    """The supervisor takes the case themselves (may exceed their own capacity)."""
    _require_supervisor(staff, "引き継ぎ")
    return await _reassign(state, staff, case_id, staff.staff_id)


# --- handback notices -----------------------------------------------------------------


class HandbackPublic(BaseModel):
    id: UUID
    counsellor_id: UUID
    counsellor_name: str
    reason: str
    cases: int
    at: datetime


@router.get("/handbacks")
async def handbacks(
    staff: CurrentStaff,
    state: StateDep,
    hours: int = Query(default=12, ge=1, le=72, description="How far back"),
) -> list[HandbackPublic]:
    """Counsellors whose open cases went back to the queue (they went offline)."""
    if staff.role not in ("supervisor", "admin"):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "この通知はスーパーバイザー向けです")
    since = datetime.now(UTC) - timedelta(hours=hours)
    async with state.db.sessions() as session:
        rows = await supervision.handbacks_since(session, since=since)
    return [
        HandbackPublic(
            id=r.cause_id,
            counsellor_id=r.counsellor_id,
            counsellor_name=r.counsellor_name or "（不明な職員）",
            reason=r.reason,
            cases=r.cases,
            at=r.at,
        )
        for r in rows
    ]
