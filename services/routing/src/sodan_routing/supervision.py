"""Supervisors' and counsellors' explicit assignments, as pure decisions.

Manual pick-up (手動ピックアップ): a counsellor takes a queued case for themselves,
only while the desk is in manual mode (in automatic mode the queue order and
the load decide, and a pick would undercut both), only while 対応可, within
their capacity and the 緊急 cap, and only while the desk is open.

Reassign (付け替え) and take-over (引き継ぎ): a supervisor moves an open case,
queued or assigned, to someone. The target must be a counsellor or supervisor
routing has heard from and not offline (away/break is the supervisor's call).
A reassignment respects the target's capacity and the 緊急 cap; a supervisor
taking a case over themselves may exceed their own capacity: in a crisis the
number must not stand between the client and the person who decided to help.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from sodan_routing.assignment import ROLES_TAKING_CASES, Counsellor

AssignmentMode = Literal["auto", "manual"]


@dataclass(frozen=True)
class Refusal:
    reason: str
    message: str  # Japanese, shown to the staff member who asked


@dataclass(frozen=True)
class CaseFacts:
    status: str
    announced: bool
    assigned_to: UUID | None
    urgency: str


def _case_refusal(case: CaseFacts | None) -> Refusal | None:
    if case is None or not case.announced:
        return Refusal("not_open", "この相談は見つかりません")
    if case.status == "closed":
        return Refusal("not_open", "この相談はすでに終了しています")
    return None


def _over_limits(target: Counsellor, case: CaseFacts, *, critical_cap: int) -> Refusal | None:
    if target.load >= target.capacity:
        return Refusal("over_capacity", f"同時対応数の上限（{target.capacity}件）に達しています")
    if case.urgency == "critical" and 0 < critical_cap <= target.critical_load:
        return Refusal("critical_cap", f"緊急の相談を同時に担当できるのは{critical_cap}件までです")
    return None


def refuse_pick(
    *,
    mode: AssignmentMode,
    case: CaseFacts | None,
    picker: Counsellor | None,
    desk_open: bool,
    critical_cap: int,
) -> Refusal | None:
    """Why this counsellor may not pick this case now; None: they may."""
    refusal = _case_refusal(case)
    if refusal is not None:
        return refusal
    assert case is not None
    if case.status != "queued":
        mine = picker is not None and case.assigned_to == picker.staff_id
        return Refusal(
            "already_assigned",
            "すでにあなたが担当しています" if mine else "すでに他の相談員が担当しています",
        )
    if mode != "manual":
        return Refusal(
            "auto_mode", "自動割当中は相談を選べません（手動ピックアップのときだけ選べます）"
        )
    if not desk_open:
        return Refusal("desk_closed", "受付時間外です")
    if picker is None or picker.role not in ROLES_TAKING_CASES:
        return Refusal(
            "unknown_staff", "状態が登録されていません（状態を「対応可」にしてください）"
        )
    if picker.presence != "available":
        return Refusal("not_available", "状態が「対応可」のときだけ相談を選べます")
    return _over_limits(picker, case, critical_cap=critical_cap)


def refuse_reassign(
    *,
    case: CaseFacts | None,
    target: Counsellor | None,
    take_over: bool,
    critical_cap: int,
) -> Refusal | None:
    """Why this case may not go to `target` now; None: it may."""
    refusal = _case_refusal(case)
    if refusal is not None:
        return refusal
    assert case is not None
    if target is None or target.role not in ROLES_TAKING_CASES:
        return Refusal(
            "unknown_staff", "担当先の職員は相談を受けられません（状態がまだ登録されていません）"
        )
    if case.status == "assigned" and case.assigned_to == target.staff_id:
        return Refusal("already_assigned", "すでにこの職員が担当しています")
    if target.presence == "offline":
        return Refusal("not_available", "担当先の職員はオフラインです")
    if take_over:
        return None  # a supervisor taking over may exceed their own capacity (see above)
    return _over_limits(target, case, critical_cap=critical_cap)


def assignment_paused(mode: str) -> bool:
    """In manual pick-up mode routing assigns nothing by itself."""
    return mode == "manual"
