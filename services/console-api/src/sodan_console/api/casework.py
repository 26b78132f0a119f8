"""A counsellor's moves on their case: close with the closing form, 保留, 転送; and a
supervisor's decision on closing a 緊急 case. Each is a command to routing (which
decides, and refuses with a reason); the console checks what it can first so the
usual mistakes get an immediate, clear answer."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, HTTPException, status
from sodan_shared.closing import SURVEY_ANSWERS, closing_problem
from sodan_shared.db import transaction
from sodan_shared.db.idempotency import add_to_outbox
from sodan_shared.events.console import (
    CloseCase,
    CloseCaseV1,
    DecideClose,
    DecideCloseV1,
    HandOverCase,
    HandOverCaseV1,
    HoldCase,
    HoldCaseV1,
)
from sodan_shared.events.envelope import Envelope
from sodan_shared.logging import get_logger

from sodan_console.api.cases import (
    HANDOVER_NOTE_PURPOSE,
    _actionable_case,
    _cipher_or_none,
    _visible_case,
)
from sodan_console.api.deps import Csrf, CurrentStaff, StateDep
from sodan_console.api.schemas import (
    Accepted,
    CloseDecisionIn,
    CloseIn,
    ClosingOptions,
    HandOverIn,
    HandoverTarget,
    HoldIn,
)
from sodan_console.db import lifecycle, supervision
from sodan_console.db.tables import outbox
from sodan_console.policy import CaseFacts, can_decide_close, can_hold_or_hand_over
from sodan_console.state import ConsoleState

log = get_logger(__name__)
router = APIRouter(prefix="/api/cases", tags=["cases"])
options_router = APIRouter(prefix="/api/closing-options", tags=["cases"])

PENDING_CONFIRMATION = "緊急の相談のため、スーパーバイザーの確認後に終了します"


@options_router.get("")
async def closing_options(_: CurrentStaff, state: StateDep) -> ClosingOptions:
    """What the closing form offers (the lists routing last announced it accepts)."""
    async with state.db.sessions() as session:
        lists = await supervision.current_closing_categories(session)
    return ClosingOptions(
        outcomes=list(lists.outcomes),
        topics=list(lists.topics),
        survey_answers=list(SURVEY_ANSWERS),
    )


async def _send(state: ConsoleState, command: Envelope[Any]) -> None:
    async with transaction(state.db.sessions) as session:
        await add_to_outbox(session, outbox, command)
    state.wake_relay()


@router.post("/{case_id}/close", status_code=status.HTTP_202_ACCEPTED, dependencies=[Csrf])
async def close(case_id: UUID, body: CloseIn, staff: CurrentStaff, state: StateDep) -> Accepted:
    """Close with 対応結果 and 相談内容 (and optionally the after-survey). A counsellor's
    close of a 緊急 case waits for a supervisor's confirmation."""
    row = await _actionable_case(state, staff, case_id)
    async with state.db.sessions() as session:
        lists = await supervision.current_closing_categories(session)
    problem = closing_problem(body.outcome, body.topics, lists)
    if problem is not None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, problem)
    pending = row.urgency == "critical" and staff.role != "supervisor"
    if pending and row.close_request is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, "終了の確認をスーパーバイザーに依頼済みです")
    command = CloseCase.new(
        channel=row.channel,
        payload=CloseCaseV1(
            case_id=row.case_id,
            staff_id=staff.staff_id,
            outcome=body.outcome,
            topics=body.topics,
            send_survey=body.send_survey,
            staff_role=staff.role,
        ),
    )
    await _send(state, command)
    log.info("console.close_requested", case_id=str(case_id), staff_id=str(staff.staff_id))
    return Accepted(pending_confirmation=pending, notice=PENDING_CONFIRMATION if pending else None)


@router.post("/{case_id}/close-decision", status_code=status.HTTP_202_ACCEPTED, dependencies=[Csrf])
async def decide_close(
    case_id: UUID, body: CloseDecisionIn, staff: CurrentStaff, state: StateDep
) -> Accepted:
    """A supervisor confirms (the case closes) or declines (it stays open) a counsellor's
    request to close a 緊急 case. Routing audits each decision."""
    if not can_decide_close(staff.viewer):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "緊急の相談の終了確認はスーパーバイザーのみ行えます"
        )
    row = await _visible_case(state, staff, case_id)
    if row.status == "closed" or row.close_request is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "確認待ちの終了依頼はありません")
    command = DecideClose.new(
        channel=row.channel,
        payload=DecideCloseV1(case_id=row.case_id, staff_id=staff.staff_id, approve=body.approve),
    )
    await _send(state, command)
    log.info("console.close_decided", case_id=str(case_id), approve=body.approve)
    return Accepted()


def _own_case(staff: CurrentStaff, row: Any) -> None:
    if not can_hold_or_hand_over(staff.viewer, CaseFacts(row.status, row.assigned_to)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "保留・引き継ぎは担当の相談員のみ行えます")


@router.post("/{case_id}/hold", status_code=status.HTTP_202_ACCEPTED, dependencies=[Csrf])
async def hold(case_id: UUID, body: HoldIn, staff: CurrentStaff, state: StateDep) -> Accepted:
    """保留 (waiting for the client's reply) or resume. The case stays the counsellor's."""
    row = await _actionable_case(state, staff, case_id)
    _own_case(staff, row)
    if body.hold == (row.status == "on_hold"):
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "この相談はすでに保留中です" if body.hold else "この相談は保留中ではありません",
        )
    command = HoldCase.new(
        channel=row.channel,
        payload=HoldCaseV1(case_id=row.case_id, staff_id=staff.staff_id, hold=body.hold),
    )
    await _send(state, command)
    log.info("console.hold_requested", case_id=str(case_id), hold=body.hold)
    return Accepted()


def _target(row: Any) -> HandoverTarget:
    full = row.load >= row.capacity
    return HandoverTarget(
        staff_id=row.staff_id,
        display_name=row.display_name,
        load=row.load,
        capacity=row.capacity,
        available=not full,
        reason="対応件数の上限に達しています" if full else None,
    )


@router.get("/{case_id}/handover-targets")
async def handover_targets(
    case_id: UUID, staff: CurrentStaff, state: StateDep
) -> list[HandoverTarget]:
    """Colleagues who are 対応可 now, with their load (the 緊急 cap is routing's check)."""
    row = await _actionable_case(state, staff, case_id)
    _own_case(staff, row)
    async with state.db.sessions() as session:
        rows = await lifecycle.handover_targets(session, exclude=staff.staff_id)
    return [_target(r) for r in rows]


@router.post("/{case_id}/hand-over", status_code=status.HTTP_202_ACCEPTED, dependencies=[Csrf])
async def hand_over(
    case_id: UUID, body: HandOverIn, staff: CurrentStaff, state: StateDep
) -> Accepted:
    """転送: to a colleague who is 対応可 with a free slot, or back to the queue, with
    an optional 引き継ぎメモ (staff-only: sealed, never sent to the client)."""
    row = await _actionable_case(state, staff, case_id)
    _own_case(staff, row)
    if body.to_staff_id is not None:
        async with state.db.sessions() as session:
            targets = {
                t.staff_id: _target(t)
                for t in await lifecycle.handover_targets(session, exclude=staff.staff_id)
            }
        target = targets.get(body.to_staff_id)
        if target is None:
            raise HTTPException(
                status.HTTP_409_CONFLICT, "引き継ぎ先の相談員はいま対応可ではありません"
            )
        if not target.available:
            raise HTTPException(status.HTTP_409_CONFLICT, f"引き継ぎ先の相談員は{target.reason}")
    note = body.note.strip() if body.note else None
    sealed = None
    if note:
        cipher = await _cipher_or_none(state, row.client_id)
        if cipher is None:
            raise HTTPException(
                status.HTTP_409_CONFLICT, "この相談者のデータは消去されています（鍵がありません）"
            )
        sealed = cipher.seal(HANDOVER_NOTE_PURPOSE, note)
    command = HandOverCase.new(
        channel=row.channel,
        payload=HandOverCaseV1(
            case_id=row.case_id, staff_id=staff.staff_id, to_staff_id=body.to_staff_id, note=sealed
        ),
    )
    await _send(state, command)
    log.info("console.hand_over_requested", case_id=str(case_id), to_queue=body.to_staff_id is None)
    return Accepted()
