"""Case lifecycle decisions as pure functions: 保留, 転送, reopening, closing, survey.

States: queued (受付待ち) → assigned (対応中) → closed (終了); an assigned case may
be on_hold (保留: waiting for the client, still its counsellor's). 転送 (handover)
is a move of an assigned case from one counsellor to another or to the queue.
Each refusal is a sentence in Japanese the staff member can act on.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sodan_shared.closing import (
    DEFAULT_CATEGORIES,
    SURVEY_ANSWERS,
    ClosingCategories,
    closing_problem,
)

from sodan_routing.assignment import Counsellor

__all__ = [
    "CaseState",
    "can_return_to",
    "close_needs_confirmation",
    "close_refusal",
    "handover_refusal",
    "hold_refusal",
    "reopens",
    "survey_answer",
]

NOT_YOURS = "この相談の担当ではないため操作できません"


@dataclass(frozen=True)
class CaseState:
    status: str
    assigned_to: UUID | None
    urgency: str


def hold_refusal(case: CaseState, *, staff_id: UUID, hold: bool) -> str | None:
    """Only the assigned counsellor puts their case on hold or resumes it."""
    if case.status == "closed":
        return "この相談はすでに終了しています"
    if case.assigned_to != staff_id or case.status not in ("assigned", "on_hold"):
        return NOT_YOURS
    if hold and case.status == "on_hold":
        return "この相談はすでに保留中です"
    if not hold and case.status != "on_hold":
        return "この相談は保留中ではありません"
    return None


def handover_refusal(
    case: CaseState,
    *,
    staff_id: UUID,
    to: UUID | None,
    receiver: Counsellor | None,
    critical_cap: int,
) -> str | None:
    """A counsellor hands their own case to an available colleague with a free slot
    (and room under the 緊急 cap), or back to the queue (``to`` None)."""
    if case.status == "closed":
        return "この相談はすでに終了しています"
    if case.assigned_to != staff_id or case.status not in ("assigned", "on_hold"):
        return NOT_YOURS
    if to is None:
        return None
    if to == staff_id:
        return "自分自身には引き継げません"
    if receiver is None or not receiver.can_take_a_case:
        if (
            receiver is not None
            and receiver.presence == "available"
            and (receiver.load >= receiver.capacity)
        ):
            return "引き継ぎ先の相談員は対応件数の上限に達しています"
        return "引き継ぎ先の相談員はいま対応可ではありません"
    if case.urgency == "critical" and 0 < critical_cap <= receiver.critical_load:
        return f"引き継ぎ先の相談員はすでに緊急の相談を{receiver.critical_load}件担当しています"
    return None


def close_refusal(
    case: CaseState,
    *,
    outcome: str | None,
    topics: list[str],
    lists: ClosingCategories = DEFAULT_CATEGORIES,
) -> str | None:
    """A counsellor's closing needs a known outcome and known topics (the monthly
    report counts them); the case stays open otherwise."""
    if case.status == "closed":
        return "この相談はすでに終了しています"
    return closing_problem(outcome, topics, lists)


def close_needs_confirmation(case: CaseState, *, staff_role: str | None) -> bool:
    """A counsellor's close of a 緊急 case waits for a supervisor; a supervisor's does not."""
    return case.urgency == "critical" and staff_role != "supervisor"


def reopens(closed_at: datetime | None, *, now: datetime, within_min: float) -> bool:
    """A client who writes within the window after the close reopens the same case."""
    if closed_at is None or within_min <= 0:
        return False
    return now - closed_at <= timedelta(minutes=within_min)


def can_return_to(counsellor: Counsellor | None, *, urgency: str, critical_cap: int) -> bool:
    """A reopened case goes straight back to its counsellor if they could take it now."""
    if counsellor is None or not counsellor.can_take_a_case:
        return False
    return not (urgency == "critical" and 0 < critical_cap <= counsellor.critical_load)


def survey_answer(
    text: str | None,
    *,
    sent_at: datetime | None,
    answered: str | None,
    now: datetime,
    within_min: float,
) -> str | None:
    """The survey answer this message is, if the survey is still open and the text is
    exactly one of its answers (the quick-reply buttons send their label)."""
    if text is None or sent_at is None or answered is not None:
        return None
    if now - sent_at > timedelta(minutes=within_min):
        return None
    cleaned = unicodedata.normalize("NFKC", text).strip()
    return cleaned if cleaned in SURVEY_ANSWERS else None
