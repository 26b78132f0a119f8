"""Events produced by the routing service (the case lifecycle)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from sodan_shared.events.envelope import Envelope, Payload
from sodan_shared.events.triage import UrgencyLevel


class CaseOpenedV1(Payload):
    case_id: UUID
    client_id: UUID
    client_no: int
    first_message_event_id: UUID
    urgency: UrgencyLevel = "normal"
    queued_at: AwareDatetime


class CaseOpened(Envelope[CaseOpenedV1]):
    TYPE = "case.opened"


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


class CaseReturnedToQueueV1(Payload):
    case_id: UUID
    client_id: UUID
    previous_counsellor_id: UUID
    reason: Literal["counsellor_unavailable"] = Field(
        description="Why the case left its counsellor: they went away, on break or offline"
    )


class CaseReturnedToQueue(Envelope[CaseReturnedToQueueV1]):
    TYPE = "case.returned_to_queue"
