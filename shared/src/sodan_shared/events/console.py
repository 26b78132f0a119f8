"""Events and commands produced by console-api (staff actions)."""

from __future__ import annotations

from datetime import date, time
from typing import Literal
from uuid import UUID

from pydantic import Field

from sodan_shared.events.envelope import Envelope, Payload

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
    outcome: str | None = Field(default=None, max_length=200)


class CloseCase(Envelope[CloseCaseV1]):
    """Command to routing: a counsellor closes a case."""

    TYPE = "console.close_case"


class UpdateAutoTextV1(Payload):
    key: str = Field(max_length=32, description="Which automatic text, e.g. out_of_hours")
    body: str = Field(max_length=2000, description="Japanese text with {placeholders}")
    staff_id: UUID = Field(description="The supervisor who edited it")


class UpdateAutoText(Envelope[UpdateAutoTextV1]):
    """Command to routing: a supervisor edits an automatic text (validated there)."""

    TYPE = "console.update_auto_text"


class HoursRuleV1(Payload):
    kind: Literal["weekly", "dated", "closed"]
    weekday: int | None = Field(default=None, ge=0, le=6, description="0 = Monday (weekly)")
    day: date | None = Field(default=None, description="dated / closed")
    starts: time | None = None
    ends: time | None = Field(default=None, description="Not after starts: past midnight")
    holidays: Literal["any", "skip", "only"] = "any"
    note: str | None = Field(default=None, max_length=200)


class ReplaceHoursV1(Payload):
    rules: list[HoursRuleV1] = Field(max_length=200)
    staff_id: UUID


class ReplaceHours(Envelope[ReplaceHoursV1]):
    """Command to routing: a supervisor replaces the consultation calendar."""

    TYPE = "console.replace_hours"
