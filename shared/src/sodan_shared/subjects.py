"""Every subject, stream and durable consumer name in one place.

Services never write a subject string literal; they import it from here. A
subject carries its event's version (``.v1``) so a breaking change is a new
subject that old and new consumers can share a stream with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sodan_shared.events.backup import BackupCompleted, BackupFailed
from sodan_shared.events.console import (
    CloseCase,
    DecideClose,
    EmergencyModeAudited,
    EmergencyModeSet,
    HandOverCase,
    HoldCase,
    MediaViewed,
    PickCase,
    ReassignCase,
    ReplaceHours,
    SetAssignmentMode,
    StaffCapacitySet,
    StaffPresenceChanged,
    UpdateAutoText,
    UpdateClosingCategories,
    UpdateLexicon,
)
from sodan_shared.events.envelope import Envelope
from sodan_shared.events.line import (
    ClientFollowed,
    ClientUnfollowed,
    LoadingRequested,
    MarkReadRequested,
    MediaFetchFailed,
    MediaStored,
    MessageReceived,
    MessageUnsent,
    PostbackReceived,
    PushRequested,
    PushResult,
    ReplyRequested,
    UnknownEventReceived,
    WebhookRejected,
)
from sodan_shared.events.reporting import MonthlyReportReady
from sodan_shared.events.routing import (
    AssignmentModeChanged,
    AssignmentRefused,
    AutoTextChanged,
    CaseAssigned,
    CaseClosed,
    CaseCloseDeclined,
    CaseCloseRequested,
    CaseCommandRefused,
    CaseHandedOver,
    CaseHoldChanged,
    CaseIntakeFinished,
    CaseOpened,
    CaseReopened,
    CaseReturnedToQueue,
    CaseSurveyAnswered,
    CaseSurveySent,
    CaseUnanswered,
    CaseUrgencyChanged,
    ClosingCategoriesChanged,
    CongestionChanged,
    CriticalCloseAudited,
    HoursChanged,
)
from sodan_shared.events.triage import LexiconChanged, LexiconRejected, MessageScored


@dataclass(frozen=True)
class StreamSpec:
    name: str
    subjects: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class Subject:
    name: str
    stream: StreamSpec
    event: type[Envelope[Any]]


LINE_IN = StreamSpec("LINE_IN", ("line.in.>",), "Everything LINE sent us, as accepted by ingress")
LINE_OUT = StreamSpec("LINE_OUT", ("line.out.>",), "What we ask LINE to deliver, and the outcome")
TRIAGE = StreamSpec("TRIAGE", ("triage.>",), "Urgency scores of client messages")
CASES = StreamSpec("CASES", ("case.>",), "The case lifecycle, decided by routing")
CONSOLE = StreamSpec("CONSOLE", ("console.>",), "Staff actions and commands from console-api")
AUDIT = StreamSpec("AUDIT", ("audit.>",), "Security-relevant facts: forged webhooks, access")
BACKUP = StreamSpec("BACKUP", ("backup.>",), "Outcomes of the daily database dumps")
REPORTS = StreamSpec("REPORTS", ("report.>",), "Reports the reporting service produced")
DEADLETTER = StreamSpec(
    "DEADLETTER",
    ("deadletter.>",),
    "Messages a consumer kept failing on, copied as they were (deadletter.<subject>)",
)

STREAMS: tuple[StreamSpec, ...] = (
    LINE_IN,
    LINE_OUT,
    TRIAGE,
    CASES,
    CONSOLE,
    AUDIT,
    BACKUP,
    DEADLETTER,
    REPORTS,
)

MESSAGE_RECEIVED = Subject("line.in.message.v1", LINE_IN, MessageReceived)
PUSH_REQUESTED = Subject("line.out.push.v1", LINE_OUT, PushRequested)
PUSH_RESULT = Subject("line.out.result.v1", LINE_OUT, PushResult)
WEBHOOK_REJECTED = Subject("audit.webhook.rejected.v1", AUDIT, WebhookRejected)
MESSAGE_SCORED = Subject("triage.scored.v1", TRIAGE, MessageScored)
CASE_OPENED = Subject("case.opened.v1", CASES, CaseOpened)
CASE_ASSIGNED = Subject("case.assigned.v1", CASES, CaseAssigned)
CASE_URGENCY_CHANGED = Subject("case.urgency_changed.v1", CASES, CaseUrgencyChanged)
CASE_CLOSED = Subject("case.closed.v1", CASES, CaseClosed)
CASE_REQUEUED = Subject("case.requeued.v1", CASES, CaseReturnedToQueue)
STAFF_PRESENCE_CHANGED = Subject("console.staff.presence.v1", CONSOLE, StaffPresenceChanged)
CLOSE_CASE = Subject("console.case.close.v1", CONSOLE, CloseCase)
BACKUP_COMPLETED = Subject("backup.completed.v1", BACKUP, BackupCompleted)
BACKUP_FAILED = Subject("backup.failed.v1", BACKUP, BackupFailed)
REPLY_REQUESTED = Subject("line.out.reply.v1", LINE_OUT, ReplyRequested)
CLIENT_FOLLOWED = Subject("line.in.follow.v1", LINE_IN, ClientFollowed)
CLIENT_UNFOLLOWED = Subject("line.in.unfollow.v1", LINE_IN, ClientUnfollowed)
POSTBACK_RECEIVED = Subject("line.in.postback.v1", LINE_IN, PostbackReceived)
MESSAGE_UNSENT = Subject("line.in.unsend.v1", LINE_IN, MessageUnsent)
UNKNOWN_EVENT_RECEIVED = Subject("line.in.unknown.v1", LINE_IN, UnknownEventReceived)
MEDIA_STORED = Subject("line.in.media_stored.v1", LINE_IN, MediaStored)
MEDIA_FETCH_FAILED = Subject("line.in.media_failed.v1", LINE_IN, MediaFetchFailed)
EMERGENCY_MODE_SET = Subject("console.case.emergency_mode.v1", CONSOLE, EmergencyModeSet)
EMERGENCY_MODE_AUDITED = Subject("audit.emergency_mode.v1", AUDIT, EmergencyModeAudited)
MEDIA_VIEWED = Subject("audit.media_viewed.v1", AUDIT, MediaViewed)
LOADING_REQUESTED = Subject("line.out.loading.v1", LINE_OUT, LoadingRequested)
MARK_READ_REQUESTED = Subject("line.out.mark_read.v1", LINE_OUT, MarkReadRequested)
UPDATE_LEXICON = Subject("console.lexicon.update.v1", CONSOLE, UpdateLexicon)
LEXICON_REJECTED = Subject("triage.lexicon.rejected.v1", TRIAGE, LexiconRejected)
LEXICON_CHANGED = Subject("audit.lexicon.changed.v1", AUDIT, LexiconChanged)
MONTHLY_REPORT_READY = Subject("report.monthly_ready.v1", REPORTS, MonthlyReportReady)
CONGESTION_CHANGED = Subject("case.congestion.v1", CASES, CongestionChanged)
UPDATE_AUTO_TEXT = Subject("console.auto_text.update.v1", CONSOLE, UpdateAutoText)
REPLACE_HOURS = Subject("console.hours.replace.v1", CONSOLE, ReplaceHours)
AUTO_TEXT_CHANGED = Subject("audit.auto_text.changed.v1", AUDIT, AutoTextChanged)
HOURS_CHANGED = Subject("audit.hours.changed.v1", AUDIT, HoursChanged)
CASE_UNANSWERED = Subject("case.unanswered.v1", CASES, CaseUnanswered)
# the case lifecycle beyond open/assign/close: 保留, 転送, reopening, closing a 緊急 case
HOLD_CASE = Subject("console.case.hold.v1", CONSOLE, HoldCase)
HAND_OVER_CASE = Subject("console.case.hand_over.v1", CONSOLE, HandOverCase)
DECIDE_CLOSE = Subject("console.case.close_decision.v1", CONSOLE, DecideClose)
CASE_REOPENED = Subject("case.reopened.v1", CASES, CaseReopened)
CASE_HOLD_CHANGED = Subject("case.hold_changed.v1", CASES, CaseHoldChanged)
CASE_HANDED_OVER = Subject("case.handed_over.v1", CASES, CaseHandedOver)
CASE_CLOSE_REQUESTED = Subject("case.close_requested.v1", CASES, CaseCloseRequested)
CASE_CLOSE_DECLINED = Subject("case.close_declined.v1", CASES, CaseCloseDeclined)
CASE_COMMAND_REFUSED = Subject("case.command_refused.v1", CASES, CaseCommandRefused)
CASE_SURVEY_SENT = Subject("case.survey_sent.v1", CASES, CaseSurveySent)
CASE_SURVEY_ANSWERED = Subject("case.survey_answered.v1", CASES, CaseSurveyAnswered)
CRITICAL_CLOSE_AUDITED = Subject("audit.critical_close.v1", AUDIT, CriticalCloseAudited)
CASE_INTAKE_FINISHED = Subject("case.intake_finished.v1", CASES, CaseIntakeFinished)
SET_ASSIGNMENT_MODE = Subject("console.assignment_mode.set.v1", CONSOLE, SetAssignmentMode)
PICK_CASE = Subject("console.case.pick.v1", CONSOLE, PickCase)
REASSIGN_CASE = Subject("console.case.reassign.v1", CONSOLE, ReassignCase)
STAFF_CAPACITY_SET = Subject("audit.staff_capacity.v1", AUDIT, StaffCapacitySet)
ASSIGNMENT_MODE_CHANGED = Subject("case.assignment_mode.v1", CASES, AssignmentModeChanged)
ASSIGNMENT_REFUSED = Subject("case.assignment_refused.v1", CASES, AssignmentRefused)
UPDATE_CLOSING_CATEGORIES = Subject(
    "console.closing_categories.update.v1", CONSOLE, UpdateClosingCategories
)
CLOSING_CATEGORIES_CHANGED = Subject(
    "audit.closing_categories.changed.v1", AUDIT, ClosingCategoriesChanged
)

ALL_SUBJECTS: tuple[Subject, ...] = (
    MESSAGE_RECEIVED,
    PUSH_REQUESTED,
    PUSH_RESULT,
    WEBHOOK_REJECTED,
    MESSAGE_SCORED,
    CASE_OPENED,
    CASE_ASSIGNED,
    CASE_URGENCY_CHANGED,
    CASE_CLOSED,
    CASE_REQUEUED,
    STAFF_PRESENCE_CHANGED,
    CLOSE_CASE,
    BACKUP_COMPLETED,
    BACKUP_FAILED,
    REPLY_REQUESTED,
    CLIENT_FOLLOWED,
    CLIENT_UNFOLLOWED,
    POSTBACK_RECEIVED,
    MESSAGE_UNSENT,
    UNKNOWN_EVENT_RECEIVED,
    MEDIA_STORED,
    MEDIA_FETCH_FAILED,
    EMERGENCY_MODE_SET,
    EMERGENCY_MODE_AUDITED,
    MEDIA_VIEWED,
    LOADING_REQUESTED,
    MARK_READ_REQUESTED,
    UPDATE_LEXICON,
    LEXICON_REJECTED,
    LEXICON_CHANGED,
    MONTHLY_REPORT_READY,
    CONGESTION_CHANGED,
    UPDATE_AUTO_TEXT,
    REPLACE_HOURS,
    AUTO_TEXT_CHANGED,
    HOURS_CHANGED,
    CASE_UNANSWERED,
    HOLD_CASE,
    HAND_OVER_CASE,
    DECIDE_CLOSE,
    CASE_REOPENED,
    CASE_HOLD_CHANGED,
    CASE_HANDED_OVER,
    CASE_CLOSE_REQUESTED,
    CASE_CLOSE_DECLINED,
    CASE_COMMAND_REFUSED,
    CASE_SURVEY_SENT,
    CASE_SURVEY_ANSWERED,
    CRITICAL_CLOSE_AUDITED,
    CASE_INTAKE_FINISHED,
    SET_ASSIGNMENT_MODE,
    PICK_CASE,
    REASSIGN_CASE,
    STAFF_CAPACITY_SET,
    ASSIGNMENT_MODE_CHANGED,
    ASSIGNMENT_REFUSED,
    UPDATE_CLOSING_CATEGORIES,
    CLOSING_CATEGORIES_CHANGED,
)


def subject_for(event: Envelope[Any]) -> Subject:
    for subject in ALL_SUBJECTS:
        if type(event) is subject.event:
            return subject
    raise LookupError(f"no subject for event type {type(event).__name__}")
