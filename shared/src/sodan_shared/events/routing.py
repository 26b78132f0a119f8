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
