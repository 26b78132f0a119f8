"""Who may see and act on which case: pure rules over plain data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from uuid import UUID

Role = Literal["counsellor", "supervisor", "admin"]
CaseStatus = Literal["queued", "assigned", "on_hold", "closed"]


@dataclass(frozen=True)
class Viewer:
    staff_id: UUID
    role: Role


@dataclass(frozen=True)
class CaseFacts:
    status: str
    assigned_to: UUID | None


def sees_every_case(viewer: Viewer) -> bool:
    return viewer.role in ("supervisor", "admin")


def can_view_case(viewer: Viewer, case: CaseFacts) -> bool:
    """Counsellors see the waiting queue and cases assigned to them; SV and admin see all."""
    if sees_every_case(viewer):
        return True
    return case.status == "queued" or case.assigned_to == viewer.staff_id


def can_act_on_case(viewer: Viewer, case: CaseFacts) -> bool:
    """Reply and close: the assigned counsellor, or a supervisor (take-over)."""
    if viewer.role == "supervisor":
        return True
    return viewer.role == "counsellor" and case.assigned_to == viewer.staff_id


def can_pick_case(viewer: Viewer, case: CaseFacts) -> bool:
    """「対応する」: counsellors and supervisors take cases, and only one they may see
    (a counsellor cannot reach for a colleague's case by its id)."""
    return viewer.role in ("counsellor", "supervisor") and can_view_case(viewer, case)


def can_hold_or_hand_over(viewer: Viewer, case: CaseFacts) -> bool:
    """保留 and 転送 are the assigned counsellor's own moves (a supervisor reassigns
    or takes over instead)."""
    return case.status in ("assigned", "on_hold") and case.assigned_to == viewer.staff_id


def can_decide_close(viewer: Viewer) -> bool:
    """Closing a 緊急 case a counsellor asked to close is a supervisor's decision."""
    return viewer.role == "supervisor"


def can_switch_emergency_mode(viewer: Viewer) -> bool:
    """Fetching a client's photos is a supervisor's decision (spec 4(1)), not a counsellor's."""
    return viewer.role == "supervisor"


def alerts_viewer(viewer: Viewer, case: CaseFacts, *, urgency: str) -> bool:
    """A 緊急 case that is not closed alerts every supervisor at once, and the
    counsellor it is assigned to (a counsellor is not alarmed by others' cases)."""
    if urgency != "critical" or case.status == "closed":
        return False
    return viewer.role == "supervisor" or case.assigned_to == viewer.staff_id


def client_label(client_no: int | None) -> str:
    """How staff see a client: never the LINE id, only the desk's number."""
    return f"C-{client_no:06d}" if client_no is not None else "C-??????"
