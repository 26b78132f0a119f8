"""Events and commands produced by console-api (staff actions)."""

from __future__ import annotations

from datetime import date, time
from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from sodan_shared.events.envelope import Envelope, Payload, Sealed

Presence = Literal["available", "away", "break", "offline"]
StaffRole = Literal["counsellor", "supervisor", "admin"]


class StaffPresenceChangedV1(Payload):
    staff_id: UUID
    role: StaffRole
    presence: Presence
    capacity: int = Field(ge=0, le=20, description="Concurrent chats this person takes")


class StaffPresenceChanged(Envelope[StaffPresenceChangedV1]):
    TYPE = "console.staff_presence_changed"


class CloseCaseV1(Payload):
    case_id: UUID
    staff_id: UUID
    outcome: str | None = Field(
        default=None, max_length=200, description="対応結果, one of sodan_shared.closing.OUTCOMES"
    )
    topics: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="相談内容, each one of sodan_shared.closing.TOPICS",
    )
    send_survey: bool = Field(default=False, description="Send the client the after-survey")
    staff_role: StaffRole | None = Field(
        default=None,
        description="The closer's role: a counsellor's close of a 緊急 case waits for a "
        "supervisor's confirmation, a supervisor's closes it (None: counsellor)",
    )


class CloseCase(Envelope[CloseCaseV1]):
    """Command to routing: a counsellor closes a case."""

    TYPE = "console.close_case"


class DecideCloseV1(Payload):
    case_id: UUID
    staff_id: UUID = Field(description="The supervisor")
    approve: bool = Field(description="True: close as requested; False: the case stays open")


class DecideClose(Envelope[DecideCloseV1]):
    """Command to routing: a supervisor confirms or declines a counsellor's request to
    close a 緊急 case."""

    TYPE = "console.decide_close"


class HoldCaseV1(Payload):
    case_id: UUID
    staff_id: UUID
    hold: bool = Field(
        default=True, description="True: 保留 (waiting for the client); False: resume"
    )


class HoldCase(Envelope[HoldCaseV1]):
    """Command to routing: the assigned counsellor puts a case on hold (保留) or resumes it."""

    TYPE = "console.hold_case"


class HandOverCaseV1(Payload):
    case_id: UUID
    staff_id: UUID = Field(description="The counsellor handing the case over")
    to_staff_id: UUID | None = Field(
        default=None, description="The receiving counsellor; None: back to the queue"
    )
    note: Sealed | None = Field(
        default=None,
        description="引き継ぎメモ, staff-only, sealed with the client's key ('handover.note')",
    )


class HandOverCase(Envelope[HandOverCaseV1]):
    """Command to routing: a counsellor hands their case to a colleague (転送)."""

    TYPE = "console.hand_over_case"


class EmergencyModeSetV1(Payload):
    case_id: UUID
    client_id: UUID
    enabled: bool
    staff_id: UUID


class EmergencyModeSet(Envelope[EmergencyModeSetV1]):
    """Command to ingress: fetch (on) or refuse (off) this client's media from now on."""

    TYPE = "console.emergency_mode_set"


class EmergencyModeAuditedV1(Payload):
    staff_id: UUID
    staff_role: StaffRole
    case_id: UUID
    client_id: UUID
    enabled: bool
    reason: Sealed | None = Field(
        default=None, description="Why, sealed with the client's key ('emergency.reason')"
    )


class EmergencyModeAudited(Envelope[EmergencyModeAuditedV1]):
    """Who switched a case's emergency mode on or off, when (occurred_at) and why."""

    TYPE = "audit.emergency_mode_changed"


class MediaViewedV1(Payload):
    staff_id: UUID
    staff_role: StaffRole
    case_id: UUID
    client_id: UUID
    message_id: UUID = Field(description="The console message (MessageReceived event id)")
    kind: str = Field(max_length=16)


class MediaViewed(Envelope[MediaViewedV1]):
    """A staff member opened a client's stored media (access accountability)."""

    TYPE = "audit.media_viewed"


class UpdateLexiconV1(Payload):
    lexicon: dict[str, Any] = Field(
        description="The whole new lexicon (sodan_shared.lexicon.Lexicon); its version is "
        "replaced by triage"
    )
    base_version: str | None = Field(
        default=None, description="The version the supervisor edited; refused if it moved on"
    )
    staff_id: UUID
    comment: str = Field(min_length=1, max_length=500)


class UpdateLexicon(Envelope[UpdateLexiconV1]):
    """Command to triage: a supervisor saves an edited urgency lexicon."""

    TYPE = "console.update_lexicon"


class UpdateAutoTextV1(Payload):
    key: str = Field(max_length=32, description="Which automatic text, e.g. out_of_hours")
    body: str = Field(max_length=2000, description="Japanese text with {placeholders}")
    staff_id: UUID = Field(description="The supervisor who edited it")


class UpdateAutoText(Envelope[UpdateAutoTextV1]):
    """Command to routing: a supervisor edits an automatic text (validated there)."""

    TYPE = "console.update_auto_text"


class UpdateClosingCategoriesV1(Payload):
    outcomes: list[str] = Field(max_length=60, description="対応結果 labels, in form order")
    topics: list[str] = Field(max_length=60, description="相談内容 labels, in form order")
    staff_id: UUID = Field(description="The supervisor who edited them")


class UpdateClosingCategories(Envelope[UpdateClosingCategoriesV1]):
    """Command to routing: a supervisor edits the closing form's lists (validated there)."""

    TYPE = "console.update_closing_categories"


class HoursRuleV1(Payload):
    kind: Literal["weekly", "dated", "closed"]
    weekday: int | None = Field(default=None, ge=0, le=6, description="0 = Monday (weekly)")
    day: date | None = Field(default=None, description="dated / closed")
    starts: time | None = None
    ends: time | None = Field(default=None, description="Not after starts: past midnight")
    holidays: Literal["any", "skip", "only"] = "any"
    note: str | None = Field(default=None, max_length=200)
    nth: int | None = Field(
        default=None,
        ge=-1,
        le=5,
        description="weekly only: just the nth such weekday of the month (1-5; -1 = the last)",
    )


class ReplaceHoursV1(Payload):
    rules: list[HoursRuleV1] = Field(max_length=200)
    staff_id: UUID


class ReplaceHours(Envelope[ReplaceHoursV1]):
    """Command to routing: a supervisor replaces the consultation calendar."""

    TYPE = "console.replace_hours"


class StaffCapacitySetV1(Payload):
    staff_id: UUID = Field(description="The supervisor who set it")
    target_staff_id: UUID
    previous_capacity: int
    capacity: int = Field(ge=0, le=20)


class StaffCapacitySet(Envelope[StaffCapacitySetV1]):
    """Audit: a supervisor changed how many chats a staff member takes at once (routing
    learns the new capacity from the StaffPresenceChanged sent with it)."""

    TYPE = "audit.staff_capacity_set"


AssignmentMode = Literal["auto", "manual"]


class SetAssignmentModeV1(Payload):
    mode: AssignmentMode = Field(description="auto: routing assigns by load; manual: pick-up")
    staff_id: UUID = Field(description="The supervisor who switched it")


class SetAssignmentMode(Envelope[SetAssignmentModeV1]):
    """Command to routing: switch the desk between automatic assignment and manual pick-up."""

    TYPE = "console.set_assignment_mode"


class PickCaseV1(Payload):
    case_id: UUID
    staff_id: UUID = Field(description="The counsellor picking the case for themselves")


class PickCase(Envelope[PickCaseV1]):
    """Command to routing: in manual pick-up mode a counsellor takes a queued case."""

    TYPE = "console.pick_case"


class ReassignCaseV1(Payload):
    case_id: UUID
    staff_id: UUID = Field(description="The supervisor giving the order")
    to_staff_id: UUID = Field(description="Who gets the case; the supervisor themselves: take-over")


class ReassignCase(Envelope[ReassignCaseV1]):
    """Command to routing: a supervisor reassigns an open case, or takes it over."""

    TYPE = "console.reassign_case"
