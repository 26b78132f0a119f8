"""Events produced by the routing service (the case lifecycle)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from sodan_shared.events.console import HoursRuleV1
from sodan_shared.events.envelope import Envelope, Payload, Sealed
from sodan_shared.events.triage import UrgencyLevel


class CaseOpenedV1(Payload):
    case_id: UUID
    client_id: UUID
    client_no: int
    first_message_event_id: UUID
    urgency: UrgencyLevel = "normal"
    queued_at: AwareDatetime
    opens_at: AwareDatetime | None = Field(
        default=None,
        description="Opened outside consultation hours: waits for the opening starting then",
    )
    previous_case_id: UUID | None = Field(
        default=None,
        description="The client's latest earlier case (closed longer ago than "
        "SODAN_ROUTING_REOPEN_WITHIN_MIN): the console links the history",
    )
    intake: bool = Field(
        default=False,
        description="The client is answering the intake questionnaire (アンケート中): not "
        "assigned until case.intake_finished",
    )


class CaseOpened(Envelope[CaseOpenedV1]):
    TYPE = "case.opened"


class CaseIntakeFinishedV1(Payload):
    """The intake questionnaire (事前アンケート) of a case ended; the answers so far.

    age_group and region are the report's labels; None: skipped or not asked."""

    case_id: UUID
    client_id: UUID
    # a plain string, not a Literal: a new reason must not make the event invalid
    outcome: str = Field(
        description="completed, declined (the terms), not_an_answer (the client wrote "
        "instead: queued at once), urgent (triage: queued at once), timeout, closed"
    )
    consent: str | None = Field(default=None, description="同意 / 同意しない; None: skipped")
    age_group: str | None = Field(default=None, description="10代以下 … 60代以上, 不明")
    region: str | None = Field(default=None, description="北勢 … 東紀州, 県外, 不明")
    gender_identity: Sealed | None = Field(
        default=None,
        description="In the client's own words (purpose 'intake.gender_identity'), or 不明",
    )


class CaseIntakeFinished(Envelope[CaseIntakeFinishedV1]):
    TYPE = "case.intake_finished"


class CaseAssignedV1(Payload):
    case_id: UUID
    client_id: UUID
    counsellor_id: UUID
    previous_counsellor_id: UUID | None = None
    how: Literal["auto", "supervisor", "self"] = "auto"


class CaseAssigned(Envelope[CaseAssignedV1]):
    TYPE = "case.assigned"


class CaseUrgencyChangedV1(Payload):
    case_id: UUID
    client_id: UUID
    urgency: UrgencyLevel
    score: float
    cause_message_event_id: UUID


class CaseUrgencyChanged(Envelope[CaseUrgencyChangedV1]):
    TYPE = "case.urgency_changed"


class CaseClosedV1(Payload):
    case_id: UUID
    client_id: UUID
    closed_by: UUID | None = Field(default=None, description="Staff id; None when automatic")
    outcome: str | None = None
    # Optional facts for the monthly report, set when known (the closing form
    # or intake questionnaire); a report shows 未回答 where they are missing.
    topics: list[str] = Field(default_factory=list, description="Topic categories (相談内容)")
    age_group: str | None = Field(default=None, description="e.g. 10代以下, 20代 … 60代以上")
    region: str | None = Field(default=None, description="e.g. 北勢, 中勢, 南勢志摩, 伊賀, 東紀州")
    gender_identity: str | None = Field(default=None, description="As the client answered")
    # a plain string, not a Literal: a new reason must not make the event invalid
    refused: str | None = Field(
        default=None,
        description="The desk turned the case away: out_of_hours (時間外), suspended (受付停止)",
    )


class CaseClosed(Envelope[CaseClosedV1]):
    TYPE = "case.closed"


class CaseReopenedV1(Payload):
    """The client wrote again soon after the close: the same case is open again."""

    case_id: UUID
    client_id: UUID
    message_event_id: UUID = Field(description="The message that reopened it")
    previous_counsellor_id: UUID | None = Field(
        default=None, description="Who handled it; it goes back to them when they are free"
    )
    urgency: UrgencyLevel = "normal"


class CaseReopened(Envelope[CaseReopenedV1]):
    TYPE = "case.reopened"


class CaseHoldChangedV1(Payload):
    """保留: the case waits for the client; it stays with its counsellor."""

    case_id: UUID
    client_id: UUID
    counsellor_id: UUID
    on_hold: bool
    # a plain string: a new cause must not make the event invalid
    by: str = Field(
        default="counsellor",
        description="counsellor (put on hold / resumed), client (their message resumed it)",
    )


class CaseHoldChanged(Envelope[CaseHoldChangedV1]):
    TYPE = "case.hold_changed"


class CaseHandedOverV1(Payload):
    """A counsellor handed their case to a colleague (or back to the queue)."""

    case_id: UUID
    client_id: UUID
    from_counsellor_id: UUID
    to_counsellor_id: UUID | None = Field(description="None: back to the queue")
    note: Sealed | None = Field(
        default=None, description="引き継ぎメモ (staff-only, sealed 'handover.note')"
    )


class CaseHandedOver(Envelope[CaseHandedOverV1]):
    TYPE = "case.handed_over"


class CaseCloseRequestedV1(Payload):
    """A counsellor asked to close a 緊急 case: a supervisor confirms or declines."""

    case_id: UUID
    client_id: UUID
    staff_id: UUID = Field(description="The counsellor asking")
    outcome: str | None = None
    topics: list[str] = Field(default_factory=list)
    send_survey: bool = False


class CaseCloseRequested(Envelope[CaseCloseRequestedV1]):
    TYPE = "case.close_requested"


class CaseCloseDeclinedV1(Payload):
    case_id: UUID
    client_id: UUID
    staff_id: UUID = Field(description="The supervisor who declined")
    requested_by: UUID


class CaseCloseDeclined(Envelope[CaseCloseDeclinedV1]):
    TYPE = "case.close_declined"


class CaseCommandRefusedV1(Payload):
    """A staff command routing could not apply, and why (the case is unchanged)."""

    case_id: UUID
    client_id: UUID | None = None
    staff_id: UUID
    command: str = Field(description="The command's type, e.g. console.close_case")
    command_id: UUID
    reason: str = Field(description="Why, in Japanese, for the staff member")


class CaseCommandRefused(Envelope[CaseCommandRefusedV1]):
    TYPE = "case.command_refused"


class CaseSurveySentV1(Payload):
    case_id: UUID
    client_id: UUID


class CaseSurveySent(Envelope[CaseSurveySentV1]):
    TYPE = "case.survey_sent"


class CaseSurveyAnsweredV1(Payload):
    case_id: UUID
    client_id: UUID
    answer: str = Field(description="One of sodan_shared.closing.SURVEY_ANSWERS")


class CaseSurveyAnswered(Envelope[CaseSurveyAnsweredV1]):
    TYPE = "case.survey_answered"


class CriticalCloseAuditedV1(Payload):
    """Each step of closing a 緊急 case: requested, confirmed, declined, closed directly."""

    case_id: UUID
    client_id: UUID
    staff_id: UUID
    step: Literal["requested", "confirmed", "declined", "closed_by_supervisor"]
    requested_by: UUID | None = None
    outcome: str | None = None


class CriticalCloseAudited(Envelope[CriticalCloseAuditedV1]):
    TYPE = "audit.critical_close"


class CaseReturnedToQueueV1(Payload):
    case_id: UUID
    client_id: UUID
    previous_counsellor_id: UUID
    reason: Literal["counsellor_unavailable", "unanswered"] = Field(
        description="Why the case left its counsellor: they went offline, or did not answer "
        "within SODAN_ROUTING_UNANSWERED_AFTER_MIN (when SODAN_ROUTING_UNANSWERED_REQUEUE)"
    )


class CaseReturnedToQueue(Envelope[CaseReturnedToQueueV1]):
    TYPE = "case.returned_to_queue"


class CongestionChangedV1(Payload):
    """The desk's congestion level or open state changed; the live measures with it."""

    level: Literal["normal", "busy", "suspended"] = Field(description="通常 / 混雑 / 受付停止")
    previous_level: Literal["normal", "busy", "suspended"] | None = None
    desk_open: bool = Field(description="Within consultation hours")
    queue_length: int
    active_counsellors: int
    capacity: int
    free_capacity: int
    avg_handling_s: float | None = Field(description="Over the window; None: nothing closed")
    avg_first_response_s: float | None
    longest_wait_s: float
    next_wait_s: float | None = Field(description="Estimate for a case queued now")
    window_min: float
    next_opening: AwareDatetime | None = None


class CongestionChanged(Envelope[CongestionChangedV1]):
    TYPE = "case.congestion_changed"


class CaseUnansweredV1(Payload):
    """An assigned case has had no counsellor message for too long: alert supervisors."""

    case_id: UUID
    client_id: UUID
    counsellor_id: UUID
    assigned_at: AwareDatetime
    waited_s: float = Field(description="Seconds since assignment without a counsellor message")
    returned_to_queue: bool = False


class CaseUnanswered(Envelope[CaseUnansweredV1]):
    TYPE = "case.unanswered"


class AutoTextChangedV1(Payload):
    """Outcome of an UpdateAutoText command (texts hold no personal data)."""

    key: str
    staff_id: UUID
    outcome: Literal["applied", "refused"]
    error: str | None = Field(default=None, description="Why it was refused, for the supervisor")
    body: str | None = Field(default=None, description="The text now in use (applied)")
    command_id: UUID


class AutoTextChanged(Envelope[AutoTextChangedV1]):
    TYPE = "audit.auto_text_changed"


class ClosingCategoriesChangedV1(Payload):
    """Outcome of an UpdateClosingCategories command: the lists routing now accepts."""

    staff_id: UUID
    outcome: Literal["applied", "refused"]
    error: str | None = Field(default=None, description="Why it was refused, for the supervisor")
    outcomes: list[str] | None = Field(default=None, description="対応結果 now in use (applied)")
    topics: list[str] | None = Field(default=None, description="相談内容 now in use (applied)")
    command_id: UUID


class ClosingCategoriesChanged(Envelope[ClosingCategoriesChangedV1]):
    TYPE = "audit.closing_categories_changed"


class HoursChangedV1(Payload):
    """Outcome of a ReplaceHours command."""

    staff_id: UUID
    outcome: Literal["applied", "refused"]
    error: str | None = None
    rules: int = Field(description="How many rules the calendar now has (applied)")
    next_opening: AwareDatetime | None = None
    command_id: UUID
    calendar: list[HoursRuleV1] | None = Field(
        default=None, description="The rules now in use (applied), for the console's editor"
    )


class HoursChanged(Envelope[HoursChangedV1]):
    TYPE = "audit.hours_changed"


class AssignmentModeChangedV1(Payload):
    """The desk's assignment mode, after a supervisor's SetAssignmentMode."""

    mode: Literal["auto", "manual"] = Field(description="自動割当 / 手動ピックアップ")
    previous_mode: Literal["auto", "manual"]
    staff_id: UUID
    command_id: UUID


class AssignmentModeChanged(Envelope[AssignmentModeChangedV1]):
    TYPE = "case.assignment_mode_changed"


class AssignmentRefusedV1(Payload):
    """A PickCase or ReassignCase routing could not carry out, and why."""

    case_id: UUID
    staff_id: UUID = Field(description="Who asked")
    to_staff_id: UUID = Field(description="Who would have got the case")
    # a plain string, not a Literal: a new reason must not make the event invalid
    reason: str = Field(
        description="not_open, not_queued, already_assigned, auto_mode, unknown_staff, "
        "not_available, over_capacity, critical_cap, desk_closed"
    )
    message: str = Field(description="Japanese, for the staff member who asked")
    command_id: UUID


class AssignmentRefused(Envelope[AssignmentRefusedV1]):
    TYPE = "case.assignment_refused"
