"""Request and response bodies of the console API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sodan_shared.events.console import Presence, StaffRole
from sodan_shared.events.line import PersonalDataKind
from sodan_shared.events.triage import UrgencyLevel


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class LoginIn(_In):
    login: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class PresenceIn(_In):
    presence: Presence


class ReplyIn(_In):
    text: str = Field(min_length=1, max_length=5000)

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("blank")
        return value


class EmergencyModeIn(_In):
    enabled: bool
    reason: str | None = Field(default=None, max_length=500, validate_default=True)

    @field_validator("reason")
    @classmethod
    def _reason_when_enabling(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Switching on fetches a client's photos: the audit trail must say why.
        if info.data.get("enabled") and (value is None or not value.strip()):
            raise ValueError("blank")
        return value


class StaffPublic(BaseModel):
    staff_id: UUID
    login: str
    display_name: str
    role: StaffRole
    presence: Presence
    capacity: int


CaseStatus = Literal["queued", "assigned", "closed"]


class CasePublic(BaseModel):
    case_id: UUID
    client_label: str = Field(description="C-000123; the LINE user id is never exposed")
    status: CaseStatus
    urgency: UrgencyLevel
    opened_at: datetime
    assigned_to: UUID | None
    assignee_name: str | None
    assigned_at: datetime | None
    closed_at: datetime | None
    last_message_at: datetime | None
    can_act: bool = Field(description="Whether the viewer may reply to and close it")
    client_blocked: bool = Field(
        default=False,
        description="The client blocked the account: replies cannot reach them (case detail only)",
    )
    emergency_mode: bool = Field(
        default=False, description="緊急対応モード: the client's media are fetched and stored"
    )
    can_switch_emergency_mode: bool = Field(
        default=False, description="Whether the viewer may switch emergency mode (supervisors)"
    )


class CasesPublic(BaseModel):
    items: list[CasePublic]
    next_cursor: str | None


class MediaPublic(BaseModel):
    status: Literal["pending", "stored", "failed"]
    content_type: str | None = None
    size: int | None = None
    error: str | None = Field(default=None, description="expired, too_large, unavailable, …")
    url: str | None = Field(default=None, description="Where a stored item is served (audited)")


class LocationPublic(BaseModel):
    title: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None


class MessagePublic(BaseModel):
    message_id: UUID
    case_id: UUID | None
    direction: Literal["in", "out"]
    kind: str = Field(
        description="text, sticker, image, … or 'unsent': a message the client unsent"
    )
    text: str | None = Field(description="Decrypted text; None for non-text or unreadable")
    unreadable: bool = False
    sent_at: datetime
    urgency: UrgencyLevel | None
    matched_terms: list[str]
    personal_data: list[PersonalDataKind] = Field(
        default_factory=list, description="Kinds of personal data the text seems to contain"
    )
    late: bool = Field(default=False, description="LINE delivered it later than usual")
    delivery: Literal["pending", "sent", "failed"] | None
    delivery_error: str | None = Field(
        default=None,
        description="Why it failed: LINE's status and message, or a reason code "
        "(client_ended_conversation, client_erased, client_unknown, channel_unknown)",
    )
    staff_name: str | None
    automatic: bool = Field(
        default=False, description="Sent by the system (e.g. the refused-media notice)"
    )
    media: MediaPublic | None = Field(default=None, description="Emergency mode only")
    location: LocationPublic | None = Field(default=None, description="Emergency mode only")


class CaseDetail(BaseModel):
    case: CasePublic
    messages: list[MessagePublic]


class Accepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    message: MessagePublic | None = None
