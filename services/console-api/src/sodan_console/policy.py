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
    # the viewer was assigned this case at some time (it may since have moved on)
    once_assigned: bool = False


def sees_every_case(viewer: Viewer) -> bool:
    return viewer.role in ("supervisor", "admin")


def can_view_case(viewer: Viewer, case: CaseFacts) -> bool:
    """Counsellors see the waiting queue, cases assigned to them and, read-only, cases
    they were once assigned (handed over, reassigned, closed); SV and admin see all."""
    if sees_every_case(viewer):
        return True
    return case.status == "queued" or case.assigned_to == viewer.staff_id or case.once_assigned


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


@dataclass(frozen=True)
class ClientFacts:
    """How a viewer has dealt with a client: holds one of their open cases now, or
    was ever assigned one of their cases (kept by the console's assignment history)."""

    holds_open_case: bool
    ever_assigned: bool


def can_read_client_record(viewer: Viewer, client: ClientFacts) -> bool:
    """The 相談者カルテ: SV and admin read every record; a counsellor reads the records
    of clients they handle or once handled, and no other (the API answers 404, so a
    record's existence is not revealed)."""
    if sees_every_case(viewer):
        return True
    return client.holds_open_case or client.ever_assigned


def can_edit_client_record(viewer: Viewer, client: ClientFacts) -> bool:
    """A counsellor edits while they hold one of the client's open cases (read-only
    once they no longer do); SV and admin always."""
    if sees_every_case(viewer):
        return True
    return viewer.role == "counsellor" and client.holds_open_case


def can_add_case_note(viewer: Viewer, case: CaseFacts) -> bool:
    """ケースメモ: its counsellor (also after closing, to write it up) or a supervisor."""
    return can_act_on_case(viewer, case)


def can_correct_case_note(viewer: Viewer, case: CaseFacts, *, author_id: UUID) -> bool:
    """Only the note's author corrects it (as a new version; the old text stays)."""
    return author_id == viewer.staff_id and can_add_case_note(viewer, case)


def can_read_case_notes(viewer: Viewer, case: CaseFacts, client: ClientFacts) -> bool:
    """Whoever can view the case, and whoever can read its client's record (which
    lists every case's notes)."""
    return can_view_case(viewer, case) or can_read_client_record(viewer, client)


def can_manage_labels(viewer: Viewer) -> bool:
    """The desk's label set (names, colours, retiring) is the supervisors' and admins'."""
    return viewer.role in ("supervisor", "admin")


def can_label_case(viewer: Viewer, case: CaseFacts) -> bool:
    """Attaching or removing a label is acting on the case: its counsellor or a supervisor."""
    return can_act_on_case(viewer, case)


def can_name_channels(viewer: Viewer) -> bool:
    """Channel display names and notes are an administrator's setting."""
    return viewer.role == "admin"


def client_label(client_no: int | None) -> str:
    """How staff see a client: never the LINE id, only the desk's number."""
    return f"C-{client_no:06d}" if client_no is not None else "C-??????"


def can_edit_templates(viewer: Viewer) -> bool:
    """定型文 are the desk's shared wording: supervisors and admins write them,
    counsellors use them."""
    return viewer.role in ("supervisor", "admin")
